import Foundation
import LMDB
@testable import Ledger
import LedgerFormat
import MerkleLog
import RecordFormats
import SignedNote
import Sodium
import XCTest

// Adversarial tests for `Ledger.verify`: build a clean ledger, prove it verifies intact, change exactly one thing in
// the raw LMDB storage (as someone with file access would), and check that verify names the class and the seq.

/// Byte offsets inside a leaf v1 (docs/FORMAT.md, "Leaf v1").
struct LeafOffsets {
    static let ledgerID = 1, seq = 17, recordedAt = 25, previousHash = 33, matterTag = 65, flags = 97, sourceTag = 98
    let keyID: Int
    var nonce: Int { keyID + 4 }
    var ciphertextHash: Int { nonce + 24 }
    var fieldsDigest: Int { ciphertextHash + 32 }
    var fieldCount: Int { fieldsDigest + 32 }
    /// The length byte of the first field name; the name follows.
    var firstName: Int { fieldCount + 2 }

    init(leaf: [UInt8]) { keyID = leaf[Self.flags] & 1 == 1 ? Self.sourceTag + 32 : Self.sourceTag }
}

/// The raw storage of a closed ledger: one LMDB environment and every named database (opened without `.create`).
struct RawLedger {
    let env: Environment
    let meta, entries, tree, checkpoints, keys, matterKeys, matters, sources: Database
    /// Storage format 3: `entries` holds groups of stored entries (edit them with `entry`, `setEntry`, `flipEntry`).
    var grouped = false

    /// Opens `dir`, runs `body` in one write transaction, and closes the environment again.
    static func edit(_ dir: String, _ body: (RawLedger, WriteTransaction) throws -> Void) throws {
        let raw = try open(dir)
        defer { raw.env.close() }
        try raw.env.write { txn in try body(raw, txn) }
    }

    /// Flips one bit of key pair `id`'s public key in `dir` (key record kind 2: u8 2 || matter tag (32) ||
    /// u32 previous key id || public key (32)).
    static func flipPublicKey(ofKeyPair id: UInt32, in dir: String) throws {
        try edit(dir) { raw, txn in
            var value = try txn.value(raw.keys, id.bigEndianBytes)
            XCTAssertEqual(value[0], 2)
            value[1 + 32 + 4] ^= 1
            try txn.put(raw.keys, key: id.bigEndianBytes, value: value)
        }
    }

    static func open(_ dir: String) throws -> RawLedger {
        let env = try Environment(path: dir, maxDatabases: 16, mapSize: 1 << 30)
        do {
            var raw = RawLedger(env: env, meta: try env.openDatabase("meta"), entries: try env.openDatabase("entries"),
                                tree: try env.openDatabase("tree"), checkpoints: try env.openDatabase("checkpoints"),
                                keys: try env.openDatabase("keys"), matterKeys: try env.openDatabase("matterKeys"),
                                matters: try env.openDatabase("matters", flags: [.dupSort, .dupFixed]),
                                sources: try env.openDatabase("sources"))
            let format = try env.read { try $0.get(raw.meta, key: Array("format".utf8)).flatMap { UInt32(bigEndianBytes: $0) } }
            raw.grouped = (format ?? 1) >= Store.groupedEntriesFormat
            return raw
        } catch {
            env.close()
            throw error
        }
    }
}

extension WriteTransaction {
    func value(_ db: Database, _ key: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        try XCTUnwrap(try get(db, key: key).map { Array($0) }, "no row under key \(key)", file: file, line: line)
    }

    /// Flips one bit of the value under `key` in place.
    func flip(_ db: Database, key: [UInt8], byte: Int, bit: Int = 0,
              file: StaticString = #filePath, line: UInt = #line) throws {
        var bytes = try value(db, key, file: file, line: line)
        XCTAssertLessThan(byte, bytes.count, "flip offset beyond the value", file: file, line: line)
        bytes[byte] ^= UInt8(1 << bit)
        try put(db, key: key, value: bytes)
    }

    /// The leaf bytes of the stored entry `seq`.
    func leaf(_ raw: RawLedger, _ seq: UInt64) throws -> [UInt8] {
        let stored = try entry(raw, seq)
        let length = Int(stored[0]) << 8 | Int(stored[1])
        return Array(stored[2..<(2 + length)])
    }

    /// The row of `entries` that holds entry `seq` (format 3: its group), and the stored entries in it.
    func entryRow(_ raw: RawLedger, _ seq: UInt64, file: StaticString = #filePath,
                  line: UInt = #line) throws -> (key: [UInt8], first: UInt64, entries: [[UInt8]]) {
        guard raw.grouped else { return (seq.bigEndianBytes, seq, [try value(raw.entries, seq.bigEndianBytes)]) }
        let cursor = try self.cursor(raw.entries)
        defer { cursor.close() }
        var row = try cursor.seek(atLeast: seq.bigEndianBytes)
        if row.map({ UInt64(bigEndianBytes: $0.key)! != seq }) ?? true { row = row == nil ? try cursor.last() : try cursor.previous() }
        let found = try XCTUnwrap(row, "no group holds entry \(seq)", file: file, line: line)
        let first = try XCTUnwrap(UInt64(bigEndianBytes: found.key), file: file, line: line)
        let entries = try EntryGroup.split(found.value).map { Array($0) }
        XCTAssertLessThan(seq - first, UInt64(entries.count), "no group holds entry \(seq)", file: file, line: line)
        return (Array(found.key), first, entries)
    }

    /// The stored entry `seq` ("Stored entry v1"), in any storage format.
    func entry(_ raw: RawLedger, _ seq: UInt64, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        let row = try entryRow(raw, seq, file: file, line: line)
        return row.entries[Int(seq - row.first)]
    }

    /// Replaces the stored entry `seq` by `bytes` (format 3: inside its group, whose header then states the new length).
    func setEntry(_ raw: RawLedger, _ seq: UInt64, _ bytes: [UInt8], file: StaticString = #filePath,
                  line: UInt = #line) throws {
        var row = try entryRow(raw, seq, file: file, line: line)
        row.entries[Int(seq - row.first)] = bytes
        try put(raw.entries, key: row.key, value: raw.grouped ? EntryGroup.encode(row.entries) : bytes)
    }

    /// Flips one bit of the stored entry `seq`, in any storage format.
    func flipEntry(_ raw: RawLedger, _ seq: UInt64, byte: Int, bit: Int = 0,
                   file: StaticString = #filePath, line: UInt = #line) throws {
        var bytes = try entry(raw, seq, file: file, line: line)
        XCTAssertLessThan(byte, bytes.count, "flip offset beyond the entry", file: file, line: line)
        bytes[byte] ^= UInt8(1 << bit)
        try setEntry(raw, seq, bytes, file: file, line: line)
    }
}

final class VerifyTamperTests: XCTestCase {
    static let origin = "tamper.invalid/ledger"
    static let matters = ["M-2026-001", "M-2026-002", "M-2026-003"]

    /// A ledger in its own temp dir, closed between steps so raw LMDB edits can happen.
    final class Fixture {
        let temp: TempDir
        var dir: String { temp.file("ledger") }
        var keyPath: String { temp.file("master.key") }
        /// Stored checkpoint notes by tree size.
        var notes: [UInt64: String] = [:]
        let verifierKey: String
        var count: UInt64 = 0

        /// A new ledger in `storageFormat` (tests of rows of `entries` pin format 2, one entry per row).
        init(storageFormat: UInt32 = Store.storageFormatVersion) throws {
            temp = try TempDir("verifytamper")
            let ledger = try Ledger.create(at: temp.file("ledger"), origin: VerifyTamperTests.origin,
                                           masterKey: .keyFile(path: temp.file("master.key"), allowInsideLedger: false),
                                           storageFormat: storageFormat)
            verifierKey = ledger.storedVerifierKey
            ledger.close()
        }

        func open(unlocked: Bool = true) throws -> Ledger {
            let ledger = try Ledger.open(at: dir)
            if unlocked { try ledger.unlock(with: .keyFile(path: keyPath)) }
            return ledger
        }

        /// Record i: three matters in turn, a sourceId on four records out of five.
        static func record(_ i: Int, prefix: String = "src") throws -> ValidatedRecord {
            var overrides: [String: JSONValue?] = ["summary": .string("Call \(prefix) \(i) about the lease")]
            if i % 5 != 4 {
                overrides["sourceSystem"] = "pms"
                overrides["sourceId"] = .string("\(prefix)-\(i)")
            }
            return try validRecord(overrides, matter: VerifyTamperTests.matters[i % 3],
                                   occurredAt: String(format: "2026-03-%02dT10:%02d:00Z", 1 + i / 60 % 28, i % 60))
        }

        /// Appends records `range` in batches of up to 7 and signs a checkpoint whenever the size reaches one of
        /// `checkpointsAt`.
        func append(_ range: Range<Int>, prefix: String = "src", checkpointsAt: Set<UInt64> = []) throws {
            let ledger = try open()
            defer { ledger.close() }
            var i = range.lowerBound
            while i < range.upperBound {
                var end = min(range.upperBound, i + 7)
                if let next = checkpointsAt.filter({ $0 > count }).min(), Int(next - count) < end - i {
                    end = i + Int(next - count)
                }
                let outcomes = try ledger.append(try (i..<end).map { try Self.record($0, prefix: prefix) })
                XCTAssertTrue(outcomes.allSatisfy { if case .appended = $0 { return true } else { return false } })
                count += UInt64(end - i)
                i = end
                if checkpointsAt.contains(count) { notes[count] = try ledger.signCheckpoint() }
            }
        }

        func verify(_ options: VerifyOptions = VerifyOptions(), unlocked: Bool = false) throws -> VerifyReport {
            let ledger = try open(unlocked: unlocked)
            defer { ledger.close() }
            return try ledger.verify(options)
        }

        func edit(_ body: (RawLedger, WriteTransaction) throws -> Void) throws { try RawLedger.edit(dir, body) }
    }

    /// 40 entries over three matters, checkpoints signed at the given sizes; the clean ledger verifies intact
    /// (keyless and deep).
    func makeLedger(checkpointsAt: Set<UInt64> = [20, 40], storageFormat: UInt32 = Store.storageFormatVersion,
                    file: StaticString = #filePath, line: UInt = #line) throws -> Fixture {
        let f = try Fixture(storageFormat: storageFormat)
        try f.append(0..<40, checkpointsAt: checkpointsAt)
        assertIntact(try f.verify(VerifyOptions(pinnedVerifierKey: f.verifierKey)), "clean ledger, keyless",
                     file: file, line: line)
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        assertIntact(deep, "clean ledger, deep", file: file, line: line)
        XCTAssertEqual(deep.entries, 40, file: file, line: line)
        XCTAssertEqual(deep.checkpointsChecked, checkpointsAt.count, file: file, line: line)
        return f
    }

    func assertIntact(_ report: VerifyReport, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(report.isIntact, "\(what): expected intact, got \(report.violationCount): \(report.violations)",
                      file: file, line: line)
        XCTAssertEqual(report.violationCount, 0, file: file, line: line)
        XCTAssertTrue(report.violations.isEmpty, file: file, line: line)
    }

    /// The report is not intact and holds a violation of `kind` naming `seq` (any seq when `seq` is `.some(nil)` is
    /// not wanted: pass nil for "no seq").
    func assertViolation(_ report: VerifyReport, _ kind: Violation.Kind, seq: UInt64?,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(report.isIntact, "expected a violation", file: file, line: line)
        XCTAssertGreaterThan(report.violationCount, 0, file: file, line: line)
        XCTAssertTrue(report.violations.contains { $0.kind == kind && $0.seq == seq },
                      "no [\(kind.rawValue)] violation at seq \(seq.map(String.init) ?? "none"); got:\n" +
                      report.violations.map(\.description).joined(separator: "\n"), file: file, line: line)
    }

    func assertNoViolation(_ report: VerifyReport, _ kind: Violation.Kind,
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(report.violations.contains { $0.kind == kind },
                       "unexpected [\(kind.rawValue)]: \(report.violations)", file: file, line: line)
    }

    /// The kinds found, for compact assertions about what else was (or was not) reported.
    func kinds(_ report: VerifyReport) -> Set<Violation.Kind> { Set(report.violations.map(\.kind)) }

    // MARK: - Entries: ciphertext and leaf

    func testFlippedCiphertextBitIsACiphertextDigestViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let stored = try txn.entry(raw, UInt64(13))
            try txn.flipEntry(raw, UInt64(13), byte: stored.count - 20, bit: 3)
        }
        let report = try f.verify()
        assertViolation(report, .ciphertextDigest, seq: 13)
        XCTAssertEqual(kinds(report), [.ciphertextDigest], "the leaf, tree and chain are untouched")
        XCTAssertEqual(report.violationCount, 1)
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        assertViolation(deep, .ciphertextDigest, seq: 13)
        assertViolation(deep, .decryption, seq: 13)
    }

    func testFlippedRecordedAtBitBreaksTreeAndChain() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            try txn.flipEntry(raw, UInt64(17), byte: 2 + LeafOffsets.recordedAt + 7, bit: 4)
        }
        let report = try f.verify()
        assertViolation(report, .treeHash, seq: 17)
        assertViolation(report, .hashChain, seq: 18)
        assertViolation(report, .checkpointRoot, seq: 39)  // the checkpoint at 40 covers it, the one at 20 too
        assertViolation(report, .checkpointRoot, seq: 19)
        XCTAssertEqual(report.violations.filter { $0.kind == .hashChain }.map(\.seq), [18], "only the next link breaks")
    }

    func testRecordedAtMadeEarlierIsARecordedAtViolation() throws {
        let f = try makeLedger()
        // recordedAt (µs since 1970, 2026 ≈ 0x0006_4…): clearing bit 2 of its second byte moves it ~35 years back
        try f.edit { raw, txn in
            XCTAssertEqual(try txn.leaf(raw, 25)[LeafOffsets.recordedAt + 1] & 0x04, 0x04)
            try txn.flipEntry(raw, UInt64(25), byte: 2 + LeafOffsets.recordedAt + 1, bit: 2)
        }
        let report = try f.verify()
        assertViolation(report, .recordedAt, seq: 25)
        assertViolation(report, .treeHash, seq: 25)
        assertViolation(report, .hashChain, seq: 26)
    }

    func testFlippedFieldNameBitStillValidIsATreeHashViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            // the last field name is "summary"; 'y' → 'x' keeps a valid name, still after "sourceSystem"
            let leaf = try txn.leaf(raw, 10)
            XCTAssertEqual(Array(leaf.suffix(7)), Array("summary".utf8))
            try txn.flipEntry(raw, UInt64(10), byte: 2 + leaf.count - 1, bit: 0)
        }
        let report = try f.verify()
        assertViolation(report, .treeHash, seq: 10)
        assertViolation(report, .hashChain, seq: 11)
        assertNoViolation(report, .leafMalformed)
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        assertViolation(deep, .disclosureDigest, seq: 10)
    }

    func testFlippedFieldNameBitInvalidIsALeafMalformedViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let leaf = try txn.leaf(raw, 10)
            let at = LeafOffsets(leaf: leaf).firstName + 1
            XCTAssertEqual(leaf[at], UInt8(ascii: "a"))  // "author"
            try txn.flipEntry(raw, UInt64(10), byte: 2 + at, bit: 6)  // 'a' → '!'
        }
        let report = try f.verify()
        assertViolation(report, .leafMalformed, seq: 10)
        assertViolation(report, .hashChain, seq: 11)
        // one bad leaf must not be reported as a rewritten history of everything after it: the leaf bytes are
        // still hashed into the tree, so only the stored hashes that cover entry 10 differ (its own, and the
        // subtree roots completed by entries 11, 15 and 31), and only the checkpoints covering it (20, 40)
        XCTAssertEqual(report.entries, 40)
        assertNoViolation(report, .checkpointBeyondLog)
        XCTAssertEqual(Set(report.violations.filter { $0.kind == .treeHash }.map(\.seq)), [10, 11, 15, 31])
        XCTAssertEqual(report.violations.filter { $0.kind == .checkpointRoot }.map(\.seq), [19, 39])
        XCTAssertEqual(report.violations.filter { $0.kind == .hashChain }.map(\.seq), [11])
    }

    func testFlippedFieldsDigestBitIsATreeHashViolationAndDeepADisclosureViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let leaf = try txn.leaf(raw, 22)
            try txn.flipEntry(raw, UInt64(22),
                         byte: 2 + LeafOffsets(leaf: leaf).fieldsDigest + 5, bit: 1)
        }
        let report = try f.verify()
        assertViolation(report, .treeHash, seq: 22)
        assertViolation(report, .hashChain, seq: 23)
        assertViolation(report, .checkpointRoot, seq: 39)
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        assertViolation(deep, .disclosureDigest, seq: 22)
    }

    func testFlippedMatterTagBitIsATreeAndMatterIndexViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            try txn.flipEntry(raw, UInt64(8), byte: 2 + LeafOffsets.matterTag + 31, bit: 7)
        }
        let report = try f.verify()
        assertViolation(report, .treeHash, seq: 8)
        assertViolation(report, .hashChain, seq: 9)
        assertViolation(report, .matterIndex, seq: 8)
        assertViolation(report, .matterKeyIndex, seq: 8)
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        assertViolation(deep, .tagMismatch, seq: 8)
    }

    func testFlippedKeyIDBitIsATreeAndMatterKeyIndexViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let leaf = try txn.leaf(raw, 5)
            try txn.flipEntry(raw, UInt64(5),
                         byte: 2 + LeafOffsets(leaf: leaf).keyID + 3, bit: 2)
        }
        let report = try f.verify()
        assertViolation(report, .treeHash, seq: 5)
        assertViolation(report, .hashChain, seq: 6)
        assertViolation(report, .matterKeyIndex, seq: 5)
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        XCTAssertTrue(deep.violations.contains { ($0.kind == .matterKey || $0.kind == .decryption) && $0.seq == 5 },
                      "\(deep.violations)")
    }

    func testFlippedLeafSeqAndLedgerIDBits() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            try txn.flipEntry(raw, UInt64(30),
                         byte: 2 + LeafOffsets.seq + 7, bit: 1)  // 30 → 28
            try txn.flipEntry(raw, UInt64(33), byte: 2 + LeafOffsets.ledgerID + 4, bit: 0)
        }
        let report = try f.verify()
        assertViolation(report, .leafSequence, seq: 30)
        assertViolation(report, .treeHash, seq: 30)
        assertViolation(report, .ledgerID, seq: 33)
        assertViolation(report, .treeHash, seq: 33)
    }

    func testTruncatedStoredEntryIsLeafMalformed() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let stored = try txn.entry(raw, UInt64(3))
            try txn.setEntry(raw, UInt64(3), Array(stored.prefix(100)))
        }
        let report = try f.verify()
        assertViolation(report, .leafMalformed, seq: 3)
        assertViolation(report, .hashChain, seq: 4)
    }

    // MARK: - Tree and checkpoints

    func testFlippedStoredTreeHashIsATreeHashViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            try txn.flip(raw.tree, key: UInt64(storedHashIndex(level: 0, n: 10)).bigEndianBytes, byte: 0)
            // a level-1 hash: the parent of records 10 and 11, stored when record 11 is appended
            try txn.flip(raw.tree, key: UInt64(storedHashIndex(level: 1, n: 5)).bigEndianBytes, byte: 31, bit: 7)
        }
        let report = try f.verify()
        assertViolation(report, .treeHash, seq: 10)
        assertViolation(report, .treeHash, seq: 11)
        XCTAssertEqual(kinds(report), [.treeHash], "the recomputed tree, chain and checkpoints are unaffected")
        XCTAssertEqual(report.violationCount, 2)
    }

    func testFlippedCheckpointNoteBitIsACheckpointSignatureViolation() throws {
        for line in [2, 4] {  // the root line, then the signature line
            let f = try makeLedger()
            try f.edit { raw, txn in
                let note = try txn.value(raw.checkpoints, UInt64(20).bigEndianBytes)
                let starts = [0] + note.indices.filter { note[$0] == 0x0A }.map { $0 + 1 }
                try txn.flip(raw.checkpoints, key: UInt64(20).bigEndianBytes, byte: starts[line] + 5, bit: 1)
            }
            let report = try f.verify()
            assertViolation(report, .checkpointSignature, seq: nil)
            XCTAssertEqual(report.checkpointsChecked, 1, "the checkpoint at 40 still verifies")
            XCTAssertEqual(kinds(report), [.checkpointSignature], "line \(line)")
        }
    }

    func testForgedCheckpointWithTheRealKeyIsACheckpointRootViolation() throws {
        let f = try makeLedger()
        // someone holding the signing key signs a wrong root for size 30 and stores it
        let ledger = try f.open()
        let signer = try XCTUnwrap(ledger.session.withLock { $0.signer })
        let forged = try signer.sign(Checkpoint(origin: Self.origin, size: 30,
                                                rootHash: Array(repeating: 7, count: 32)).body)
        ledger.close()
        try f.edit { raw, txn in
            try txn.put(raw.checkpoints, key: UInt64(30).bigEndianBytes, value: Array(forged.utf8))
        }
        assertViolation(try f.verify(), .checkpointRoot, seq: 29)
        // and one stored under another size
        let f2 = try makeLedger()
        try f2.edit { raw, txn in
            try txn.put(raw.checkpoints, key: UInt64(25).bigEndianBytes,
                        value: try txn.value(raw.checkpoints, UInt64(20).bigEndianBytes))
        }
        assertViolation(try f2.verify(), .checkpointSignature, seq: nil)
    }

    func testCheckpointOfTheEmptyTreeIsChecked() throws {
        let f = try Fixture()
        try f.append(0..<0, checkpointsAt: [])
        let ledger = try f.open()
        f.notes[0] = try ledger.signCheckpoint()
        let signer = try XCTUnwrap(ledger.session.withLock { $0.signer })
        ledger.close()
        try f.append(0..<10, checkpointsAt: [10])
        let clean = try f.verify()
        assertIntact(clean, "empty-tree checkpoint, then 10 entries")
        XCTAssertEqual(clean.checkpointsChecked, 2, "the size-0 checkpoint is compared too")
        // a size-0 checkpoint signed over a wrong root (only the key holder can make one) must not pass unnoticed
        let forged = try signer.sign(Checkpoint(origin: Self.origin, size: 0,
                                                rootHash: Array(repeating: 9, count: 32)).body)
        try f.edit { raw, txn in
            try txn.put(raw.checkpoints, key: UInt64(0).bigEndianBytes, value: Array(forged.utf8))
        }
        assertViolation(try f.verify(), .checkpointRoot, seq: nil)
    }

    // MARK: - Indexes

    func testFlippedMattersValueIsAMatterIndexViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let tag = Array(try txn.leaf(raw, 14)[LeafOffsets.matterTag..<(LeafOffsets.matterTag + 32)])
            XCTAssertTrue(try txn.delete(raw.matters, key: tag, value: UInt64(14).bigEndianBytes))
            var flipped = UInt64(14).bigEndianBytes
            flipped[2] ^= 0x10
            try txn.put(raw.matters, key: tag, value: flipped)
        }
        let report = try f.verify()
        assertViolation(report, .matterIndex, seq: 14)
        XCTAssertEqual(kinds(report), [.matterIndex])
    }

    func testFlippedSourcesValueIsASourceIndexViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let leaf = try txn.leaf(raw, 16)
            XCTAssertEqual(leaf[LeafOffsets.flags], 1, "entry 16 has a source tag")
            let tag = Array(leaf[LeafOffsets.sourceTag..<(LeafOffsets.sourceTag + 32)])
            try txn.flip(raw.sources, key: tag, byte: 7, bit: 0)  // 16 → 17
        }
        let report = try f.verify()
        assertViolation(report, .sourceIndex, seq: 16)
        XCTAssertEqual(kinds(report), [.sourceIndex])
    }

    func testFlippedMatterKeysValueIsAMatterKeyIndexViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let tag = Array(try txn.leaf(raw, 2)[LeafOffsets.matterTag..<(LeafOffsets.matterTag + 32)])
            try txn.flip(raw.matterKeys, key: tag, byte: 3, bit: 4)
        }
        let report = try f.verify()
        // every entry of that matter (2, 5, 8, … 38) names the right key id; the index no longer agrees
        for seq in stride(from: UInt64(2), to: 40, by: 3) { assertViolation(report, .matterKeyIndex, seq: seq) }
        // and the index now names a key that is not the matter's: the keys no longer form the matter's key chain
        XCTAssertTrue(report.violations.contains {
            $0.kind == .matterKey && $0.detail.contains("belongs to no matter's key chain")
        }, "\(report.violations)")
        XCTAssertEqual(Set(kinds(report)), [.matterKeyIndex, .matterKey])
        // deep reading follows the leaf's key id, not the index: contents still check out
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        XCTAssertEqual(Set(kinds(deep)), [.matterKeyIndex, .matterKey])
    }

    func testUpdateTrustedNeverMovesBackwards() throws {
        let f = try makeLedger()
        let trusted = try XCTUnwrap(try f.verify().newestValidCheckpoint, "the fixture stores checkpoints")
        let trustedSize = try Checkpoint(body: SignedNoteText(parsing: trusted).text).size
        try f.edit { raw, txn in  // an insider deletes every stored checkpoint newer than an old one
            let cursor = try txn.cursor(raw.checkpoints)
            var sizes = [UInt64]()
            var pair = try cursor.first()
            while let row = pair { sizes.append(UInt64(bigEndianBytes: row.key)!); pair = try cursor.next() }
            cursor.close()
            for size in sizes.dropFirst() { XCTAssertTrue(try txn.delete(raw.checkpoints, key: size.bigEndianBytes)) }
        }
        let report = try f.verify(VerifyOptions(trustedCheckpoint: trusted))
        XCTAssertTrue(report.isIntact, "\(report.violations)")
        XCTAssertEqual(report.newestValidCheckpoint, trusted, "the trusted checkpoint stays the newest")
        XCTAssertEqual(report.newestValidCheckpointSize, trustedSize)
    }

    func testExtraMatterKeysRowForNoMatterIsAViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            try txn.put(raw.matterKeys, key: [UInt8](repeating: 0xab, count: 32), value: UInt32(999).bigEndianBytes)
        }
        let report = try f.verify()
        XCTAssertTrue(report.violations.contains { $0.kind == .matterKeyIndex && $0.detail.contains("no entries") },
                      "\(report.violations)")
        XCTAssertTrue(kinds(report).contains(.matterKey),
                      "index and sealed keys no longer correspond: \(report.violations)")
    }

    func testSealedKeyReplacedUnderAnotherIDIsAViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in  // crypto-shred key 1 and hide it by adding a row under an unused id
            let sealed = Array(try XCTUnwrap(try txn.get(raw.keys, key: UInt32(1).bigEndianBytes)))
            XCTAssertTrue(try txn.delete(raw.keys, key: UInt32(1).bigEndianBytes))
            try txn.put(raw.keys, key: UInt32(999).bigEndianBytes, value: sealed)
        }
        let report = try f.verify()
        XCTAssertTrue(report.violations.contains { $0.kind == .matterKey && $0.detail.contains("names key 1,") },
                      "\(report.violations)")
    }

    func testExtraSealedKeyIsAViolation() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            try txn.put(raw.keys, key: UInt32(999).bigEndianBytes, value: [UInt8](repeating: 1, count: 73))
        }
        let report = try f.verify()
        XCTAssertEqual(kinds(report), [.matterKey, .metadata],
                       "an extra key row, and the key counter no longer follows the highest id")
    }

    // MARK: - Missing, extra and reordered entries
    // (rows of `entries` deleted or added: storage format 2, one entry per row; EntryGroupTamperTests does format 3's)

    func testEntryDeletedInTheMiddleIsAMissingEntry() throws {
        let f = try makeLedger(storageFormat: 2)
        try f.edit { raw, txn in XCTAssertTrue(try txn.delete(raw.entries, key: UInt64(20).bigEndianBytes)) }
        let report = try f.verify()
        assertViolation(report, .missingEntry, seq: 20)
        assertViolation(report, .hashChain, seq: 21)
        XCTAssertEqual(report.violations.filter { $0.kind == .missingEntry }.count, 1)
    }

    /// Deletes entries `range` (and optionally their tree hashes, index rows and covering checkpoints)
    /// straight from LMDB.
    func removeTail(_ f: Fixture, from first: UInt64, treeHashes: Bool, indexRows: Bool = false,
                    checkpoints: Bool = false) throws {
        try f.edit { raw, txn in
            for seq in first..<f.count {
                let leaf = try txn.leaf(raw, seq)
                if indexRows {
                    XCTAssertTrue(try txn.delete(raw.matters,
                                                 key: Array(leaf[LeafOffsets.matterTag..<(LeafOffsets.matterTag + 32)]),
                                                 value: seq.bigEndianBytes))
                    if leaf[LeafOffsets.flags] & 1 == 1 {
                        XCTAssertTrue(try txn.delete(raw.sources,
                            key: Array(leaf[LeafOffsets.sourceTag..<(LeafOffsets.sourceTag + 32)])))
                    }
                }
                XCTAssertTrue(try txn.delete(raw.entries, key: seq.bigEndianBytes))
            }
            if treeHashes {
                for index in storedHashCount(Int64(first))..<storedHashCount(Int64(f.count)) {
                    XCTAssertTrue(try txn.delete(raw.tree, key: UInt64(index).bigEndianBytes))
                }
            }
            if checkpoints {
                for size in f.notes.keys where size > first {
                    XCTAssertTrue(try txn.delete(raw.checkpoints, key: size.bigEndianBytes))
                }
            }
        }
    }

    func testLastEntriesDeletedWithTheirTreeHashes() throws {
        let f = try makeLedger(checkpointsAt: [20], storageFormat: 2)
        try removeTail(f, from: 35, treeHashes: true)
        let report = try f.verify()
        XCTAssertEqual(report.entries, 35)
        // the index rows of 35…39 remain: the counts give the truncation away
        assertViolation(report, .matterIndex, seq: nil)
        assertViolation(report, .sourceIndex, seq: nil)
        assertNoViolation(report, .treeHash)
    }

    func testLastEntriesDeletedWithoutTheirTreeHashes() throws {
        let f = try makeLedger(checkpointsAt: [20], storageFormat: 2)
        try removeTail(f, from: 35, treeHashes: false)
        let report = try f.verify()
        XCTAssertEqual(report.entries, 35)
        assertViolation(report, .treeHash, seq: nil)
        assertViolation(report, .matterIndex, seq: nil)
    }

    func testCleanTruncationIsOnlyCaughtByACheckpoint() throws {
        // entries, tree hashes and index rows all removed consistently, no checkpoint covering them:
        // nothing inside the ledger can tell. This is what stored and trusted checkpoints are for.
        let f = try makeLedger(checkpointsAt: [20, 40], storageFormat: 2)
        let trusted = try XCTUnwrap(f.notes[40])
        try removeTail(f, from: 35, treeHashes: true, indexRows: true, checkpoints: true)
        let report = try f.verify()
        assertIntact(report, "a consistent truncation without covering checkpoints")
        XCTAssertEqual(report.entries, 35)
        let withTrusted = try f.verify(VerifyOptions(trustedCheckpoint: trusted))
        assertViolation(withTrusted, .trustedCheckpoint, seq: nil)
    }

    func testLastEntriesDeletedUnderAStoredCheckpointIsCheckpointBeyondLog() throws {
        let f = try makeLedger(checkpointsAt: [20, 40], storageFormat: 2)
        try removeTail(f, from: 35, treeHashes: true, indexRows: true)
        let report = try f.verify()
        assertViolation(report, .checkpointBeyondLog, seq: nil)
        XCTAssertEqual(kinds(report), [.checkpointBeyondLog])
    }

    func testLastEntriesDeletedUnderATrustedCheckpointIsATrustedCheckpointViolation() throws {
        let f = try makeLedger(checkpointsAt: [20, 40], storageFormat: 2)
        let trusted = try XCTUnwrap(f.notes[40])
        try removeTail(f, from: 35, treeHashes: true, indexRows: true, checkpoints: true)
        let report = try f.verify(VerifyOptions(trustedCheckpoint: trusted))
        assertViolation(report, .trustedCheckpoint, seq: nil)
        XCTAssertEqual(kinds(report), [.trustedCheckpoint])
        XCTAssertEqual(report.trustedCheckpointSize, 40)
    }

    func testSwappedEntriesAreLeafSeqAndHashChainViolations() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let a = try txn.entry(raw, UInt64(10))
            let b = try txn.entry(raw, UInt64(11))
            try txn.setEntry(raw, UInt64(10), b)
            try txn.setEntry(raw, UInt64(11), a)
        }
        let report = try f.verify()
        assertViolation(report, .leafSequence, seq: 10)
        assertViolation(report, .leafSequence, seq: 11)
        assertViolation(report, .hashChain, seq: 10)
        assertViolation(report, .hashChain, seq: 11)
        assertViolation(report, .hashChain, seq: 12)
        assertViolation(report, .treeHash, seq: 10)
    }

    func testEntryInsertedAfterTheEnd() throws {
        let f = try makeLedger(storageFormat: 2)
        try f.edit { raw, txn in
            try txn.put(raw.entries, key: UInt64(40).bigEndianBytes, value: try txn.entry(raw, UInt64(3)))
        }
        let report = try f.verify()
        assertViolation(report, .leafSequence, seq: 40)
        assertViolation(report, .hashChain, seq: 40)
        assertViolation(report, .treeHash, seq: 40)
    }

    func testEntryInsertedFarBeyondTheEnd() throws {
        let f = try makeLedger(storageFormat: 2)
        try f.edit { raw, txn in
            try txn.put(raw.entries, key: UInt64(1000).bigEndianBytes, value: try txn.entry(raw, UInt64(3)))
        }
        let report = try f.verify()
        assertViolation(report, .missingEntry, seq: 40)
        assertViolation(report, .leafSequence, seq: 1000)
        assertViolation(report, .hashChain, seq: 1000)
    }

    func testEntryUnderAMalformedKeyIsUnexpected() throws {
        let f = try makeLedger(storageFormat: 2)
        try f.edit { raw, txn in
            try txn.put(raw.entries, key: [0, 0, 0, 3], value: try txn.entry(raw, UInt64(3)))
        }
        let report = try f.verify()
        assertViolation(report, .unexpectedEntry, seq: nil)
        XCTAssertEqual(kinds(report), [.unexpectedEntry])
    }

    func testCiphertextMovedToAnotherEntry() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in
            let a = try txn.entry(raw, UInt64(6))
            let b = try txn.entry(raw, UInt64(9))  // same matter as 6: same key
            let aLeaf = Int(a[0]) << 8 | Int(a[1]), bLeaf = Int(b[0]) << 8 | Int(b[1])
            try txn.setEntry(raw, UInt64(9), Array(b[0..<(2 + bLeaf)]) + Array(a[(2 + aLeaf)...]))
        }
        let report = try f.verify()
        assertViolation(report, .ciphertextDigest, seq: 9)
        XCTAssertEqual(kinds(report), [.ciphertextDigest])
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        assertViolation(deep, .ciphertextDigest, seq: 9)
        assertViolation(deep, .decryption, seq: 9)
    }

    // MARK: - Rollback and rewritten history

    func testLedgerReplacedByAnOlderCopy() throws {
        let f = try Fixture()
        try f.append(0..<20, checkpointsAt: [10])
        let old = f.temp.file("old-copy")
        try FileManager.default.copyItem(atPath: f.dir, toPath: old)
        try f.append(20..<40, checkpointsAt: [40])
        let trusted = try XCTUnwrap(f.notes[40])
        assertIntact(try f.verify(VerifyOptions(trustedCheckpoint: trusted)),
                     "the current ledger against its own checkpoint")
        try FileManager.default.removeItem(atPath: f.dir)
        try FileManager.default.moveItem(atPath: old, toPath: f.dir)
        let alone = try f.verify()
        assertIntact(alone, "an older copy is internally consistent")
        XCTAssertEqual(alone.entries, 20)
        let report = try f.verify(VerifyOptions(pinnedVerifierKey: f.verifierKey, trustedCheckpoint: trusted))
        assertViolation(report, .trustedCheckpoint, seq: nil)
        XCTAssertEqual(kinds(report), [.trustedCheckpoint])
    }

    func testHistoryRewrittenAndResignedWithTheRealKey() throws {
        let f = try makeLedger(checkpointsAt: [20, 40], storageFormat: 2)
        let trusted = try XCTUnwrap(f.notes[40])
        // the attacker holds the master key: remove 30…39 with their tree hashes, index rows and checkpoints …
        try removeTail(f, from: 30, treeHashes: true, indexRows: true, checkpoints: true)
        f.count = 30
        f.notes[40] = nil
        // … append ten different records and sign a new checkpoint with the real signing key
        try f.append(30..<40, prefix: "forged", checkpointsAt: [40])
        let forged = try XCTUnwrap(f.notes[40])
        XCTAssertNotEqual(forged, trusted)
        let alone = try f.verify(VerifyOptions(pinnedVerifierKey: f.verifierKey))
        assertIntact(alone, "a re-signed history is consistent with itself and the real key")
        XCTAssertEqual(alone.entries, 40)
        let report = try f.verify(VerifyOptions(pinnedVerifierKey: f.verifierKey, trustedCheckpoint: trusted))
        assertViolation(report, .trustedCheckpoint, seq: 39)
        XCTAssertEqual(kinds(report), [.trustedCheckpoint])
        let deep = try f.verify(VerifyOptions(trustedCheckpoint: trusted, deep: true), unlocked: true)
        assertViolation(deep, .trustedCheckpoint, seq: 39)
    }

    func testReplacedVerifierKeyIsOnlyCaughtByPinning() throws {
        let f = try makeLedger(checkpointsAt: [20, 40])
        let attacker = try NoteSigner(name: Self.origin, seed: SecretBytes(randomCount: 32))
        XCTAssertNotEqual(attacker.verifierKey.text, f.verifierKey)
        try f.edit { raw, txn in
            try txn.put(raw.meta, key: Array("verifierKey".utf8), value: Array(attacker.verifierKey.text.utf8))
            for size in f.notes.keys {
                let note = String(decoding: try txn.value(raw.checkpoints, size.bigEndianBytes), as: UTF8.self)
                let resigned = try attacker.sign(try SignedNoteText(parsing: note).text)
                try txn.put(raw.checkpoints, key: size.bigEndianBytes, value: Array(resigned.utf8))
            }
        }
        try (attacker.verifierKey.text + "\n").write(toFile: f.temp.file("ledger/verifier.key"), atomically: true,
                                                     encoding: .utf8)
        // Without a pinned key the verifier can only trust the key the ledger carries: the swap is invisible.
        // This is exactly why `--verifier-key` (a copy kept outside the ledger) matters.
        let unpinned = try f.verify()
        assertIntact(unpinned, "replaced key + re-signed checkpoints, unpinned")
        XCTAssertEqual(unpinned.checkpointsChecked, 2)
        let pinned = try f.verify(VerifyOptions(pinnedVerifierKey: f.verifierKey))
        assertViolation(pinned, .verifierKey, seq: nil)
        assertViolation(pinned, .checkpointSignature, seq: nil)
        XCTAssertEqual(pinned.checkpointsChecked, 0)
    }

    func testVerifierKeyFileDifferingFromMetadataIsAViolation() throws {
        let f = try makeLedger()
        let attacker = try NoteSigner(name: Self.origin, seed: SecretBytes(randomCount: 32))
        try (attacker.verifierKey.text + "\n").write(toFile: f.temp.file("ledger/verifier.key"), atomically: true,
                                                     encoding: .utf8)
        assertViolation(try f.verify(), .verifierKey, seq: nil)
    }

    func testMalformedPinnedKeyThrows() throws {
        let f = try makeLedger()
        assertLedgerError(try f.verify(VerifyOptions(pinnedVerifierKey: "not a key"))) {
            if case .invalidArgument = $0 { return true } else { return false }
        }
    }

    // MARK: - Keys and deep

    func testCorruptedWrappedMatterKeyIsOnlySeenDeep() throws {
        let f = try makeLedger()
        try f.edit { raw, txn in try txn.flip(raw.keys, key: UInt32(2).bigEndianBytes, byte: 30, bit: 5) }
        assertIntact(try f.verify(), "keyless verify does not open matter keys")
        let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
        assertViolation(deep, .matterKey, seq: nil)
        XCTAssertTrue(deep.violations.contains { $0.kind == .matterKey && $0.seq != nil },
                      "the entries encrypted with it are named")
        XCTAssertTrue(deep.deep)
    }

    func testDeepVerifyOfACleanLedger() throws {
        let f = try makeLedger()
        let report = try f.verify(VerifyOptions(pinnedVerifierKey: f.verifierKey, trustedCheckpoint: f.notes[20],
                                                deep: true), unlocked: true)
        assertIntact(report, "deep")
        XCTAssertTrue(report.deep)
        XCTAssertTrue(report.verifierKeyPinned)
        XCTAssertEqual(report.entries, 40)
        XCTAssertEqual(report.trustedCheckpointSize, 20)
        XCTAssertEqual(report.newestValidCheckpoint, f.notes[40])
        // deep needs the master key
        assertLedgerError(try f.verify(VerifyOptions(deep: true), unlocked: false)) {
            if case .masterKeyRequired = $0 { return true } else { return false }
        }
    }

    func testNewestValidCheckpointIsClearedOnFailure() throws {
        let f = try makeLedger()
        XCTAssertEqual(try f.verify().newestValidCheckpoint, f.notes[40])
        try f.edit { raw, txn in try txn.flipEntry(raw, UInt64(1), byte: 300) }
        XCTAssertNil(try f.verify().newestValidCheckpoint)
    }

    // MARK: - Damaged files

    func testTruncatedDataFileThrowsALedgerError() throws {
        let f = try makeLedger()
        let data = f.temp.file("ledger/data.mdb")
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: data)[.size] as? NSNumber).intValue
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: data))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        assertThrowsLedgerErrorWithoutCrash(f)
    }

    func testGarbageDataFileThrowsALedgerError() throws {
        let f = try makeLedger()
        let data = f.temp.file("ledger/data.mdb")
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: data)[.size] as? NSNumber).intValue
        var generator = SystemRandomNumberGenerator()
        try Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
            .write(to: URL(fileURLWithPath: data))
        assertThrowsLedgerErrorWithoutCrash(f)
    }

    /// Garbage over the leaf pages of `entries`, below its root (the check at open only looks at roots): LMDB trusts
    /// its file and follows garbage node offsets through the map; verify must turn that into an error, not a crash.
    func testGarbageBelowTheRootsThrowsALedgerError() throws {
        let f = try Fixture(storageFormat: 2)  // leaf pages of entries (format 3's groups are in overflow pages)
        try f.append(0..<400, checkpointsAt: [400])
        let data = f.temp.file("ledger/data.mdb")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data)))
        let pageSize = 4096
        var damaged = 0
        for page in 2..<(bytes.count / pageSize) {
            let p = page * pageSize
            func u16(_ o: Int) -> Int { Int(bytes[p + o]) | Int(bytes[p + o + 1]) << 8 }
            // a plain leaf page (P_LEAF only) whose first node has an 8-byte key and a value of an entry's size
            guard u16(10) == 0x02, u16(12) > 16 else { continue }
            let node = u16(16)
            guard node >= 18, node + 8 <= pageSize else { continue }
            let dataSize = u16(node) | u16(node + 2) << 16, keySize = u16(node + 6)
            guard keySize == 8, dataSize > 200 else { continue }
            for o in (p + 16)..<(p + pageSize) { bytes[o] = 0xA5 }
            damaged += 1
        }
        XCTAssertGreaterThan(damaged, 5, "found the leaf pages of entries")
        try Data(bytes).write(to: URL(fileURLWithPath: data))
        assertThrowsLedgerErrorWithoutCrash(f)
    }

    func assertThrowsLedgerErrorWithoutCrash(_ f: Fixture, orReportsDamage: Bool = false,
                                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            let ledger = try Ledger.open(at: f.dir)
            defer { ledger.close() }
            let report = try ledger.verify()
            if orReportsDamage && !report.isIntact { return }
            XCTFail("expected a LedgerError, verify returned \(report.violationCount) violations",
                    file: file, line: line)
        } catch let error as LedgerError {
            switch error {
            case .corrupt: XCTFail("damaged storage must not map to exit 1 (.corrupt): \(error)",
                                   file: file, line: line)
            default: break
            }
        } catch {
            XCTFail("expected a LedgerError, got \(type(of: error)): \(error)", file: file, line: line)
        }
    }
}
