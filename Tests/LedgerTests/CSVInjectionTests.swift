import Foundation
@testable import Ledger
import LedgerBundle
import LedgerFormat
import RecordFormats
import XCTest

/// Every CSV the tool writes goes through `CSVWriter`: a cell starting with = + - @ tab or CR is written with a
/// leading single quote, so a spreadsheet shows it instead of running it (OWASP "CSV Injection").
final class CSVInjectionTests: XCTestCase {
    func testPrivilegeLogEscapesFormulaCellsAndStillVerifies() throws {
        let t = try TestLedger()
        let formula = "=HYPERLINK(\"http://evil.example\",\"open\")"
        _ = try t.ledger.append([
            try validRecord(["author": .string(formula), "summary": "withheld"], matter: "=M-7"),
            try validRecord(["author": "@SUM(A1:A9)", "summary": "withheld"], matter: "=M-7"),
            try validRecord(["author": "-2+3", "summary": "withheld"], matter: "=M-7"),
        ])
        let out = t.temp.file("b.zip")
        _ = try t.ledger.export(ExportOptions(matters: ["=M-7"]), to: out)
        let log = String(decoding: try XCTUnwrap(try BundleReader.read(out)[BundleFormat.privilegeLog]), as: UTF8.self)
        let rows = log.split(separator: "\r\n").dropFirst()
        XCTAssertFalse(rows.isEmpty)
        for row in rows {
            // seq, occurredAt, matter, author, …: no cell after the seq starts with a formula trigger.
            XCTAssertTrue(row.contains(",'=M-7,"), String(row))
            XCTAssertFalse(row.contains(",=") || row.contains(",@") || row.contains(",-") || row.contains(",+"),
                           String(row))
        }
        XCTAssertTrue(log.contains(#","'=HYPERLINK(""http://evil.example"",""open"")","#), log)
        XCTAssertTrue(log.contains(",'@SUM(A1:A9),"), log)
        XCTAssertTrue(log.contains(",'-2+3,"), log)
        // The verifier applies the same rule, so the escaped log still matches the disclosures.
        let report = try BundleVerifier.verify(path: out,
            options: BundleVerifyOptions(pinnedVerifierKey: t.ledger.storedVerifierKey))
        XCTAssertTrue(report.isValid, "\(report.violations)")
    }
}
