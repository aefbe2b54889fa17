import Foundation
@testable import Ledger
import LedgerBundle
import LedgerFormat
import MerkleLog
import RecordFormats
import XCTest

final class ExportTests: XCTestCase {
    func testProfilePrecedence() throws {
        var p = ExportProfile.insurer
        XCTAssertEqual(p.decide("channel", privileged: false), .reveal)
        XCTAssertEqual(p.decide("summary", privileged: false), .redact(.attorneyClientPrivilege))
        XCTAssertEqual(p.decide("sourceId", privileged: false), .redact(.notRequested))
        XCTAssertEqual(p.decide("x-anything", privileged: false), .redact(.attorneyClientPrivilege))
        XCTAssertEqual(ExportProfile.metadata.decide("author", privileged: false), .redact(.personalData))
        XCTAssertEqual(ExportProfile.full.decide("x-anything", privileged: false), .reveal)
        XCTAssertEqual(ExportProfile.full.decide("summary", privileged: true), .redact(.attorneyClientPrivilege))
        XCTAssertEqual(ExportProfile.full.decide("author", privileged: true), .reveal)
        XCTAssertTrue(ExportProfile.full.revealsContent)
        XCTAssertFalse(ExportProfile.insurer.revealsContent)
        try p.applyOverrides(reveal: ["summary"], redact: ["channel:work product", "kind"])
        XCTAssertEqual(p.decide("summary", privileged: true), .reveal)
        XCTAssertEqual(p.decide("channel", privileged: false), .redact(.workProduct))
        XCTAssertEqual(p.decide("kind", privileged: false), .redact(.attorneyClientPrivilege))
        var q = ExportProfile.insurer
        XCTAssertThrowsError(try q.applyOverrides(reveal: ["summary"], redact: ["summary"]))
        XCTAssertThrowsError(try q.applyOverrides(reveal: [], redact: ["summary:nope"]))
        XCTAssertThrowsError(try q.applyOverrides(reveal: ["bogus"], redact: []))
    }

    private func populated() throws -> TestLedger {
        let t = try TestLedger()
        _ = try t.ledger.append([
            try validRecord(["client": "Secret Client", "summary": "SECRET SUMMARY", "tags": ["t"]]),
            try validRecord(["summary": "other matter"], matter: "M-2"),
            try validRecord(["subject": "PRIV", "privileged": true]),
        ])
        return t
    }

    func testExportVerifiesAndCommitsToRedactedDigests() throws {
        let t = try populated()
        let out = t.temp.file("b.zip")
        let summary = try t.ledger.export(ExportOptions(matters: ["M-1"]), to: out)
        XCTAssertEqual(summary.entries, 2)
        XCTAssertEqual(summary.treeSize, 3)
        let report = try BundleVerifier.verify(path: out,
            options: BundleVerifyOptions(pinnedVerifierKey: t.ledger.storedVerifierKey))
        XCTAssertTrue(report.isValid, "\(report.violations)")
        XCTAssertEqual(report.entries, 2)
        XCTAssertEqual(report.redactions, summary.redactedFields)

        // The redacted digests are exactly the leaf's disclosure digests.
        let files = try BundleReader.read(out)
        let entries = try allEntries(t.ledger, EntryFilter(matter: "M-1"))
        let lines = String(decoding: files[BundleFormat.entries]!, as: UTF8.self).split(separator: "\n")
        for (entry, line) in zip(entries, lines) {
            for disclosure in entry.disclosures
                where ["client", "summary", "tags", "subject", "privileged"].contains(disclosure.name) {
                XCTAssertTrue(line.contains(disclosure.digest.hex), "digest of \(disclosure.name) missing")
                XCTAssertFalse(line.contains(disclosure.encoded), "\(disclosure.name) must not be disclosed")
            }
        }
        for (_, bytes) in files {
            let text = String(decoding: bytes, as: UTF8.self)
            XCTAssertFalse(text.contains("SECRET") || text.contains("Secret Client") || text.contains("PRIV\""))
        }
        XCTAssertThrowsError(try t.ledger.export(ExportOptions(matters: ["M-1"]), to: out)) { error in
            guard case ExportError.outputExists = error else { return XCTFail("\(error)") }
        }
    }

    func testUnknownMatterAndEmptySelection() throws {
        let t = try populated()
        XCTAssertThrowsError(try t.ledger.export(ExportOptions(matters: ["M-1", "nope"]),
                                                 to: t.temp.file("x.zip"))) { error in
            guard case ExportError.unknownMatter("nope") = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try t.ledger.export(ExportOptions(matters: ["M-1"],
                                                               from: Timestamp.parseRFC3339("2030-01-01T00:00:00Z")),
                                                 to: t.temp.file("y.zip"))) { error in
            guard case ExportError.emptySelection = error else { return XCTFail("\(error)") }
        }
    }

    func testSinceCheckpointFromAnotherLogIsRefused() throws {
        let t = try populated()
        let other = try TestLedger()
        _ = try other.ledger.append([try validRecord()])
        let foreign = try other.ledger.signCheckpoint()
        XCTAssertThrowsError(try t.ledger.export(ExportOptions(matters: ["M-1"], sinceCheckpoint: foreign),
                                                 to: t.temp.file("z.zip")))
        let own = try t.ledger.signCheckpoint()
        _ = try t.ledger.append([try validRecord()])
        let out = t.temp.file("c.zip")
        _ = try t.ledger.export(ExportOptions(matters: ["M-1"], sinceCheckpoint: own), to: out)
        let report = try BundleVerifier.verify(path: out, options: BundleVerifyOptions(trustedCheckpoint: own))
        XCTAssertTrue(report.isValid && report.consistencyChecked && report.trustedChecked, "\(report.violations)")
    }
}
