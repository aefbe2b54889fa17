import Foundation
@testable import Ledger
import LedgerBundle
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium
import XCTest

/// The Swift verifier's retention.jsonl checks, in process: a destroyed matter's metadata-only bundle, and tampered
/// copies of it written with the bundle's own zip writer (violations with their line, expected and found values).
/// ExportRetentionTests (LedgerCLITests) runs both verifiers' command lines on the same kind of bundle.
final class RetentionBundleTests: XCTestCase {
    /// M-1 gets two entries (seqs 0 and 2) and is destroyed; M-2 one (seq 1). Returns the ledger and the bundle.
    private func destroyedBundle() throws -> (TestLedger, [String: [UInt8]]) {
        let t = try TestLedger()
        _ = try t.ledger.append([try validRecord(["summary": "SECRET SUMMARY"])])
        _ = try t.ledger.append([try validRecord(matter: "M-2")])
        _ = try t.ledger.append([try validRecord(["kind": "advice"])])
        let tag = try t.ledger.requireKeys().matterTag("M-1")
        try t.ledger.commitEvents(operation: "shred") { _ in
            [.destroy(.init(matter: tag, entries: 2, seqRange: 0...2, keys: 1, keyEpoch: 0, retainUntil: nil,
                            beforeRetentionEnd: true, by: "r.manager", credential: "master", reason: "client asked"))]
        }
        let path = t.temp.file("destroyed.zip")
        _ = try t.ledger.export(ExportOptions(matters: ["M-1"]), to: path)
        return (t, try BundleReader.read(path))
    }

    /// Writes `files` as a bundle (the manifest's digests recomputed and signed with the firm's key) and verifies it with the ledger's key pinned.
    private func verify(_ files: [String: [UInt8]], _ t: TestLedger) throws -> BundleReport {
        var files = files
        try BundleManifestSupport.rewrite(&files, sign: t.ledger.manifestSigner)
        let members = try files.keys.sorted().map { try ZipMember.make($0, files[$0]!, method: .deflate) }
        var bytes = [UInt8]()
        try ZipWriter.write(members, date: Date(), to: { bytes.append(contentsOf: $0) })
        return try BundleVerifier.verify(data: Data(bytes),
                                         options: BundleVerifyOptions(pinnedVerifierKey: t.ledger.storedVerifierKey))
    }

    private func retentionLines(_ files: [String: [UInt8]]) -> [[UInt8]] {
        files[BundleFormat.retention]!.split(separator: 0x0a).map(Array.init)
    }

    private func joined(_ lines: [[UInt8]]) -> [UInt8] { lines.flatMap { $0 + [0x0a] } }

    func testMetadataOnlyBundleIsValidAndCounted() throws {
        let (t, files) = try destroyedBundle()
        XCTAssertEqual(files[BundleFormat.entries], [])
        XCTAssertEqual(retentionLines(files).count, 3)
        let report = try verify(files, t)
        XCTAssertEqual(report.violations, [])
        XCTAssertEqual(report.entries, 0)
        XCTAssertEqual(report.retentionEvents, 1)
        XCTAssertEqual(report.destroyedEntries, 2)
        XCTAssertTrue(report.summaryLines.contains("retention:    1 events, 2 destroyed entries"),
                      "\(report.summaryLines)")
        let json = JSONWriter.string(report.json)
        XCTAssertTrue(json.contains(#""retentionEvents":1"#) && json.contains(#""destroyedEntries":2"#), json)
        XCTAssertFalse(files.values.contains { String(decoding: $0, as: UTF8.self).contains("SECRET SUMMARY") })
    }

    func testAWithheldLastEntryNamesExpectedAndFound() throws {
        let (t, files) = try destroyedBundle()
        var changed = files
        var lines = retentionLines(files)
        lines.remove(at: 1)  // seq 2, the matter's last entry
        changed[BundleFormat.retention] = joined(lines)
        let report = try verify(changed, t)
        let completeness = report.violations.filter { $0.kind == .retentionCompleteness }
        XCTAssertEqual(report.violations.map(\.kind), [.retentionCompleteness, .manifest], "\(report.violations)")
        XCTAssertEqual(completeness.first?.line, 2, "the destroy event's line")
        XCTAssertEqual(completeness.first?.expected, "2 entries, seq 0–2")
        XCTAssertEqual(completeness.first?.found, "1 entries, seq 0–0")
    }

    func testLinesOutOfOrderAreNamedByLine() throws {
        let (t, files) = try destroyedBundle()
        var changed = files
        var lines = retentionLines(files)
        lines.swapAt(0, 1)
        changed[BundleFormat.retention] = joined(lines)
        let order = try verify(changed, t).violations.filter { $0.kind == .retentionOrder }
        XCTAssertEqual(order.map(\.line), [2])
        XCTAssertEqual(order.map(\.entry), [0])
    }

    func testALeafOfAnotherLedgerFails() throws {
        let (t, files) = try destroyedBundle()
        var changed = files
        var lines = retentionLines(files)
        guard case .object(var first) = try JSONParser.parse(lines[0]) else { return XCTFail("not an object") }
        var leaf = try Leaf.decode(Base64.decode(first["leaf"]!.stringValue!)!)
        leaf.ledgerID[0] ^= 1
        _ = first.updateValue(.string(Base64.encode(leaf.encoded())), forKey: "leaf")
        lines[0] = Array(JSONWriter.string(.object(first)).utf8)
        changed[BundleFormat.retention] = joined(lines)
        let kinds = Set(try verify(changed, t).violations.map(\.kind))
        XCTAssertEqual(kinds, [.retentionLedger, .retentionInclusionProof])
    }
}
