import Foundation
@testable import Ledger
import LedgerFormat
import RecordFormats
import XCTest

/// Bulk appends seal batch k+1 while batch k commits, on a prediction of the ledger's state. These tests
/// make another writer break that prediction between batches and check that nothing is lost, duplicated or
/// encrypted for the wrong seq or key.
final class BulkAppendTests: XCTestCase {
    func record(_ id: Int, matter: String) throws -> ValidatedRecord {
        try validRecord(["sourceSystem": "pms", "sourceId": .string("src-\(id)"), "summary": .string("record \(id)")],
                        matter: matter)
    }

    /// Batches of five: 0-4 (M-1), 5-9 (M-1, M-2), 10-14 (M-3, new), 15-19 (M-1).
    func batches() throws -> [[ValidatedRecord]] {
        try [
            (0..<5).map { try record($0, matter: "M-1") },
            (5..<10).map { try record($0, matter: $0 % 2 == 0 ? "M-1" : "M-2") },
            (10..<15).map { try record($0, matter: "M-3") },
            (15..<20).map { try record($0, matter: "M-1") },
        ]
    }

    func runBatches(_ ledger: Ledger, _ batches: [[ValidatedRecord]],
                    afterCommit: (Int) throws -> Void = { _ in }) throws -> [[AppendOutcome]] {
        var outcomes = [[AppendOutcome]]()
        try ledger.appendBatches(count: batches.count, batch: { batches[$0] }, committed: {
            outcomes.append($0)
            try afterCommit(outcomes.count - 1)
        })
        return outcomes
    }

    func assertDeepIntact(_ ledger: Ledger, file: StaticString = #filePath, line: UInt = #line) throws {
        let report = try ledger.verify(VerifyOptions(pinnedVerifierKey: ledger.storedVerifierKey, deep: true))
        XCTAssertTrue(report.isIntact, "\(report.violations)", file: file, line: line)
    }

    func testUndisturbedBatchesAppendInOrder() throws {
        let t = try TestLedger()
        let outcomes = try runBatches(t.ledger, try batches())
        XCTAssertEqual(outcomes.flatMap { $0 }, (0..<20).map { AppendOutcome.appended(seq: UInt64($0)) })
        XCTAssertEqual(try allEntries(t.ledger).map { $0.string("summary") }, (0..<20).map { "record \($0)" })
        try assertDeepIntact(t.ledger)
    }

    /// One batch key per matter per run: the later batches of an import reuse the key the first batch with that
    /// matter stored (one X25519 seal per matter, not per matter per batch); a new run draws new ones.
    func testARunDrawsOneBatchKeyPerMatter() throws {
        let t = try TestLedger()
        _ = try runBatches(t.ledger, try batches())
        let keyIDs = try allEntries(t.ledger).map { ($0.string("matter"), $0.leaf.keyID) }
        let byMatter = Dictionary(grouping: keyIDs, by: { $0.0 }).mapValues { Set($0.map(\.1)) }
        XCTAssertEqual(byMatter.mapValues(\.count), ["M-1": 1, "M-2": 1, "M-3": 1], "\(keyIDs)")
        XCTAssertEqual(Set(byMatter.values.map { $0.first! }).count, 3, "each matter its own key")
        _ = try runBatches(t.ledger, [(20..<25).map { try record($0, matter: "M-1") }])
        let next = try allEntries(t.ledger).suffix(5).map(\.leaf.keyID)
        XCTAssertEqual(Set(next).count, 1)
        XCTAssertFalse(byMatter["M-1"]!.contains(next[0]), "a second import draws a fresh key")
        try assertDeepIntact(t.ledger)
    }

    /// A stale prediction starts over from what is stored: the batches after it draw fresh keys, and none of them
    /// names a key that was sealed for the discarded prediction and never stored.
    func testAStalePredictionDrawsFreshKeys() throws {
        let t = try TestLedger()
        _ = try runBatches(t.ledger, try batches()) { index in
            if index == 0 { _ = try t.ledger.append(try self.record(100, matter: "M-9")) }
        }
        let keys = Dictionary(uniqueKeysWithValues: try allEntries(t.ledger).map { ($0.string("summary"), $0.leaf.keyID) })
        let batch0 = Set((0..<5).map { keys["record \($0)"]! }), batch1 = Set([6, 8].map { keys["record \($0)"]! })
        XCTAssertEqual(batch0.count, 1)
        XCTAssertEqual(batch1.count, 1)
        XCTAssertNotEqual(batch0, batch1, "M-1's key of batch 0 is not reused after the prediction failed")
        try assertDeepIntact(t.ledger)
    }

    func testAnotherWriterBetweenBatchesForcesAResealAndLosesNothing() throws {
        let t = try TestLedger()
        // After batch 0 commits (while batch 1 is sealed ahead for seqs 5-9), another writer appends a record
        // of a new matter (a new key id) that has batch 1's first source id.
        let outcomes = try runBatches(t.ledger, try batches()) { index in
            if index == 0 { _ = try t.ledger.append(try self.record(5, matter: "M-9")) }
        }
        XCTAssertEqual(outcomes[1].first, .duplicate(of: 5), "the interloper's record is seen as a duplicate")
        XCTAssertEqual(Array(outcomes[1].dropFirst()), (6..<10).map { AppendOutcome.appended(seq: UInt64($0)) })
        XCTAssertEqual(outcomes[2], (10..<15).map { AppendOutcome.appended(seq: UInt64($0)) })
        XCTAssertEqual(outcomes[3], (15..<20).map { AppendOutcome.appended(seq: UInt64($0)) })
        let entries = try allEntries(t.ledger)
        XCTAssertEqual(entries.map { $0.string("summary") }, (0..<20).map { "record \($0)" })
        XCTAssertEqual(entries[5].string("matter"), "M-9")
        try assertDeepIntact(t.ledger)
    }

    func testAnotherWriterCreatingAKeyBeforeANewMatterBatch() throws {
        let t = try TestLedger()
        // Batch 2 predicts the next key id for the new matter M-3; the interloper takes that id first.
        let outcomes = try runBatches(t.ledger, try batches()) { index in
            if index == 1 { _ = try t.ledger.append(try self.record(100, matter: "M-8")) }
        }
        XCTAssertEqual(outcomes[2], (11..<16).map { AppendOutcome.appended(seq: UInt64($0)) })
        XCTAssertEqual(try t.ledger.size(), 21)
        try assertDeepIntact(t.ledger)
    }

    func testABatchOfOnlyDuplicatesWritesNothing() throws {
        let t = try TestLedger()
        let all = try batches()
        _ = try runBatches(t.ledger, [all[0]])
        let before = try fileDigest(t.directory + "/data.mdb")
        let outcomes = try runBatches(t.ledger, [all[0], all[0]])
        XCTAssertEqual(outcomes.flatMap { $0 },
                       Array(repeating: (0..<5).map { AppendOutcome.duplicate(of: UInt64($0)) },
                             count: 2).flatMap { $0 })
        XCTAssertEqual(try fileDigest(t.directory + "/data.mdb"), before)
    }

    func testAFailingBatchLeavesEarlierBatchesCommittedAndLaterOnesUnwritten() throws {
        let t = try TestLedger()
        struct Stop: Error {}
        let all = try batches()
        var committed = 0
        XCTAssertThrowsError(try t.ledger.appendBatches(count: 4, batch: { index in
            if index == 2 { throw Stop() }
            return all[index]
        }, committed: { _ in committed += 1 })) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(committed, 2)
        XCTAssertEqual(try t.ledger.size(), 10)
        try assertDeepIntact(t.ledger)
    }

    /// Batches are sealed up to two ahead of the commit: a record that repeats a source of a batch not yet committed
    /// (one or two batches earlier) is still a duplicate of it.
    func testARecordRepeatingASourceOfABatchStillInFlightIsADuplicate() throws {
        let t = try TestLedger()
        let all = try batches()
        let repeats = [all[0][1], all[1][2]]  // src-1 (seq 1) and src-7 (seq 7)
        let outcomes = try runBatches(t.ledger, [all[0], all[1], [repeats[0]] + all[2], [repeats[1]] + all[3]])
        XCTAssertEqual(outcomes[2].first, .duplicate(of: 1))
        XCTAssertEqual(outcomes[3].first, .duplicate(of: 7))
        XCTAssertEqual(outcomes.flatMap { $0 }.filter { if case .appended = $0 { true } else { false } }.count, 20)
        try assertDeepIntact(t.ledger)
    }

    /// With the staged source rows moved into `sources` after every batch (a tiny limit), the batches sealed
    /// ahead still find the moved rows (in the set until no seal is running, then in `sources`).
    func testMovingTheStagedRowsMidImportLosesNoDuplicate() throws {
        let t = try TestLedger()
        let all = try batches()
        let batches = [all[0], all[1], [all[0][0]] + all[2], [all[1][0]] + all[3], [all[2][0], all[3][4]]]
        var outcomes = [[AppendOutcome]]()
        try t.ledger.appendBatches(count: batches.count, stagedLimit: 1, batch: { batches[$0] },
                                   committed: { outcomes.append($0) })
        XCTAssertEqual(outcomes[2].first, .duplicate(of: 0))
        XCTAssertEqual(outcomes[3].first, .duplicate(of: 5))
        XCTAssertEqual(outcomes[4], [.duplicate(of: 10), .duplicate(of: 19)])
        XCTAssertEqual(try t.ledger.size(), 20)
        try assertDeepIntact(t.ledger)
    }
}
