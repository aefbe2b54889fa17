import Foundation
import LMDB
import LedgerFormat
import MerkleLog
import RecordFormats
import XCTest
@testable import Ledger

/// Storage format 2: imports stage their source rows in append order and move them into `sources` in tag order
/// (docs/FORMAT.md, "Storage"). Lookups and verification give the same answers whether a row is staged or moved.
final class StagedSourcesTests: XCTestCase {
    func lines(_ count: Int, offset: Int = 0) -> String {
        (0..<count).map { i in
            jsonLine(recordJSON(["sourceSystem": "pms", "sourceId": .string("src-\(offset + i)"),
                                 "summary": .string("record \(offset + i)")], matter: "M-\(i % 3)"))
        }.joined(separator: "\n") + "\n"
    }

    func rows(_ ledger: Ledger) throws -> (sources: Int, staged: Int) {
        try ledger.store.environment.read { txn in
            (try txn.count(ledger.store.sources), try txn.count(ledger.store.openedStagedSources!))
        }
    }

    func verify(_ ledger: Ledger, deep: Bool = false) throws -> VerifyReport {
        try ledger.verify(VerifyOptions(pinnedVerifierKey: ledger.storedVerifierKey, deep: deep))
    }

    func testNewLedgersStageSourcesAndAnImportLeavesNoStagedRows() throws {
        let t = try TestLedger()
        XCTAssertEqual(t.ledger.storageFormat, 3)  // format 3 keeps format 2's staged source rows
        XCTAssertTrue(t.ledger.stagesSources)
        let summary = try t.ledger.importRecords(from: try t.temp.write("a.jsonl", lines(40)),
                                                 options: ImportOptions(batchSize: 7))
        XCTAssertEqual(summary.imported, 40)
        XCTAssertEqual(try rows(t.ledger).sources, 40)
        XCTAssertEqual(try rows(t.ledger).staged, 0)
        XCTAssertTrue(try verify(t.ledger, deep: true).isIntact)
    }

    /// An import that stops before moving its rows (as if killed) leaves a ledger that verifies, and whose staged
    /// rows every later writer sees: a re-import and a single append find the duplicates.
    func testStagedRowsLeftBehindVerifyAndStillCountAsDuplicates() throws {
        let t = try TestLedger()
        var options = ImportOptions(batchSize: 8)
        options.moveStagedSourcesAtEnd = false
        let file = try t.temp.write("a.jsonl", lines(30))
        XCTAssertEqual(try t.ledger.importRecords(from: file, options: options).imported, 30)
        XCTAssertEqual(try rows(t.ledger).staged, 30)
        XCTAssertEqual(try rows(t.ledger).sources, 0)
        XCTAssertTrue(try verify(t.ledger).isIntact)
        XCTAssertTrue(try verify(t.ledger, deep: true).isIntact)

        let again = try t.ledger.importRecords(from: file, options: options)
        XCTAssertEqual(again.imported, 0)
        XCTAssertEqual(again.duplicates, 30)
        XCTAssertEqual(try rows(t.ledger).staged, 0, "the next import moved them first")
        XCTAssertEqual(try rows(t.ledger).sources, 30)

        _ = try t.ledger.importRecords(from: try t.temp.write("b.jsonl", lines(5, offset: 30)), options: options)
        XCTAssertEqual(try rows(t.ledger).staged, 5)
        let record = try RecordSchema.validate(try JSONParser.parse(
            Array(jsonLine(recordJSON(["sourceSystem": "pms", "sourceId": "src-32"])).utf8)))
        XCTAssertEqual(try t.ledger.append(record), .duplicate(of: 32))
        XCTAssertEqual(try rows(t.ledger).staged, 0, "a single append moves them before its lookup")
        XCTAssertTrue(try verify(t.ledger).isIntact)
    }

    /// Enough records to pass the staging limit in the middle of an import: the rows move in that batch's
    /// transaction, and the batches after it still find every earlier row.
    func testRowsMoveWhenTheyReachTheLimit() throws {
        let t = try TestLedger()
        let count = 300
        var text = lines(count)
        text += lines(10, offset: 5)  // duplicates of rows staged, then moved, earlier in the same import
        var options = ImportOptions(batchSize: 16)
        options.stagedSourcesLimit = 100
        let summary = try t.ledger.importRecords(from: try t.temp.write("a.jsonl", text), options: options)
        XCTAssertEqual(summary.imported, count)
        XCTAssertEqual(summary.duplicates, 10)
        XCTAssertEqual(try rows(t.ledger).sources, count)
        XCTAssertTrue(try verify(t.ledger).isIntact)
    }

    func testAStagedRowChangedIsASourceIndexViolation() throws {
        let t = try TestLedger()
        var options = ImportOptions(batchSize: 8)
        options.moveStagedSourcesAtEnd = false
        _ = try t.ledger.importRecords(from: try t.temp.write("a.jsonl", lines(20)), options: options)
        let staged = t.ledger.store.openedStagedSources!
        try t.ledger.store.environment.write { txn in
            var tag = Array(try txn.get(staged, key: UInt64(7).bigEndianBytes)!)
            tag[3] ^= 1
            try txn.put(staged, key: UInt64(7).bigEndianBytes, value: tag)
        }
        let report = try verify(t.ledger)
        XCTAssertFalse(report.isIntact)
        XCTAssertEqual(Set(report.violations.map(\.kind)), [.sourceIndex])
        XCTAssertTrue(report.violations.contains { $0.seq == 7 })
    }

    func testAStagedRowAlsoInSourcesIsASourceIndexViolation() throws {
        let t = try TestLedger()
        var options = ImportOptions(batchSize: 8)
        options.moveStagedSourcesAtEnd = false
        _ = try t.ledger.importRecords(from: try t.temp.write("a.jsonl", lines(20)), options: options)
        let staged = t.ledger.store.openedStagedSources!
        try t.ledger.store.environment.write { txn in
            let tag = Array(try txn.get(staged, key: UInt64(3).bigEndianBytes)!)
            try txn.put(t.ledger.store.sources, key: tag, value: UInt64(3).bigEndianBytes)
        }
        let report = try verify(t.ledger)
        XCTAssertEqual(Set(report.violations.map(\.kind)), [.sourceIndex])
    }

    /// The move's bucket sort gives the order of a comparison sort: on even tags, on tags sharing their top bits (one
    /// huge bucket, as a hostile file could make), on short lists and on none.
    func testTheMoveSortsRowsByTagLikeAComparisonSort() {
        var rng = SystemRandomNumberGenerator()
        func tag(_ first: UInt64) -> SortKey {
            withUnsafeBytes(of: (first.bigEndian, rng.next() as UInt64, rng.next() as UInt64, rng.next() as UInt64)) {
                SortKey($0)
            }
        }
        let even = (0..<20_000).map { (tag: tag(rng.next()), seq: UInt64($0)) }
        let clustered = (0..<5_000).map { (tag: tag(0xABCD_0000_0000_0000 | ((rng.next() as UInt64) & 0xFFFF)),
                                           seq: UInt64($0)) }
        let short = (0..<40).map { (tag: tag(rng.next()), seq: UInt64($0)) }
        for rows in [even, clustered, even + clustered, short, []] {
            let sorted = Ledger.sortedByTag(rows)
            XCTAssertEqual(sorted.map(\.seq), rows.sorted { $0.tag < $1.tag }.map(\.seq))
        }
    }
}
