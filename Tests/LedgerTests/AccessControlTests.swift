import Foundation
import LMDB
@testable import Ledger
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium
import XCTest

/// The crypto of access control (sealed boxes, key records, events) and its enforcement in the engine and in
/// keyless verify (docs/ACCESS.md).
final class SealedBoxTests: XCTestCase {
    func testSealedBoxOpensOnlyWithTheRecipientsKey() throws {
        let alice = BoxKeyPair.generate(), mallory = BoxKeyPair.generate()
        let secret = SecretBytes(randomCount: 32)
        let sealed = SealedBox.seal(secret, to: alice.publicKey)
        XCTAssertEqual(sealed.count, 32 + SealedBox.overhead)
        let opened = try sealed.withUnsafeBytes { try SealedBox.open($0, with: alice) }
        XCTAssertTrue(opened.constantTimeEquals(secret))
        XCTAssertThrowsError(try sealed.withUnsafeBytes { try SealedBox.open($0, with: mallory) })
        for index in [0, 31, 32, sealed.count - 1] {
            var altered = sealed
            altered[index] ^= 1
            XCTAssertThrowsError(try altered.withUnsafeBytes { try SealedBox.open($0, with: alice) }, "byte \(index)")
        }
    }

    func testKeyPairFromSecretKeyRecomputesThePublicKey() throws {
        let pair = BoxKeyPair.generate()
        XCTAssertEqual(try BoxKeyPair(secretKey: pair.secretKey).publicKey, pair.publicKey)
        let seed = SecretBytes(randomCount: 32)
        XCTAssertEqual(BoxKeyPair(seed: seed).publicKey, BoxKeyPair(seed: seed).publicKey, "a seed derives one pair")
    }

    func testMatterSecretCarriesTagAndMatter() throws {
        let reader = BoxKeyPair.generate()
        let tag = Hash(bytes: [UInt8](repeating: 7, count: 32))!
        let sealed = MatterSecret.seal(secretKey: SecretBytes(randomCount: 32), tag: tag, matter: "2026-0142",
                                       to: reader.publicKey)
        let opened = try sealed.withUnsafeBytes { try MatterSecret.open($0, with: reader) }
        XCTAssertEqual(opened.tag, tag)
        XCTAssertEqual(opened.matter, "2026-0142")
    }

    func testKeyRecordsRoundTripAndRefuseDamage() throws {
        let pair = KeyRecord.keyPair(.init(tag: Hash(bytes: [UInt8](repeating: 1, count: 32))!, previousID: 3,
                                           publicKey: [UInt8](repeating: 2, count: 32),
                                           sealedSecret: [UInt8](repeating: 3, count: 48 + 32 + 32 + 4)))
        let batch = KeyRecord.batchKey(pairID: 4, sealed: [UInt8](repeating: 5, count: 80))
        for (record, id) in [(pair, UInt32(4)), (batch, UInt32(5))] {
            let bytes = record.encoded()
            XCTAssertEqual(try bytes.withUnsafeBytes { try KeyRecord.decode($0, id: id) }, record)
            XCTAssertThrowsError(try Array(bytes.dropLast(90)).withUnsafeBytes { try KeyRecord.decode($0, id: id) })
            var unknown = bytes
            unknown[0] = 9
            XCTAssertThrowsError(try unknown.withUnsafeBytes { try KeyRecord.decode($0, id: id) })
        }
        // a key may only point back to an older key: no cycles
        XCTAssertThrowsError(try pair.encoded().withUnsafeBytes { try KeyRecord.decode($0, id: 3) })
        XCTAssertThrowsError(try batch.encoded().withUnsafeBytes { try KeyRecord.decode($0, id: 4) })
    }
}

final class AccessEventTests: XCTestCase {
    let tagA = Hash(bytes: [UInt8](repeating: 0xaa, count: 32))!
    let tagB = Hash(bytes: [UInt8](repeating: 0xbb, count: 32))!

    func events() -> [AccessEvent] {
        [.grant(.init(credential: "p.jones", role: .reader, publicKey: [UInt8](repeating: 1, count: 32),
                      matters: [tagA, tagB])),
         .revoke(.init(credential: "p.jones", matters: [tagB])),
         .rekey(.init(matter: tagB, keyID: 9, previousKeyID: 4)),
         .access(.init(credential: "p.jones", command: "show", matters: [tagA], allMatters: false,
                       seqRange: 3...3, reason: "complaint review")),
         .access(.init(credential: "master", command: "list", matters: [], allMatters: true, seqRange: nil,
                       reason: nil))]
    }

    func testEventsRoundTripThroughTheirCanonicalBody() throws {
        for event in events() {
            XCTAssertEqual(try AccessEvent.decode(event.encoded()), event)
        }
        XCTAssertEqual(String(decoding: events()[1].encoded(), as: UTF8.self),
                       #"{"credential":"p.jones","event":"revoke","matters":["\#(tagB.hex)"]}"#)
    }

    func testNonCanonicalOrUnknownBodiesAreRefused() {
        let bodies = [
            #"{"event":"revoke","credential":"p.jones","matters":[]}"#,  // keys out of order
            #"{"credential":"p.jones","event":"revoke","matters":[], "x":1}"#,
            #"{"credential":"p.jones","event":"revoke","matters":[],"x":1}"#,  // unknown field
            #"{"credential":"master","event":"revoke","matters":[]}"#,  // reserved name
            #"{"credential":"p.jones","event":"promote","matters":[]}"#,
            #"{"credential":"p.jones","event":"revoke","matters":["\#(tagB.hex)","\#(tagA.hex)"]}"#,  // unsorted
        ]
        for body in bodies {
            XCTAssertThrowsError(try AccessEvent.decode(Array(body.utf8)), body)
        }
    }

    func testEventLeafRoundTripsAndIsStrict() throws {
        let leaf = EventLeaf(ledgerID: Array(1...16), seq: 7, recordedAt: 42, previousHash: tagA,
                             body: events()[3].encoded())
        let bytes = leaf.encoded()
        XCTAssertTrue(bytes.withUnsafeBytes { EventLeaf.isEvent($0) })
        XCTAssertEqual(try bytes.withUnsafeBytes { try EventLeaf.decode($0) }, leaf)
        XCTAssertThrowsError(try (bytes + [0]).withUnsafeBytes { try EventLeaf.decode($0) })
        XCTAssertThrowsError(try Array(bytes.dropLast()).withUnsafeBytes { try EventLeaf.decode($0) })
        XCTAssertThrowsError(try Leaf.decode(bytes), "a record decoder never reads an event")
    }

    func testAccessStateFlagsReadsOutsideAGrant() {
        var state = AccessState()
        let read = { (matters: [Hash]) in
            AccessEvent.access(.init(credential: "p.jones", command: "show", matters: matters, allMatters: false,
                                     seqRange: 0...0, reason: nil))
        }
        XCTAssertNotNil(state.apply(read([self.tagA]), seq: 0), "no grant yet")
        XCTAssertNil(state.apply(events()[0], seq: 0))
        XCTAssertNil(state.apply(read([tagA, tagB]), seq: 0))
        XCTAssertNil(state.apply(events()[1], seq: 0), "B withdrawn")
        XCTAssertNotNil(state.apply(read([tagB]), seq: 0), "B is no longer granted")
        XCTAssertNil(state.apply(read([tagA]), seq: 0))
        XCTAssertNotNil(state.apply(events()[0], seq: 0), "granted twice without a revocation")
        XCTAssertNil(state.apply(events()[4], seq: 0), "the master key reads anything")
        XCTAssertNotNil(state.apply(.access(.init(credential: "p.jones", command: "list", matters: [],
                                                  allMatters: true, seqRange: nil, reason: nil)), seq: 0))
    }
}

final class AccessEngineTests: XCTestCase {
    func testReaderReadsOnlyItsMattersAndAppenderReadsNothing() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([try validRecord(matter: "A"), try validRecord(matter: "B")])
        _ = try t.ledger.grant("reader-a", role: .reader, matters: ["A"], credentialPath: t.temp.file("a.cred"))
        _ = try t.ledger.grant("ingest", role: .appender, matters: [], credentialPath: t.temp.file("in.cred"))
        t.ledger.close()

        try with(t, credential: "in.cred") { appender in
            XCTAssertEqual(try appender.append(try validRecord(matter: "A")), .appended(seq: 4))
            XCTAssertEqual(try appender.append(try validRecord(matter: "C")), .appended(seq: 5))
            for seq: UInt64 in [0, 4, 5] { assertNotPermitted(try appender.entry(seq)) }
        }
        try with(t, credential: "a.cred") { reader in
            XCTAssertEqual(try reader.entry(4).string("matter"), "A", "a reader opens what an appender wrote")
            XCTAssertEqual(try reader.entry(0).string("matter"), "A", "and its matter's entries from before its grant")
            for seq: UInt64 in [1, 2, 5, 999] { assertNotPermitted(try reader.entry(seq)) }
            var seen = [UInt64]()
            try reader.entries(matching: EntryFilter()) { seen.append($0.seq) }
            XCTAssertEqual(seen, [0, 4])
            assertNotPermitted(try reader.entries(matching: EntryFilter(matter: "B")) { _ in })
            assertNotPermitted(try reader.append(try validRecord(matter: "A")))
            assertNotPermitted(try reader.signCheckpoint())
        }
        try with(t, credential: nil) { XCTAssertTrue(try $0.verify(VerifyOptions(deep: true)).isIntact) }
    }

    func testRevokedReaderCannotOpenLaterEntriesWithAnyKeyItEverHeld() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(try validRecord(matter: "A"))
        _ = try t.ledger.grant("r1", role: .reader, matters: ["A"], credentialPath: t.temp.file("r1.cred"))
        _ = try t.ledger.grant("r2", role: .reader, matters: ["A"], credentialPath: t.temp.file("r2.cred"))
        t.ledger.close()
        // everything r1 could ever hold: its credential key and every key sealed to it (a copy of the raw file)
        var held = try with(t, credential: "r1.cred") { revoked in
            try XCTUnwrap(revoked.session.withLock { $0.principal }).readerKeys.values.map {
                try BoxKeyPair(secretKey: $0)
            }
        }
        held.append(try CredentialFile.load(from: t.temp.file("r1.cred")).pair)

        let newSeq = try with(t, credential: nil) { master -> UInt64 in
            XCTAssertEqual(try master.revoke("r1", matters: []).rekeyedMatters, 1)
            _ = try master.append(try validRecord(matter: "A"))
            let seq = try master.size() - 1
            let batch = try master.store.environment.read { txn -> [UInt8] in
                let leaf = try Leaf.decode(Array(try XCTUnwrap(txn.storedEntry(master.store, seq)).leaf))
                guard case .batchKey(_, let sealed) = try master.keyRecord(leaf.keyID, txn: txn) else { return [] }
                return sealed
            }
            XCTAssertEqual(batch.count, 80)
            for pair in held { XCTAssertThrowsError(try batch.withUnsafeBytes { try SealedBox.open($0, with: pair) }) }
            XCTAssertTrue(try master.verify(VerifyOptions(deep: true)).isIntact)
            return seq
        }
        XCTAssertThrowsError(try with(t, credential: "r1.cred") { _ in }, "the grant is gone") {
            guard case LedgerError.wrongKey = $0 else { return XCTFail("\($0)") }
        }
        try with(t, credential: "r2.cred") { remaining in
            XCTAssertEqual(try remaining.entry(newSeq).string("matter"), "A", "the remaining reader has the new key")
        }
    }

    func testAppenderOfSomeMattersHasOtherMattersRejectedByLineBeforeAnythingIsWritten() throws {
        let t = try TestLedger()
        _ = try t.ledger.grant("ingest-a", role: .appender, matters: ["A"], credentialPath: t.temp.file("a.cred"))
        let lines = [recordJSON(matter: "A"), recordJSON(matter: "B"), recordJSON(matter: "A")]
            .map { JSONWriter.string($0) }.joined(separator: "\n") + "\n"
        let input = try t.temp.write("mixed.jsonl", lines)
        t.ledger.close()
        try with(t, credential: "a.cred") { appender in
            let before = try appender.size()
            XCTAssertThrowsError(try appender.importRecords(from: input)) {
                guard case LedgerError.invalidRecords(let errors) = $0 else { return XCTFail("\($0)") }
                XCTAssertEqual(errors.map(\.line), [2])
                XCTAssertEqual(errors.map(\.field), ["matter"])
            }
            XCTAssertEqual(try appender.size(), before, "nothing written")
            let summary = try appender.importRecords(from: input, options: ImportOptions(skipInvalid: true))
            XCTAssertEqual(summary.imported, 2)
            XCTAssertEqual(summary.rejected.count, 1)
            XCTAssertThrowsError(try appender.append(try validRecord(matter: "B"))) {
                guard case LedgerError.notPermitted = $0 else { return XCTFail("\($0)") }
            }
        }
    }

    func testEveryReadIsRecordedFirst() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(try validRecord(matter: "A"))
        let seq = try XCTUnwrap(try t.ledger.recordAccess(ReadScope(command: "show", seq: 0, reason: "audit")))
        let log = try t.ledger.accessLog()
        XCTAssertEqual(log.map(\.seq), [seq])
        XCTAssertEqual(log.first?.access.reason, "audit")
        XCTAssertEqual(log.first?.matterNames, ["A"])
        XCTAssertEqual(try t.ledger.entry(0).string("matter"), "A")
        XCTAssertThrowsError(try t.ledger.entry(seq)) {
            guard case LedgerError.notARecord = $0 else { return XCTFail("\($0)") }
        }
    }

    // MARK: - Keyless verify of events

    func testForgedReadByAnUngrantedCredentialFailsKeylessVerify() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(try validRecord(matter: "A"))
        let tag = try t.ledger.requireKeys().matterTag("A")
        try t.ledger.commitEvents(operation: "forge") { _ in
            [.access(.init(credential: "intruder", command: "show", matters: [tag], allMatters: false,
                           seqRange: 0...0, reason: nil))]
        }
        let report = try t.ledger.verify()
        XCTAssertEqual(report.violations.map(\.kind), [.accessWithoutGrant], "\(report.violations)")
        XCTAssertEqual(report.violations.first?.seq, 1)
    }

    func testReadOutsideTheGrantFailsKeylessVerify() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([try validRecord(matter: "A"), try validRecord(matter: "B")])
        _ = try t.ledger.grant("r", role: .reader, matters: ["A"], credentialPath: t.temp.file("r.cred"))
        let tagB = try t.ledger.requireKeys().matterTag("B")
        try t.ledger.commitEvents(operation: "forge") { _ in
            [.access(.init(credential: "r", command: "show", matters: [tagB], allMatters: false,
                           seqRange: 1...1, reason: nil))]
        }
        XCTAssertEqual(try t.ledger.verify().violations.map(\.kind), [.accessWithoutGrant])
    }

    func testAlteredEventEntryIsCaught() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(try validRecord(matter: "A"))
        _ = try t.ledger.grant("r", role: .reader, matters: ["A"], credentialPath: t.temp.file("r.cred"))
        _ = try t.ledger.signCheckpoint()
        XCTAssertTrue(try t.ledger.verify().isIntact)
        t.ledger.close()
        try RawLedger.edit(t.directory) { raw, txn in  // "reader" → "seader" in the grant's body
            var value = try txn.entry(raw, UInt64(1))
            let needle = Array("\"reader\"".utf8)
            let at = try XCTUnwrap((0...(value.count - needle.count)).first { Array(value[$0..<($0 + needle.count)]) == needle })
            value[at + 1] = UInt8(ascii: "s")
            try txn.setEntry(raw, UInt64(1), value)
        }
        let reopened = try Ledger.open(at: t.directory)
        defer { reopened.close() }
        let kinds = Set(try reopened.verify().violations.map(\.kind))
        XCTAssertTrue(kinds.isSuperset(of: [.treeHash, .accessEvent, .checkpointRoot]), "\(kinds)")
    }

    func testStoredGrantsMustMatchTheLog() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(try validRecord(matter: "A"))
        _ = try t.ledger.grant("r", role: .reader, matters: ["A"], credentialPath: t.temp.file("r.cred"))
        t.ledger.close()
        try editAccess(t) { access, txn in  // a key slipped to a credential outside the log
            try txn.put(access, key: AccessKey.wrap([UInt8](repeating: 9, count: 32), keyID: 1), value: [1, 2, 3])
        }
        XCTAssertEqual(try verifyKinds(t), [.accessRegistry])
        try editAccess(t) { access, txn in
            _ = try txn.delete(access, key: AccessKey.wrap([UInt8](repeating: 9, count: 32), keyID: 1))
            _ = try txn.delete(access, key: AccessKey.grant("r"))  // a grant removed without a revocation
        }
        XCTAssertEqual(try verifyKinds(t), [.accessRegistry])
    }

    func testTamperedKeyPairIsCaughtByDeepVerify() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(try validRecord(matter: "A"))
        t.ledger.close()
        try RawLedger.flipPublicKey(ofKeyPair: 1, in: t.directory)  // key 1 is A's key pair
        let reopened = try Ledger.open(at: t.directory)
        defer { reopened.close() }
        try reopened.unlock(with: .keyFile(path: t.keyPath))
        let deep = try reopened.verify(VerifyOptions(deep: true))
        XCTAssertTrue(deep.violations.contains { $0.kind == .matterKey && $0.detail.contains("public key") },
                      "\(deep.violations)")
    }

    // MARK: - Helpers

    /// Opens the test ledger (closed by the caller first) with a credential, or the master key when nil.
    private func with<R>(_ t: TestLedger, credential: String?, _ body: (Ledger) throws -> R) throws -> R {
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        if let credential {
            try ledger.unlock(credentialFile: t.temp.file(credential))
        } else {
            try ledger.unlock(with: .keyFile(path: t.keyPath))
        }
        return try body(ledger)
    }

    private func assertNotPermitted<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath,
                                       line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) {
            guard case LedgerError.notPermitted = $0 else { return XCTFail("\($0)", file: file, line: line) }
        }
    }

    private func editAccess(_ t: TestLedger, _ body: (Database, WriteTransaction) throws -> Void) throws {
        let env = try Environment(path: t.directory, maxDatabases: 16, mapSize: 1 << 30)
        defer { env.close() }
        let access = try env.openDatabase("access")
        try env.write { try body(access, $0) }
    }

    private func verifyKinds(_ t: TestLedger) throws -> Set<Violation.Kind> {
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        return Set(try ledger.verify().violations.map(\.kind))
    }
}
