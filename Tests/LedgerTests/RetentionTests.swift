import Foundation
import LMDB
@testable import Ledger
import LedgerFormat
import LedgerReport
import MerkleLog
import RecordFormats
import Sodium
import XCTest

/// Legal holds, crypto-shredding, master key rotation and the compaction that scrubs what they replace
/// (docs/RETENTION.md).
final class RetentionEngineTests: XCTestCase {
    /// A policy under which matter A closed in 2010: its 7 years are long over.
    private var closedLongAgo: RetentionPolicy {
        var policy = RetentionPolicy()
        policy.closed = ["A": 1_262_303_999_999_999]  // 2009-12-31T23:59:59.999999Z
        return policy
    }

    private func request(_ t: TestLedger, matters: [String] = ["A"], policy: RetentionPolicy? = nil, early: Bool = false,
                         keyName: String = "new.key") -> ShredRequest {
        ShredRequest(matters: matters, reason: "retention period over", by: "records manager",
                     policy: policy ?? closedLongAgo, beforeRetentionEnd: early,
                     newMasterKey: .keyFile(path: t.temp.file(keyName), allowInsideLedger: false),
                     now: Int64(Date().timeIntervalSince1970 * 1e6))
    }

    /// Two matters, a reader of A and a checkpoint.
    private func twoMatters() throws -> TestLedger {
        let t = try TestLedger()
        _ = try t.ledger.append([try validRecord(matter: "A"), try validRecord(matter: "B"), try validRecord(matter: "A")])
        _ = try t.ledger.append(try validRecord(matter: "A"))  // a second batch: a second batch key of A
        _ = try t.ledger.grant("reader-a", role: .reader, matters: ["A", "B"], credentialPath: t.temp.file("a.cred"))
        _ = try t.ledger.signCheckpoint()
        return t
    }

    func testAHoldBlocksShredUntilReleased() throws {
        let t = try twoMatters()
        let hold = try t.ledger.placeHold(matter: "A", reason: "Smith v. Firm", by: "general counsel")
        for early in [false, true] {
            assertLedgerError(try t.ledger.shred(request(t, early: early))) { error in
                guard case .invalidArgument(let message) = error else { return false }
                return message.contains("legal hold of entry \(hold)") && message.contains("No flag overrides")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.temp.file("new.key")), "a refused shred leaves no key")
        let second = try t.ledger.placeHold(matter: "A", reason: "regulator inquiry", by: "general counsel")
        assertLedgerError(try t.ledger.releaseHold(matter: "A", hold: nil, reason: "x", by: "gc")) {
            if case .invalidArgument(let m) = $0 { return m.contains("2 holds in force") } else { return false }
        }
        _ = try t.ledger.releaseHold(matter: "A", hold: hold, reason: "settled", by: "general counsel")
        XCTAssertThrowsError(try t.ledger.shred(request(t)), "the second hold still blocks")
        _ = try t.ledger.releaseHold(matter: "A", hold: second, reason: "closed", by: "general counsel")
        let summary = try t.ledger.shred(request(t))
        XCTAssertEqual(summary.matters.map(\.entries), [3])
        XCTAssertEqual(summary.matters.first?.readers, ["reader-a"])
        XCTAssertTrue(try t.ledger.verify().isIntact)
    }

    func testShredBeforeTheRetentionEndNeedsTheFlag() throws {
        let t = try twoMatters()
        var recent = RetentionPolicy()
        recent.closed = ["A": Int64(Date().timeIntervalSince1970 * 1e6) - 86_400_000_000]  // closed yesterday
        assertLedgerError(try t.ledger.shred(request(t, policy: recent))) {
            if case .invalidArgument(let m) = $0 { return m.contains("must be kept until") } else { return false }
        }
        assertLedgerError(try t.ledger.shred(request(t, policy: RetentionPolicy()))) {
            if case .invalidArgument(let m) = $0 { return m.contains("is not closed") } else { return false }
        }
        let summary = try t.ledger.shred(request(t, policy: recent, early: true))
        XCTAssertTrue(summary.matters[0].beforeRetentionEnd)
        let destroy = try XCTUnwrap(try t.ledger.events().compactMap { entry -> AccessEvent.Destruction? in
            if case .destroy(let d) = entry.event { return d } else { return nil }
        }.first)
        XCTAssertTrue(destroy.beforeRetentionEnd)
        XCTAssertNotNil(destroy.retainUntil)
        XCTAssertEqual(destroy.entries, 3)
        XCTAssertEqual(destroy.keyEpoch, 1)
    }

    func testAfterShredTheOldWrappedKeyBytesAreInNoFileOfTheLedgerDirectory() throws {
        let t = try twoMatters()
        t.ledger.close()
        let before = try storedKeyMaterial(t.directory)
        let ledger = try Ledger.open(at: t.directory)
        try ledger.unlock(with: .keyFile(path: t.keyPath))
        let summary = try ledger.shred(request(t))
        ledger.close()
        let compaction = try Ledger.compact(at: t.directory, destroyedBytes: summary.destroyedBytes)
        XCTAssertGreaterThan(compaction.patternsChecked, 0)
        // What is gone from the stored rows: A's key pair, its two batch keys and the reader's wrap of its pair; B's
        // key pair and the signing key as sealed under the old master key (B's batch key and wrap stay, unchanged).
        let live = Set(try storedKeyMaterial(t.directory))
        let gone = before.filter { !live.contains($0) }
        XCTAssertEqual(gone.count, 6, "A: pair, 2 batch keys, 1 wrap; B's old pair record; the old signing-key seal")
        for name in try FileManager.default.contentsOfDirectory(atPath: t.directory) {
            let data = try Data(contentsOf: URL(fileURLWithPath: (t.directory as NSString).appendingPathComponent(name)))
            for value in gone {
                XCTAssertNil(data.range(of: Data(value)), "\(name) still holds a wrapped key (\(value.count) bytes)")
            }
        }
        let reopened = try Ledger.open(at: t.directory)
        defer { reopened.close() }
        try reopened.unlock(with: .keyFile(path: t.temp.file("new.key")))
        XCTAssertEqual(try reopened.entry(1).string("matter"), "B", "the other matter is untouched")
        XCTAssertNotNil(try reopened.entry(0).destruction)
        let report = try reopened.verify(VerifyOptions(deep: true))
        XCTAssertTrue(report.isIntact, "\(report.violations)")
        XCTAssertEqual(report.shredded.map(\.entries), [3])
        XCTAssertEqual(report.shredded.first?.seqRange, 0...3)
        XCTAssertFalse(report.scrubPending)
    }

    func testABackupFromBeforeShredDoesNotOpenWithTheNewKey() throws {
        let t = try twoMatters()
        t.ledger.close()
        let backup = t.temp.file("backup")
        try FileManager.default.copyItem(atPath: t.directory, toPath: backup)
        let ledger = try Ledger.open(at: t.directory)
        try ledger.unlock(with: .keyFile(path: t.keyPath))
        _ = try ledger.shred(request(t))
        ledger.close()

        let old = try Ledger.open(at: backup)
        defer { old.close() }
        XCTAssertTrue(try old.verify().isIntact, "what the backup yields: a ledger that verifies keyless")
        assertLedgerError(try old.unlock(with: .keyFile(path: t.temp.file("new.key")))) {
            if case .wrongKey = $0 { return true } else { return false }
        }
        // The reader's credential was sealed the matter's keys before the shred: with the old backup it still opens
        // them (SECURITY.md: revoke and re-grant such credentials).
        try old.unlock(credentialFile: t.temp.file("a.cred"))
        XCTAssertEqual(try old.entry(0).string("matter"), "A")
        let current = try Ledger.open(at: t.directory)
        defer { current.close() }
        try current.unlock(credentialFile: t.temp.file("a.cred"))
        XCTAssertNotNil(try current.entry(0).destruction, "in the ledger itself the reader's wraps are gone")
        XCTAssertEqual(try current.entry(1).string("matter"), "B")
    }

    func testRotateMasterLeavesTheOldKeyOpeningNothing() throws {
        let t = try twoMatters()
        let summary = try t.ledger.rotateMaster(to: .keyFile(path: t.temp.file("next.key"), allowInsideLedger: false),
                                                reason: "administrator left", by: "it admin")
        XCTAssertEqual(summary.keyEpoch, 1)
        XCTAssertEqual(try t.ledger.entry(0).string("matter"), "A", "the session holds the new key")
        t.ledger.close()
        _ = try Ledger.compact(at: t.directory, destroyedBytes: summary.replacedKeyBytes)
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        assertLedgerError(try ledger.unlock(with: .keyFile(path: t.keyPath))) {
            if case .wrongKey(let m) = $0 { return m.contains("rotated 1 time") } else { return false }
        }
        try ledger.unlock(with: .keyFile(path: t.temp.file("next.key")))
        XCTAssertEqual(try allEntries(ledger).count, 4)
        XCTAssertTrue(try ledger.verify(VerifyOptions(deep: true)).isIntact)
        _ = try ledger.append(try validRecord(matter: "C"))
        try ledger.unlock(credentialFile: t.temp.file("a.cred"))
        XCTAssertEqual(try ledger.entry(1).string("matter"), "B", "credentials keep working")
    }

    func testPassphraseLedgerShredsWithANewPassphrase() throws {
        let temp = try TempDir()
        let cheap = PassphraseParameters(salt: SecureRandom.bytes(16), opsLimit: Argon2id.minimumOpsLimit,
                                         memLimit: UInt64(Argon2id.minimumMemLimit))
        let old = SecretBytes(copying: Array("correct horse".utf8))
        let ledger = try Ledger.create(at: temp.file("l"), origin: "test.invalid/p", masterKey: .passphrase(old, cheap))
        try ledger.unlock(with: .passphrase(old))
        _ = try ledger.append([try validRecord(matter: "A"), try validRecord(matter: "B")])
        let new = SecretBytes(copying: Array("battery staple".utf8))
        var again = cheap
        again.salt = SecureRandom.bytes(16)
        _ = try ledger.shred(ShredRequest(matters: ["A"], reason: "over", by: "rm", policy: closedLongAgo,
                                          beforeRetentionEnd: false, newMasterKey: .passphrase(new, again), now: Int64(Date().timeIntervalSince1970 * 1e6)))
        ledger.close()
        let reopened = try Ledger.open(at: temp.file("l"))
        defer { reopened.close() }
        XCTAssertThrowsError(try reopened.unlock(with: .passphrase(old)))
        try reopened.unlock(with: .passphrase(new))
        XCTAssertEqual(try reopened.entry(1).string("matter"), "B")
    }

    func testDestroyedMatterTakesNoNewEntriesAndNoHold() throws {
        let t = try twoMatters()
        _ = try t.ledger.shred(request(t))
        assertLedgerError(try t.ledger.append(try validRecord(matter: "A"))) {
            if case .invalidArgument(let m) = $0 { return m.contains("was destroyed") } else { return false }
        }
        XCTAssertThrowsError(try t.ledger.placeHold(matter: "A", reason: "late", by: "gc"))
        XCTAssertThrowsError(try t.ledger.shred(request(t, keyName: "again.key")), "destroyed once only")
        guard case .appended = try t.ledger.append(try validRecord(matter: "B")) else { return XCTFail("B takes entries") }
        assertLedgerError(try t.ledger.grant("late", role: .reader, matters: ["A"], credentialPath: t.temp.file("l.cred"))) {
            if case .invalidArgument(let m) = $0 { return m.contains("was destroyed") } else { return false }
        }
        XCTAssertEqual(try t.ledger.revoke("reader-a", matters: []).rekeyedMatters, 1, "B re-keyed; A has no keys left")
        XCTAssertTrue(try t.ledger.verify().isIntact)
        let facts = try t.ledger.retentionFacts(policy: closedLongAgo)
        XCTAssertEqual(facts.filter { $0.destroyed != nil }.map(\.matter), ["A"])
        XCTAssertEqual(facts.first { $0.matter == "B" }?.entries, 2)
    }

    func testTamperedRetentionEntriesAndRegistryAreCaught() throws {
        let t = try twoMatters()
        let hold = try t.ledger.placeHold(matter: "B", reason: "hold", by: "gc")
        let summary = try t.ledger.shred(request(t))
        let destroySeq = try XCTUnwrap(summary.matters.first?.destroySeq)
        t.ledger.close()
        let tagB = try tag(t, "B", t.temp.file("new.key"))
        XCTAssertEqual(try kinds(t), [])
        // The hold's registry row removed: shred would then pass over the hold; verify says so.
        try editAccess(t) { access, txn in _ = try txn.delete(access, key: AccessKey.hold(tagB, seq: hold)) }
        XCTAssertEqual(try kinds(t), [.retentionRegistry])
        try editAccess(t) { access, txn in
            let body = AccessEvent.hold(.init(matter: tagB, by: "gc", credential: "master", reason: "hold"))
            try txn.put(access, key: AccessKey.hold(tagB, seq: hold), value: body.encoded())
        }
        XCTAssertEqual(try kinds(t), [])
        // One byte of the destroy entry's body ("entries":3 → 4): the chain, tree and checkpoint all break.
        try RawLedger.edit(t.directory) { raw, txn in
            var value = try txn.entry(raw, destroySeq)
            let needle = Array("\"entries\":3".utf8)
            let at = try XCTUnwrap((0...(value.count - needle.count)).first { Array(value[$0..<($0 + needle.count)]) == needle })
            value[at + needle.count - 1] = UInt8(ascii: "4")
            try txn.setEntry(raw, destroySeq, value)
        }
        let found = try kinds(t)
        XCTAssertTrue(found.isSuperset(of: [.treeHash, .checkpointRoot, .destroyedMatter]), "\(found)")
    }

    func testATamperedKeyEpochIsCaught() throws {
        let t = try twoMatters()
        _ = try t.ledger.rotateMaster(to: .keyFile(path: t.temp.file("next.key"), allowInsideLedger: false),
                                      reason: "r", by: "it")
        t.ledger.close()
        XCTAssertEqual(try kinds(t), [], "intact after the rotation")
        try RawLedger.edit(t.directory) { raw, txn in  // one rotation recorded, two claimed
            try txn.put(raw.meta, key: Array("keyEpoch".utf8), value: UInt32(2).bigEndianBytes)
        }
        XCTAssertEqual(try kinds(t), [.retentionRegistry])
    }

    func testADestroyEntryMustStateTheMattersEntriesExactly() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([try validRecord(matter: "A"), try validRecord(matter: "A")])
        let tag = try t.ledger.requireKeys().matterTag("A")
        try t.ledger.commitEvents(operation: "test") { _ in  // a forged destruction that understates the entries
            [.rotate(.init(keyEpoch: 1, by: "x", credential: "master", reason: "r")),
             .destroy(.init(matter: tag, entries: 1, seqRange: 0...0, keys: 0, keyEpoch: 1, retainUntil: nil,
                            beforeRetentionEnd: true, by: "x", credential: "master", reason: "r"))]
        }
        let violations = try t.ledger.verify().violations
        XCTAssertTrue(violations.contains { $0.kind == .destroyedMatter && $0.seq == 3 }, "\(violations)")
    }

    func testRetentionEventBodiesRoundTripAndAreStrict() throws {
        let tag = Hash(bytes: [UInt8](repeating: 0xaa, count: 32))!
        let events: [AccessEvent] = [
            .hold(.init(matter: tag, by: "J. Doe, GC", credential: "master", reason: "Smith v. Firm")),
            .release(.init(matter: tag, hold: 17, by: "J. Doe, GC", credential: "master", reason: "settled")),
            .destroy(.init(matter: tag, entries: 3, seqRange: 0...7, keys: 4, keyEpoch: 1,
                           retainUntil: "2025-01-31T23:59:59.999999Z", beforeRetentionEnd: false, by: "rm",
                           credential: "master", reason: "retention over")),
            .destroy(.init(matter: tag, entries: 0, seqRange: nil, keys: 1, keyEpoch: 2, retainUntil: nil,
                           beforeRetentionEnd: true, by: "rm", credential: "master", reason: "granted, never used")),
            .rotate(.init(keyEpoch: 1, by: "it", credential: "master", reason: "administrator left")),
        ]
        for event in events { XCTAssertEqual(try AccessEvent.decode(event.encoded()), event) }
        let hex = String(repeating: "aa", count: 32)
        let refused = [
            #"{"by":"","credential":"master","event":"hold","matter":"\#(hex)","reason":"r"}"#,  // empty by
            #"{"by":"x","credential":"master","event":"hold","matter":"\#(hex)","reason":""}"#,  // empty reason
            #"{"by":"x","credential":"master","event":"hold","matter":"\#(hex)","reason":"r","x":1}"#,  // unknown
            #"{"by":"x","credential":"master","event":"release","matter":"\#(hex)","reason":"r"}"#,  // no hold
            // entries 3 in a range of 2 seqs; entries without a range; a range without entries
            #"{"beforeRetentionEnd":false,"by":"x","credential":"master","entries":3,"event":"destroy","firstSeq":4,"keyEpoch":1,"keys":1,"lastSeq":5,"matter":"\#(hex)","reason":"r"}"#,
            #"{"beforeRetentionEnd":false,"by":"x","credential":"master","entries":3,"event":"destroy","keyEpoch":1,"keys":1,"matter":"\#(hex)","reason":"r"}"#,
            #"{"beforeRetentionEnd":false,"by":"x","credential":"master","entries":0,"event":"destroy","firstSeq":4,"keyEpoch":1,"keys":1,"lastSeq":5,"matter":"\#(hex)","reason":"r"}"#,
            #"{"beforeRetentionEnd":false,"by":"x","credential":"master","entries":1,"event":"destroy","firstSeq":4,"keyEpoch":1,"keys":1,"lastSeq":4,"matter":"\#(hex)","reason":"r","retainUntil":"soon"}"#,
            #"{"credential":"master","by":"x","event":"rotate","keyEpoch":1,"reason":"r"}"#,  // not canonical
        ]
        for body in refused { XCTAssertThrowsError(try AccessEvent.decode(Array(body.utf8)), body) }
        var state = AccessState()
        XCTAssertNotNil(state.apply(events[1], seq: 1), "a release of no hold")
        XCTAssertNil(state.apply(events[0], seq: 17))
        XCTAssertNotNil(state.apply(events[2], seq: 20), "a destruction under a hold, and out of epoch")
        XCTAssertNotNil(state.apply(events[0], seq: 21), "a hold on a destroyed matter")
        XCTAssertNil(state.apply(events[4], seq: 22), "epoch 0 → 1")
        XCTAssertNotNil(state.apply(events[4], seq: 23), "epoch 1 again")
    }

    func testARemovedHoldRowDoesNotLetShredThrough() throws {
        let t = try twoMatters()
        let hold = try t.ledger.placeHold(matter: "A", reason: "litigation", by: "gc")
        let tagA = try t.ledger.requireKeys().matterTag("A")
        t.ledger.close()
        try editAccess(t) { access, txn in _ = try txn.delete(access, key: AccessKey.hold(tagA, seq: hold)) }
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        try ledger.unlock(with: .keyFile(path: t.keyPath))
        assertLedgerError(try ledger.shred(request(t))) {
            if case .corrupt(let m) = $0 { return m.contains("differ from its hold and release entries") } else { return false }
        }
        XCTAssertEqual(try ledger.entry(0).string("matter"), "A", "nothing was destroyed")
    }

    func testExclusiveOpenBackupAndCompactionRespectOtherUsers() throws {
        let t = try twoMatters()
        XCTAssertThrowsError(try Ledger.open(at: t.directory, exclusive: true), "another ledger object has it open")
        var withDigest = request(t)
        withDigest.policyDigest = String(repeating: "ab", count: 32)
        _ = try t.ledger.shred(withDigest)
        assertLedgerError(try t.ledger.backup(to: t.temp.file("b1"))) {
            if case .invalidArgument(let m) = $0 { return m.contains("ledger compact") } else { return false }
        }
        XCTAssertThrowsError(try Ledger.compact(at: t.directory), "this process still has the ledger open")
        XCTAssertTrue(try t.ledger.verify().scrubPending)
        let destroy = try XCTUnwrap(try t.ledger.events().compactMap { entry -> AccessEvent.Destruction? in
            if case .destroy(let d) = entry.event { return d } else { return nil }
        }.first)
        XCTAssertEqual(destroy.policyDigest, String(repeating: "ab", count: 32))
        XCTAssertEqual(destroy.closedAt, "2009-12-31T23:59:59.999999Z")
        t.ledger.close()
        try FileManager.default.createDirectory(atPath: t.directory + "/.compact-stale", withIntermediateDirectories: true)
        _ = try Ledger.compact(at: t.directory)
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.directory + "/.compact-stale"), "stale scratch removed")
        let reopened = try Ledger.open(at: t.directory)
        defer { reopened.close() }
        XCTAssertFalse(try reopened.verify().scrubPending)
        XCTAssertEqual(try reopened.backup(to: t.temp.file("b2")).entries, 7)
    }

    // MARK: - Helpers

    /// Every value of the keys database and every reader wrap, plus the sealed signing key: what a shred replaces.
    private func storedKeyMaterial(_ directory: String) throws -> [[UInt8]] {
        let env = try Environment(path: directory, maxDatabases: 16, mapSize: 1 << 30, flags: [.readOnly])
        defer { env.close() }
        let keys = try env.openDatabase("keys"), access = try env.openDatabase("access"), meta = try env.openDatabase("meta")
        return try env.read { txn in
            var out = [[UInt8]]()
            for db in [keys, access] {
                let cursor = try txn.cursor(db)
                defer { cursor.close() }
                var row = try cursor.first()
                while let current = row {
                    out.append(Array(current.value))
                    row = try cursor.next()
                }
            }
            out.append(Array(try XCTUnwrap(try txn.get(meta, key: Array("signingKey".utf8)))))
            return out
        }
    }

    private func tag(_ t: TestLedger, _ matter: String, _ key: String) throws -> Hash {
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        try ledger.unlock(with: .keyFile(path: key))
        return try ledger.requireKeys().matterTag(matter)
    }

    private func editAccess(_ t: TestLedger, _ body: (Database, WriteTransaction) throws -> Void) throws {
        let env = try Environment(path: t.directory, maxDatabases: 16, mapSize: 1 << 30)
        defer { env.close() }
        let access = try env.openDatabase("access")
        try env.write { try body(access, $0) }
    }

    private func kinds(_ t: TestLedger) throws -> Set<Violation.Kind> {
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        return Set(try ledger.verify().violations.map(\.kind))
    }
}
