import Foundation
@testable import Ledger
import LedgerFormat
import LedgerSupport
import MerkleLog
import RecordFormats
import SignedNote
import Sodium
import XCTest

final class AppendTests: XCTestCase {
    func testAppendReturnsConsecutiveSeqs() throws {
        let t = try TestLedger()
        XCTAssertEqual(try t.ledger.size(), 0)
        for expected in 0..<5 as Range<UInt64> {
            XCTAssertEqual(try t.ledger.append(validRecord(["subject": .string("n\(expected)")])),
                           .appended(seq: expected))
        }
        XCTAssertEqual(try t.ledger.size(), 5)
        let batch = try t.ledger.append([validRecord(), validRecord(matter: "M-2"), validRecord()])
        XCTAssertEqual(batch, [.appended(seq: 5), .appended(seq: 6), .appended(seq: 7)])
        XCTAssertEqual(try t.ledger.append([]), [])
        XCTAssertEqual(try t.ledger.size(), 8)
    }

    func testDuplicateSourceIdIsSkipped() throws {
        let t = try TestLedger()
        XCTAssertEqual(try t.ledger.append(validRecord(["sourceSystem": "pms", "sourceId": "c-1"])), .appended(seq: 0))
        XCTAssertEqual(try t.ledger.append(validRecord(["sourceSystem": "pms", "sourceId": "c-2"])), .appended(seq: 1))
        let root = try t.ledger.rootHash()
        XCTAssertEqual(try t.ledger.append(validRecord(["sourceSystem": "pms", "sourceId": "c-1",
                                                        "subject": "changed"])),
                       .duplicate(of: 0))
        XCTAssertEqual(try t.ledger.size(), 2)
        XCTAssertEqual(try t.ledger.rootHash(), root)
        // Same sourceId from another system, or with no system, is a different record.
        XCTAssertEqual(try t.ledger.append(validRecord(["sourceSystem": "crm", "sourceId": "c-1"])), .appended(seq: 2))
        XCTAssertEqual(try t.ledger.append(validRecord(["sourceId": "c-1"])), .appended(seq: 3))
        XCTAssertEqual(try t.ledger.append(validRecord(["sourceId": "c-1"])), .duplicate(of: 3))
        // Records without a sourceId are never duplicates.
        XCTAssertEqual(try t.ledger.append(validRecord()), .appended(seq: 4))
        XCTAssertEqual(try t.ledger.append(validRecord()), .appended(seq: 5))
        // A (system, id) pair must not collide with another split of the same characters.
        XCTAssertEqual(try t.ledger.append(validRecord(["sourceSystem": "pm", "sourceId": "sc-1"])), .appended(seq: 6))
    }

    func testBatchWithInternalDuplicates() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(validRecord(["sourceId": "old"]))
        let outcomes = try t.ledger.append([
            validRecord(["sourceId": "a"]), validRecord(["sourceId": "b"]), validRecord(["sourceId": "a"]),
            validRecord(["sourceId": "old"]), validRecord(), validRecord(["sourceId": "b"]),
        ])
        XCTAssertEqual(outcomes, [.appended(seq: 1), .appended(seq: 2), .duplicate(of: 1), .duplicate(of: 0),
                                  .appended(seq: 3), .duplicate(of: 2)])
        XCTAssertEqual(try t.ledger.size(), 4)
        XCTAssertEqual(try t.ledger.entry(3).string("sourceId"), nil)
        XCTAssertEqual(try t.ledger.entry(2).string("sourceId"), "b")
    }

    func testCorrectsMustPointBackwards() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(validRecord())
        _ = try t.ledger.append(validRecord())
        let root = try t.ledger.rootHash()
        let dataBefore = try fileDigest(t.directory + "/data.mdb")
        // Seq 2 would be the record itself; 5 is in the future.
        for target: Int64 in [2, 5] {
            let errors = invalidRecords(try t.ledger.append(validRecord(["kind": "correction",
                                                                         "corrects": .integer(target)])))
            XCTAssertEqual(errors?.count, 1)
            XCTAssertEqual(errors?.first?.field, "corrects")
        }
        // In a batch: the whole batch is refused, even its good records.
        let errors = invalidRecords(try t.ledger.append([validRecord(), validRecord(["corrects": 9])]))
        XCTAssertEqual(errors?.map(\.field), ["corrects"])
        XCTAssertEqual(try t.ledger.size(), 2)
        XCTAssertEqual(try t.ledger.rootHash(), root)
        XCTAssertEqual(try fileDigest(t.directory + "/data.mdb"), dataBefore)
        // Backwards is fine, including to an earlier record of the same batch.
        XCTAssertEqual(try t.ledger.append(validRecord(["corrects": 1])), .appended(seq: 2))
        XCTAssertEqual(try t.ledger.append([validRecord(), validRecord(["corrects": 3])]),
                       [.appended(seq: 3), .appended(seq: 4)])
        XCTAssertEqual(try t.ledger.entry(4).record["corrects"], 3)
    }

    func testEntryDecryptsToTheSameValues() throws {
        let t = try TestLedger()
        let json = recordJSON([
            "client": "Client Ltd", "summary": "line one\nline two — ünïcödé ✓",
            "recipients": ["a@example.com", "b@example.com"], "durationMinutes": 42, "privileged": true,
            "attachments": [["name": "a.pdf", "sha256": .string(String(repeating: "0f", count: 32))]],
            "x-firm": ["code": [1, 2, .null]], "sourceSystem": "pms", "sourceId": "id-9",
        ])
        let validated = try RecordSchema.validate(json)
        _ = try t.ledger.append(validRecord())
        XCTAssertEqual(try t.ledger.append(validated), .appended(seq: 1))
        let entry = try t.ledger.entry(1)
        XCTAssertEqual(entry.seq, 1)
        XCTAssertEqual(JSONValue.object(entry.record), json)
        XCTAssertEqual(entry.record.keys, validated.fields.map(\.name), "keys in leaf order")
        XCTAssertEqual(entry.leaf.fieldNames, validated.fields.map(\.name))
        XCTAssertEqual(entry.disclosures.map(\.value), validated.fields.map(\.value))
        XCTAssertEqual(entry.disclosures.map(\.name), validated.fields.map(\.name))
        XCTAssertEqual(Leaf.fieldsDigest(names: entry.leaf.fieldNames, digests: entry.disclosures.map(\.digest)),
                       entry.leaf.fieldsDigest)
        XCTAssertEqual(entry.occurredAt, validated.occurredAt)
        XCTAssertEqual(entry.string("summary"), "line one\nline two — ünïcödé ✓")
        XCTAssertNotNil(entry.leaf.sourceTag)
        XCTAssertNil(try t.ledger.entry(0).leaf.sourceTag)
        XCTAssertEqual(entry.leaf.ledgerID, t.ledger.ledgerID)
        XCTAssertEqual(entry.leaf.seq, 1)
        // Salts differ between fields and between entries.
        XCTAssertEqual(Set(entry.disclosures.map { Hex.encode($0.salt) }).count, entry.disclosures.count)
        XCTAssertNotEqual(try t.ledger.entry(0).disclosures[0].salt, entry.disclosures[0].salt)
    }

    func testSameRecordTwiceGivesDifferentCiphertextsAndDigests() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([validRecord(), validRecord()])
        let a = try t.ledger.entry(0), b = try t.ledger.entry(1)
        XCTAssertEqual(a.record, b.record)
        XCTAssertNotEqual(a.leaf.nonce, b.leaf.nonce)
        XCTAssertNotEqual(a.leaf.ciphertextHash, b.leaf.ciphertextHash)
        XCTAssertNotEqual(a.leaf.fieldsDigest, b.leaf.fieldsDigest)
        XCTAssertEqual(a.leaf.matterTag, b.leaf.matterTag)
        XCTAssertEqual(a.leaf.keyID, b.leaf.keyID)
    }

    func testMattersGetTheirOwnKeysAndTags() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([validRecord(matter: "A"), validRecord(matter: "B"), validRecord(matter: "A")])
        _ = try t.ledger.append(validRecord(matter: "B"))
        let entries = try allEntries(t.ledger)
        // Leaf v2: key 1 is A's key pair, 2 the first batch's key for A, 3 B's key pair, 4 the batch key for B; the
        // second batch seals a new batch key (5) to B's existing pair.
        XCTAssertEqual(entries.map(\.leaf.keyID), [2, 4, 2, 5])
        XCTAssertEqual(entries.map(\.leaf.version), [2, 2, 2, 2])
        XCTAssertEqual(entries[0].leaf.matterTag, entries[2].leaf.matterTag)
        XCTAssertNotEqual(entries[0].leaf.matterTag, entries[1].leaf.matterTag)
        XCTAssertEqual(entries[1].leaf.matterTag, entries[3].leaf.matterTag)
    }

    func testUnknownSequenceThrows() throws {
        let t = try TestLedger()
        assertLedgerError(try t.ledger.entry(0)) {
            if case .unknownSequence(0, size: 0) = $0 { return true } else { return false }
        }
        _ = try t.ledger.append([validRecord(), validRecord()])
        assertLedgerError(try t.ledger.entry(2)) {
            if case .unknownSequence(2, size: 2) = $0 { return $0.description.contains("0 to 1") } else { return false }
        }
        assertLedgerError(try t.ledger.entry(UInt64.max)) {
            if case .unknownSequence(UInt64.max, size: 2) = $0 { return true } else { return false }
        }
    }

    func testEntriesMatchingFiltersByMatterAndTime() throws {
        let t = try TestLedger()
        let times = ["2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z", "2026-01-04T10:00:00Z"]
        var records = [ValidatedRecord]()
        for (i, time) in times.enumerated() {
            records.append(try validRecord(matter: "A", occurredAt: time))
            records.append(try validRecord(["subject": .string("b\(i)")], matter: "B", occurredAt: time))
        }
        _ = try t.ledger.append(records)
        XCTAssertEqual(try allEntries(t.ledger).map(\.seq), Array(0..<8))
        XCTAssertEqual(try allEntries(t.ledger, EntryFilter(matter: "A")).map(\.seq), [0, 2, 4, 6])
        XCTAssertEqual(try allEntries(t.ledger, EntryFilter(matter: "B")).map(\.seq), [1, 3, 5, 7])
        XCTAssertTrue(try allEntries(t.ledger, EntryFilter(matter: "B")).allSatisfy { $0.string("matter") == "B" })
        let from = Timestamp.parseRFC3339(times[1])!, to = Timestamp.parseRFC3339(times[2])!
        XCTAssertEqual(try allEntries(t.ledger, EntryFilter(matter: "A", from: from, to: to)).map(\.seq), [2, 4],
                       "bounds inclusive")
        XCTAssertEqual(try allEntries(t.ledger, EntryFilter(from: from)).map(\.seq), [2, 3, 4, 5, 6, 7])
        XCTAssertEqual(try allEntries(t.ledger, EntryFilter(to: from)).map(\.seq), [0, 1, 2, 3])
        XCTAssertEqual(try allEntries(t.ledger, EntryFilter(from: to + 1, to: to + 2)).map(\.seq), [])
        // Offsets are honoured: 11:00+01:00 is 10:00Z.
        _ = try t.ledger.append(validRecord(matter: "C", occurredAt: "2026-01-02T11:00:00+01:00"))
        XCTAssertEqual(try allEntries(t.ledger, EntryFilter(matter: "C", from: from, to: from)).map(\.seq), [8])
        assertLedgerError(try allEntries(t.ledger, EntryFilter(matter: "nope"))) {
            if case .unknownMatter = $0 { return true } else { return false }
        }
        assertLedgerError(try allEntries(t.ledger, EntryFilter(matter: "a"))) {  // matters are exact
            if case .unknownMatter = $0 { return true } else { return false }
        }
    }

    func testRecordedAtNeverDecreases() throws {
        let t = try TestLedger()
        for i in 0..<5 {
            _ = try t.ledger.append((0...i).map { _ in try validRecord() })
        }
        let times = try allEntries(t.ledger).map(\.recordedAt)
        XCTAssertEqual(times.count, 15)
        XCTAssertEqual(times, times.sorted())
        let now = Clock.nowMicros()
        XCTAssertLessThanOrEqual(times.last!, now)
        XCTAssertGreaterThan(times.first!, now - 3_600_000_000, "recordedAt is the ledger's clock")
    }

    func testRecordedAtIsClampedWhenTheClockRunsBackwards() throws {
        // Simulate a last entry stamped in the future: the next append must not go below it.
        let t = try TestLedger()
        _ = try t.ledger.append(validRecord())
        let future = Clock.nowMicros() + 3_600_000_000
        t.ledger.session.withLock { $0.appendState?.lastRecordedAt = future }
        _ = try t.ledger.append(validRecord())
        XCTAssertEqual(try t.ledger.entry(1).recordedAt, future)
    }

    func testLeafChainLinks() throws {
        let t = try TestLedger()
        _ = try t.ledger.append((0..<5).map { _ in try validRecord() })
        _ = try t.ledger.append(validRecord(matter: "other"))
        _ = try t.ledger.append((0..<3).map { _ in try validRecord() })
        let leaves = try storedLeaves(t.ledger)
        XCTAssertEqual(leaves.count, 9)
        var previous = Hash.zero
        for (seq, bytes) in leaves.enumerated() {
            let leaf = try Leaf.decode(bytes)
            XCTAssertEqual(leaf.seq, UInt64(seq))
            XCTAssertEqual(leaf.previousHash, previous, "seq \(seq)")
            // Independently: SHA-256(0x00 || leaf) via libsodium.
            XCTAssertEqual(recordHash(bytes).bytes, sodiumSHA256([0] + bytes))
            previous = recordHash(bytes)
        }
        XCTAssertEqual(try Leaf.decode(leaves[0]).previousHash.bytes, [UInt8](repeating: 0, count: 32))
        XCTAssertEqual(try t.ledger.entry(8).leafHash, recordHash(leaves[8]))
    }

    func testCiphertextHashInLeafMatchesStoredCiphertext() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([validRecord(), validRecord(["summary": "x"])])
        try t.ledger.store.environment.read { txn in
            for seq: UInt64 in 0..<2 {
                let entry = try txn.storedEntry(t.ledger.store, seq)!
                let leaf = try Leaf.decode(entry.leaf)
                XCTAssertEqual(leaf.ciphertextHash.bytes, sodiumSHA256(Array(entry.ciphertext)))
            }
        }
    }

    func testRootHashMatchesIndependentTree() throws {
        let t = try TestLedger()
        XCTAssertEqual(try t.ledger.rootHash(), Hash.emptyTree)
        XCTAssertEqual(try t.ledger.rootHash().bytes, sodiumSHA256([]))
        for n in [1, 2, 4, 6] {
            _ = try t.ledger.append((0..<n).map { _ in try validRecord() })
        }
        let leaves = try storedLeaves(t.ledger)
        XCTAssertEqual(leaves.count, 13)
        var builder = TreeBuilder()
        var roots = [Hash.emptyTree]
        for leaf in leaves {
            builder.append(recordHash(leaf))
            roots.append(builder.rootHash())
        }
        for size in 0...13 {
            XCTAssertEqual(try t.ledger.rootHash(size: UInt64(size)), roots[size], "size \(size)")
        }
        XCTAssertEqual(try t.ledger.rootHash(), roots[13])
        // And against the RFC 6962 recursion written out here.
        func mth(_ hashes: ArraySlice<Hash>) -> Hash {
            if hashes.count == 1 { return hashes.first! }
            var k = 1
            while k * 2 < hashes.count { k *= 2 }
            let left = mth(hashes.prefix(k)), right = mth(hashes.dropFirst(k))
            return Hash(bytes: sodiumSHA256([1] + left.bytes + right.bytes))!
        }
        let hashes = leaves.map { Hash(bytes: sodiumSHA256([0] + $0))! }
        for size in 1...13 {
            XCTAssertEqual(try t.ledger.rootHash(size: UInt64(size)), mth(hashes[0..<size]), "size \(size)")
        }
    }

    func testSignCheckpoint() throws {
        let t = try TestLedger(origin: "firm.example/ledger")
        XCTAssertNil(try t.ledger.latestCheckpoint())
        let empty = try t.ledger.signCheckpoint()
        _ = try t.ledger.append((0..<3).map { _ in try validRecord() })
        let note = try t.ledger.signCheckpoint()
        XCTAssertEqual(try t.ledger.latestCheckpoint(), note)

        let key = try NoteVerifierKey(text: t.ledger.storedVerifierKey)
        XCTAssertEqual(key.name, "firm.example/ledger")
        let parsed = try SignedNoteText(parsing: note)
        XCTAssertNoThrow(try parsed.verify(with: key))
        let checkpoint = try Checkpoint(body: parsed.text)
        XCTAssertEqual(checkpoint.origin, "firm.example/ledger")
        XCTAssertEqual(checkpoint.size, 3)
        XCTAssertEqual(checkpoint.rootHash, try t.ledger.rootHash().bytes)
        XCTAssertEqual(parsed.text, "firm.example/ledger\n3\n\(try t.ledger.rootHash().base64)\n")

        let emptyParsed = try SignedNoteText(parsing: empty)
        XCTAssertNoThrow(try emptyParsed.verify(with: key))
        XCTAssertEqual(try Checkpoint(body: emptyParsed.text).size, 0)
        XCTAssertEqual(try Checkpoint(body: emptyParsed.text).rootHash, sodiumSHA256([]))

        // The verifier key file written at init holds the same key.
        let fileKey = try String(contentsOfFile: t.directory + "/verifier.key", encoding: .utf8)
        XCTAssertEqual(fileKey, t.ledger.storedVerifierKey + "\n")

        // A tampered note fails, and another ledger's key does not verify it.
        let tampered = note.replacingOccurrences(of: "\n3\n", with: "\n4\n")
        XCTAssertThrowsError(try SignedNoteText(parsing: tampered).verify(with: key))
        let other = try TestLedger(origin: "firm.example/ledger")
        XCTAssertThrowsError(try parsed.verify(with: NoteVerifierKey(text: other.ledger.storedVerifierKey)))
    }

    func testSigningNeedsTheKey() throws {
        let t = try TestLedger()
        t.ledger.close()
        let locked = try Ledger.open(at: t.directory)
        assertLedgerError(try locked.signCheckpoint()) {
            if case .masterKeyRequired = $0 { return true } else { return false }
        }
        assertLedgerError(try locked.append(validRecord())) {
            if case .masterKeyRequired = $0 { return true } else { return false }
        }
        assertLedgerError(try locked.entry(0)) { if case .masterKeyRequired = $0 { return true } else { return false } }
        // Keyless reads work.
        XCTAssertEqual(try locked.size(), 0)
        XCTAssertEqual(try locked.rootHash(), Hash.emptyTree)
        locked.close()
    }

    func testTwoLedgersHaveDifferentIdentities() throws {
        let a = try TestLedger(), b = try TestLedger()
        XCTAssertEqual(a.ledger.ledgerID.count, 16)
        XCTAssertNotEqual(a.ledger.ledgerID, b.ledger.ledgerID)
        XCTAssertNotEqual(a.ledger.storedVerifierKey, b.ledger.storedVerifierKey)
        XCTAssertEqual(a.ledger.origin, "test.invalid/ledger")
        XCTAssertEqual(a.ledger.keyMode, "file")
    }

    func testReopenedLedgerContinuesTheChain() throws {
        let t = try TestLedger()
        _ = try t.ledger.append((0..<3).map { _ in try validRecord(["sourceId": .string(UUID().uuidString)]) })
        _ = try t.ledger.append(validRecord(["sourceId": "keep"]))
        let lastLeaf = try storedLeaves(t.ledger).last!
        let rootBefore = try t.ledger.rootHash()
        let ledgerID = t.ledger.ledgerID

        let reopened = try t.reopen()
        defer { reopened.close() }
        XCTAssertEqual(reopened.ledgerID, ledgerID)
        XCTAssertEqual(try reopened.size(), 4)
        XCTAssertEqual(try reopened.rootHash(), rootBefore)
        XCTAssertEqual(try reopened.append(validRecord(["sourceId": "keep"])), .duplicate(of: 3),
                       "source index survives")
        XCTAssertEqual(try reopened.append(validRecord()), .appended(seq: 4))
        let leaves = try storedLeaves(reopened)
        let newLeaf = try Leaf.decode(leaves[4])
        XCTAssertEqual(newLeaf.previousHash, recordHash(lastLeaf))
        XCTAssertEqual(newLeaf.keyID, 4, "a new batch key (1 is the pair, 2 and 3 the batch keys of the appends before)")
        XCTAssertGreaterThanOrEqual(newLeaf.recordedAt, try Leaf.decode(lastLeaf).recordedAt)
        var builder = TreeBuilder()
        for leaf in leaves { builder.append(recordHash(leaf)) }
        XCTAssertEqual(try reopened.rootHash(), builder.rootHash())
        XCTAssertEqual(try reopened.rootHash(size: 4), rootBefore)
        XCTAssertEqual(try reopened.entry(0).string("matter"), "M-1")
    }

    func testSecondHandleInOneProcessIsRefused() throws {
        // LMDB forbids two environments on one path in one process; the engine must throw, not corrupt locks.
        let t = try TestLedger()
        _ = try t.ledger.append(validRecord())
        assertLedgerError(try Ledger.open(at: t.directory)) { _ in true }
        // The first handle still works.
        XCTAssertEqual(try t.ledger.append(validRecord()), .appended(seq: 1))
    }

    func testOpenRefusesMissingOrForeignDirectories() throws {
        let temp = try TempDir()
        assertLedgerError(try Ledger.open(at: temp.file("nothing"))) {
            if case .ledgerNotFound = $0 { return true } else { return false }
        }
        assertLedgerError(try Ledger.open(at: temp.path)) {  // a directory without data.mdb: no ledger there
            if case .ledgerNotFound = $0 { return true } else { return false }
        }
        try Data("not an LMDB file".utf8).write(to: URL(fileURLWithPath: temp.file("data.mdb")))
        assertLedgerError(try Ledger.open(at: temp.path)) {
            if case .notALedger = $0 { return true } else { return false }
        }
    }
}

final class LargeRecordTests: XCTestCase {
    /// A record with `count` extension fields named to `nameLength` bytes.
    func manyFields(_ count: Int, nameLength: Int = 64) -> JSONValue {
        var overrides = [String: JSONValue?]()
        for i in 0..<count {
            let stem = "x-\(i)-"
            overrides[stem + String(repeating: "f", count: nameLength - stem.count)] = .integer(Int64(i))
        }
        return recordJSON(overrides)
    }

    func testRecordWithTooManyFieldsIsRefusedNotATrap() throws {
        // ~1100 fields of 64-byte names: a ~80 KB record, well under 1 MiB, but its leaf would exceed
        // the u16 leaf length of the stored entry (65535 bytes).
        let t = try TestLedger()
        let value = manyFields(1100)
        let bytes = JSONWriter.serialize(value)
        XCTAssertLessThan(bytes.count, RecordSchema.maxRecordBytes)
        XCTAssertThrowsError(try RecordSchema.validate(value)) { error in
            XCTAssertTrue((error as? RecordError)?.reason.contains("1000 fields") ?? false, "\(error)")
        }
        let line = try t.temp.write("wide.jsonl", bytes: bytes)
        XCTAssertEqual(invalidRecords(try t.ledger.importRecords(from: line))?.first?.line, 1)
        XCTAssertEqual(try t.ledger.size(), 0)
    }

    func testLargestFittingRecordRoundTrips() throws {
        let t = try TestLedger()
        let value = manyFields(RecordSchema.maxFieldCount - 5)  // plus the 5 required fields
        let record = try RecordSchema.validate(value)
        XCTAssertEqual(try t.ledger.append(record), .appended(seq: 0))
        let entry = try t.ledger.entry(0)
        XCTAssertEqual(JSONValue.object(entry.record), value)
        let leaf = try storedLeaves(t.ledger)[0]
        XCTAssertGreaterThan(leaf.count, 60_000)
        XCTAssertEqual(try Leaf.decode(leaf).encoded(), leaf)
    }

    func testLongSummaryRoundTrips() throws {
        let t = try TestLedger()
        let summary = String(repeating: "Long summary text. ", count: 27_000)  // ~513 KB is over; use just under
        let fitting = String(summary.prefix(512 * 1024))
        _ = try t.ledger.append(validRecord(["summary": .string(fitting),
                                             "decisions": .string(String(repeating: "d", count: 256 * 1024))]))
        XCTAssertEqual(try t.ledger.entry(0).string("summary"), fitting)
    }
}

final class TamperOnReadTests: XCTestCase {
    func storedValue(_ ledger: Ledger, _ seq: UInt64) throws -> [UInt8] {
        try ledger.store.environment.read { Array(try XCTUnwrap(try $0.storedEntryValue(ledger.store, seq))) }
    }

    /// Replaces the stored entry `seq` (format 3: inside its group, whose header then states the new length).
    func overwrite(_ ledger: Ledger, _ seq: UInt64, _ value: [UInt8]) throws {
        let store = ledger.store
        try store.environment.write { txn in
            guard store.entryLayout == .grouped else {
                return try txn.put(store.entries, key: seq.bigEndianBytes, value: value)
            }
            let cursor = try txn.cursor(store.entries)
            var row = try cursor.seek(atLeast: seq.bigEndianBytes)
            if row.map({ UInt64(bigEndianBytes: $0.key)! != seq }) ?? true {
                row = row == nil ? try cursor.last() : try cursor.previous()
            }
            let found = try XCTUnwrap(row)
            let key = Array(found.key), first = try XCTUnwrap(UInt64(bigEndianBytes: found.key))
            var entries = try EntryGroup.split(found.value).map { Array($0) }
            cursor.close()
            entries[Int(seq - first)] = value
            try txn.put(store.entries, key: key, value: EntryGroup.encode(entries))
        }
    }

    func assertCorrupt(_ ledger: Ledger, _ seq: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        assertLedgerError(try ledger.entry(seq), file: file, line: line) {
            if case .corrupt = $0 { return true } else { return false }
        }
    }

    func testAlteredCiphertextIsRefused() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([validRecord(["summary": "original"]), validRecord()])
        var value = try storedValue(t.ledger, 0)
        value[value.count - 20] ^= 0x01
        try overwrite(t.ledger, 0, value)
        assertCorrupt(t.ledger, 0)
        XCTAssertNoThrow(try t.ledger.entry(1))
    }

    func testCiphertextMovedToAnotherSeqIsRefused() throws {
        // Swap the ciphertexts of two entries of the same matter, keeping each leaf: the AD binds the seq.
        let t = try TestLedger()
        _ = try t.ledger.append([validRecord(["summary": "first"]), validRecord(["summary": "second"])])
        let a = try storedValue(t.ledger, 0), b = try storedValue(t.ledger, 1)
        let (leafA, _) = try a.withUnsafeBytes {
            let p = try StoredEntry.split($0)
            return (Array(p.leaf), Array(p.ciphertext))
        }
        let (leafB, ctB) = try b.withUnsafeBytes {
            let p = try StoredEntry.split($0)
            return (Array(p.leaf), Array(p.ciphertext))
        }
        var leaf = try Leaf.decode(leafA)
        let other = try Leaf.decode(leafB)
        leaf.nonce = other.nonce
        leaf.ciphertextHash = other.ciphertextHash
        leaf.fieldsDigest = other.fieldsDigest
        try overwrite(t.ledger, 0, StoredEntry.encode(leaf: leaf.encoded(), ciphertext: ctB))
        assertCorrupt(t.ledger, 0)
    }

    func testAlteredLeafFieldsDigestIsRefused() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(validRecord())
        let value = try storedValue(t.ledger, 0)
        let (rawLeaf, ciphertext) = try value.withUnsafeBytes {
            let p = try StoredEntry.split($0)
            return (Array(p.leaf), Array(p.ciphertext))
        }
        var leaf = try Leaf.decode(rawLeaf)
        leaf.fieldsDigest = Hash.zero
        try overwrite(t.ledger, 0, StoredEntry.encode(leaf: leaf.encoded(), ciphertext: ciphertext))
        assertCorrupt(t.ledger, 0)
        // A leaf with trailing bytes is refused too.
        try overwrite(t.ledger, 0, StoredEntry.encode(leaf: rawLeaf + [0], ciphertext: ciphertext))
        assertCorrupt(t.ledger, 0)
    }
}
