import Foundation
import LMDB
@testable import Ledger
import LedgerFormat
import MerkleLog
import XCTest

/// Storage format 3 (docs/FORMAT.md, "Storage format 3: entry groups"): the bytes a group adds around the stored
/// entries (its key, version, count and lengths) are checked by verify as strictly as the entries themselves. Each
/// test changes exactly one of them in the raw LMDB file of a clean ledger and sees an `entry-group` violation.
final class EntryGroupTamperTests: XCTestCase {
    typealias Fixture = VerifyTamperTests.Fixture

    /// A format 3 ledger of 400 entries appended in batches of up to 7 (so the last group was rewritten by many
    /// appends) with checkpoints at 100 and 400, in at least three groups; verifies intact keyless and deep.
    func makeGroupedLedger(file: StaticString = #filePath, line: UInt = #line) throws -> Fixture {
        let f = try Fixture()
        try f.append(0..<400, checkpointsAt: [100, 400])
        let report = try f.verify(VerifyOptions(pinnedVerifierKey: f.verifierKey))
        XCTAssertTrue(report.isIntact, "clean: \(report.violations)", file: file, line: line)
        XCTAssertEqual(report.entries, 400, file: file, line: line)
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        XCTAssertTrue(deep.isIntact, "clean, deep: \(deep.violations)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(try groups(f).count, 3, "several groups", file: file, line: line)
        return f
    }

    /// The rows of `entries`: (first seq, value).
    func groups(_ f: Fixture) throws -> [(key: UInt64, value: [UInt8])] {
        let raw = try RawLedger.open(f.dir)
        defer { raw.env.close() }
        XCTAssertTrue(raw.grouped)
        return try raw.env.read { txn in
            let cursor = try txn.cursor(raw.entries)
            defer { cursor.close() }
            var rows = [(key: UInt64, value: [UInt8])]()
            var row = try cursor.first()
            while let current = row {
                rows.append((try XCTUnwrap(UInt64(bigEndianBytes: current.key)), Array(current.value)))
                row = try cursor.next()
            }
            return rows
        }
    }

    /// Replaces the value of the group under `key` by `edit` of it.
    func editGroup(_ f: Fixture, key: UInt64, _ edit: (inout [UInt8]) -> Void) throws {
        try f.edit { raw, txn in
            var value = try txn.value(raw.entries, key.bigEndianBytes)
            edit(&value)
            try txn.put(raw.entries, key: key.bigEndianBytes, value: value)
        }
    }

    func assertGroupViolation(_ report: VerifyReport, key: UInt64, _ detail: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(report.isIntact, file: file, line: line)
        XCTAssertTrue(report.violations.contains { $0.kind == .entryGroup && $0.seq == key && $0.detail.contains(detail) },
                      "expected an entry-group violation at \(key) saying \"\(detail)\": \(report.violations)",
                      file: file, line: line)
    }

    // MARK: - Clean

    func testCleanGroupsAreContiguousAndEveryEntryReadsBack() throws {
        let f = try makeGroupedLedger()
        let rows = try groups(f)
        var next: UInt64 = 0
        for row in rows {
            XCTAssertEqual(row.key, next, "each group starts where the one before ends")
            let count = try row.value.withUnsafeBytes { try EntryGroup.entryCount($0) }
            XCTAssertLessThanOrEqual(row.value.count, EntryAppender.groupByteBudget)
            next += UInt64(count)
        }
        XCTAssertEqual(next, 400)
        let ledger = try f.open()
        defer { ledger.close() }
        XCTAssertEqual(try ledger.size(), 400)
        for seq: UInt64 in [0, 1, rows[1].key - 1, rows[1].key, 399] {
            XCTAssertEqual(try ledger.entry(seq).seq, seq)
        }
        // one more append joins the last group (rewritten), and the ledger still verifies
        let before = rows.count
        _ = try ledger.append(try Fixture.record(400))
        XCTAssertTrue(try ledger.verify(VerifyOptions(deep: true)).isIntact)
        ledger.close()
        XCTAssertEqual(try groups(f).count, before)
        XCTAssertEqual(try groups(f).last?.key, rows.last?.key)
    }

    func testAFormat2LedgerKeepsOneEntryPerRow() throws {
        let f = try Fixture(storageFormat: 2)
        try f.append(0..<10)
        let raw = try RawLedger.open(f.dir)
        XCTAssertFalse(raw.grouped)
        let stored = try raw.env.read { txn in
            try (0..<10).map { try XCTUnwrap(try txn.get(raw.entries, key: UInt64($0).bigEndianBytes)).count }
        }
        raw.env.close()
        XCTAssertTrue(stored.allSatisfy { $0 > 100 }, "one stored entry v1 under each seq")
        XCTAssertTrue(try f.verify().isIntact)
    }

    func testANewerStorageFormatIsRefused() throws {
        let f = try Fixture()
        try f.edit { raw, txn in try txn.put(raw.meta, key: Array("format".utf8), value: UInt32(4).bigEndianBytes) }
        XCTAssertThrowsError(try Ledger.open(at: f.dir)) { error in
            guard case LedgerError.unsupportedFormat(let version) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(version, 4)
        }
    }

    // MARK: - The group's bytes

    func testALengthFieldChangedIsAnEntryGroupViolation() throws {
        let f = try makeGroupedLedger()
        let key = try groups(f)[1].key
        try editGroup(f, key: key) { $0[EntryGroup.fixedHeaderByteCount + 3] &+= 1 }  // entry 0's length, low byte
        assertGroupViolation(try f.verify(), key: key, "lengths add up")
    }

    func testLengthsShiftedBetweenTwoEntriesAreCaughtByTheEntries() throws {
        // the lengths still add up: the group is well formed, but entry 0 gains a byte of entry 1
        let f = try makeGroupedLedger()
        let key = try groups(f)[1].key
        try editGroup(f, key: key) { value in
            value[EntryGroup.fixedHeaderByteCount + 3] &+= 1
            value[EntryGroup.fixedHeaderByteCount + EntryGroup.lengthByteCount + 3] &-= 1
        }
        let report = try f.verify()
        XCTAssertFalse(report.isIntact)
        XCTAssertTrue(report.violations.contains { $0.seq == key || $0.seq == key + 1 }, "\(report.violations)")
    }

    func testTheCountChangedIsAnEntryGroupViolation() throws {
        let f = try makeGroupedLedger()
        let key = try groups(f)[0].key
        try editGroup(f, key: key) { $0[2] &+= 1 }
        assertGroupViolation(try f.verify(), key: key, "lengths add up")
        try editGroup(f, key: key) { $0[2] &-= 2 }
        assertGroupViolation(try f.verify(), key: key, "lengths add up")
        try editGroup(f, key: key) { $0[1] = 0; $0[2] = 0 }
        assertGroupViolation(try f.verify(), key: key, "counts 0 entries")
    }

    func testTheVersionChangedIsAnEntryGroupViolation() throws {
        let f = try makeGroupedLedger()
        let key = try groups(f)[1].key
        try editGroup(f, key: key) { $0[0] = 2 }
        assertGroupViolation(try f.verify(), key: key, "version is 2")
    }

    func testATruncatedGroupIsAnEntryGroupViolation() throws {
        let f = try makeGroupedLedger()
        let key = try groups(f)[1].key
        try editGroup(f, key: key) { $0.removeLast() }
        let report = try f.verify()
        assertGroupViolation(report, key: key, "lengths add up")
        XCTAssertTrue(report.violations.contains { $0.kind == .missingEntry && $0.seq == key }, "\(report.violations)")
        try editGroup(f, key: key) { $0.removeLast($0.count - 5) }  // the header cut short
        assertGroupViolation(try f.verify(), key: key, "cannot hold their lengths")
    }

    func testATrailingByteIsAnEntryGroupViolation() throws {
        let f = try makeGroupedLedger()
        let key = try groups(f).last!.key
        try editGroup(f, key: key) { $0.append(0) }
        assertGroupViolation(try f.verify(), key: key, "1 trailing")
        let ledger = try f.open()
        defer { ledger.close() }
        assertLedgerError(try ledger.entry(key)) { if case .corrupt = $0 { return true } else { return false } }
    }

    func testAGroupKeyChangedIsAGapAndAnOverlap() throws {
        let f = try makeGroupedLedger()
        let rows = try groups(f)
        let moved = rows[1].key + 1
        try f.edit { raw, txn in
            XCTAssertTrue(try txn.delete(raw.entries, key: rows[1].key.bigEndianBytes))
            try txn.put(raw.entries, key: moved.bigEndianBytes, value: rows[1].value)
        }
        let report = try f.verify()
        assertGroupViolation(report, key: moved, "does not start where the group before it ends")
        assertGroupViolation(report, key: rows[2].key, "overlaps the group before it")
        XCTAssertTrue(report.violations.contains { $0.kind == .missingEntry && $0.seq == rows[1].key })
        XCTAssertTrue(report.violations.contains { $0.kind == .leafSequence }, "the leaves state their own seqs")
    }

    func testAGroupKeyThatIsNotASeq() throws {
        let f = try makeGroupedLedger()
        let rows = try groups(f)
        try f.edit { raw, txn in try txn.put(raw.entries, key: [0, 0, 0, 1], value: rows[0].value) }
        let report = try f.verify()
        XCTAssertTrue(report.violations.contains { $0.kind == .entryGroup && $0.detail.contains("4 bytes") },
                      "\(report.violations)")
    }

    func testAnEntryChangedInsideItsGroupIsCaughtAsInFormat2() throws {
        let f = try makeGroupedLedger()
        let key = try groups(f)[1].key
        try f.edit { raw, txn in
            let stored = try txn.entry(raw, key + 2)
            try txn.flipEntry(raw, key + 2, byte: stored.count - 20, bit: 3)  // a ciphertext byte
        }
        let report = try f.verify()
        XCTAssertEqual(Set(report.violations.map(\.kind)), [.ciphertextDigest], "\(report.violations)")
        XCTAssertEqual(report.violations.first?.seq, key + 2)
    }
}
