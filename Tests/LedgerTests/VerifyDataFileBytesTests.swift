import Foundation
@testable import Ledger
import XCTest

/// The report's data file size comes from `stat` (DataFileBytes.swift): the same bytes FileManager reports.
final class VerifyDataFileBytesTests: XCTestCase {
    func testTheReportedSizeIsTheDataFilesSize() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(try validRecord(matter: "A"))
        let report = try t.ledger.verify()
        XCTAssertGreaterThan(report.ledgerBytes, 0)
        XCTAssertEqual(report.ledgerBytes, t.ledger.dataFileSize())
        XCTAssertEqual(t.ledger.dataFileBytes(), t.ledger.dataFileSize())
    }
}
