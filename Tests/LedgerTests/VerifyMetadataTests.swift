import Foundation
import LMDB
@testable import Ledger
import LedgerFormat
import SignedNote
import Sodium
import XCTest

/// Metadata rows that verify checks beyond the entries (keyless): no unknown rows, the creation time, the key mode
/// and passphrase parameters, the sealed signing key's form, the matter key counter; and (deep) the sealed signing
/// key against the verifier key, which unlocking checks (so deep verify refuses a swapped key even unpinned).
extension VerifyTamperTests {
    /// Puts `value` under the meta row `name` (nil deletes it), verifies keyless, and restores the row.
    private func verifyWithMeta(_ f: Fixture, _ name: String, _ value: [UInt8]?, file: StaticString = #filePath,
                                line: UInt = #line) throws -> VerifyReport {
        let key = Array(name.utf8)
        var original: [UInt8]?
        try f.edit { raw, txn in
            original = try txn.get(raw.meta, key: key).map { Array($0) }
            if let value { try txn.put(raw.meta, key: key, value: value) } else { try txn.delete(raw.meta, key: key) }
        }
        let report = try f.verify(VerifyOptions(pinnedVerifierKey: f.verifierKey))
        try f.edit { raw, txn in
            if let original {
                try txn.put(raw.meta, key: key, value: original)
            } else {
                try txn.delete(raw.meta, key: key)
            }
        }
        assertIntact(try f.verify(VerifyOptions(pinnedVerifierKey: f.verifierKey)), "restored \(name)",
                     file: file, line: line)
        return report
    }

    private func assertOnlyMetadataViolation(_ report: VerifyReport, _ what: String,
                                             file: StaticString = #filePath, line: UInt = #line) {
        assertViolation(report, .metadata, seq: nil, file: file, line: line)
        XCTAssertEqual(kinds(report), [.metadata], what, file: file, line: line)
    }

    func testMetadataRowTheEngineNeverWritesIsAViolation() throws {
        let f = try makeLedger(checkpointsAt: [40])
        let named = try verifyWithMeta(f, "backdoor", Array("x".utf8))
        assertOnlyMetadataViolation(named, "extra row")
        XCTAssertTrue(named.violations.contains { $0.detail.contains("backdoor") }, "\(named.violations)")
        let binary = try verifyWithMeta(f, "\u{1}\u{2}", [0])
        XCTAssertTrue(binary.violations.contains { $0.detail.contains("0x0102") }, "\(binary.violations)")
    }

    func testCreationTimeAfterTheFirstEntryOrMalformedIsAViolation() throws {
        let f = try makeLedger(checkpointsAt: [40])
        var firstRecordedAt: Int64 = 0
        try f.edit { raw, txn in
            let stored = try txn.entry(raw, UInt64(0))
            let leaf = try stored.withUnsafeBytes { try StoredEntry.split($0).leaf }
            firstRecordedAt = try Leaf.decode(leaf).recordedAt
        }
        assertIntact(try verifyWithMeta(f, "createdAt", UInt64(firstRecordedAt).bigEndianBytes),
                     "created as the first entry was recorded")
        assertOnlyMetadataViolation(try verifyWithMeta(f, "createdAt", UInt64(firstRecordedAt + 1).bigEndianBytes),
                                    "created after entry 0")
        assertOnlyMetadataViolation(try verifyWithMeta(f, "createdAt", [1, 2, 3]), "not 8 bytes")
        assertOnlyMetadataViolation(try verifyWithMeta(f, "createdAt", nil), "missing")
    }

    func testKeyModeAndPassphraseParametersOfAKeyFileLedger() throws {
        let f = try makeLedger(checkpointsAt: [40])
        assertOnlyMetadataViolation(try verifyWithMeta(f, "keyMode", Array("none".utf8)), "unknown key mode")
        assertOnlyMetadataViolation(try verifyWithMeta(f, "kdf", [1, 2, 3]),
                                    "passphrase parameters in a key-file ledger")
    }

    func testPassphraseParametersOfAPassphraseLedger() throws {
        let temp = try TempDir("verifymeta")
        let dir = temp.file("ledger")
        let passphrase = SecretBytes(copying: Array("correct horse battery staple".utf8))
        let parameters = PassphraseParameters(salt: Array(repeating: 7, count: Argon2id.saltByteCount),
                                              opsLimit: Argon2id.minimumOpsLimit,
                                              memLimit: UInt64(Argon2id.minimumMemLimit))
        let ledger = try Ledger.create(at: dir, origin: Self.origin, masterKey: .passphrase(passphrase, parameters))
        try ledger.unlock(with: .passphrase(passphrase))
        _ = try ledger.append(try (0..<5).map { try Fixture.record($0) })
        ledger.close()
        func verify() throws -> VerifyReport {
            let reopened = try Ledger.open(at: dir)
            defer { reopened.close() }
            return try reopened.verify()
        }
        assertIntact(try verify(), "clean passphrase ledger")
        var stored = [UInt8]()
        try RawLedger.edit(dir) { raw, txn in stored = try txn.value(raw.meta, Array("kdf".utf8)) }
        var outOfRange = stored
        outOfRange[2..<10] = ArraySlice(UInt64(1_000).bigEndianBytes)  // opsLimit beyond what unlock accepts
        for (value, what) in [(nil, "missing"), (outOfRange, "out of range"),
                              (Array(stored.prefix(5)), "truncated")] as [([UInt8]?, String)] {
            try RawLedger.edit(dir) { raw, txn in
                if let value {
                    try txn.put(raw.meta, key: Array("kdf".utf8), value: value)
                } else {
                    try txn.delete(raw.meta, key: Array("kdf".utf8))
                }
            }
            let report = try verify()
            assertViolation(report, .metadata, seq: nil)
            XCTAssertEqual(kinds(report), [.metadata], what)
        }
        try RawLedger.edit(dir) { raw, txn in try txn.put(raw.meta, key: Array("kdf".utf8), value: stored) }
        assertIntact(try verify(), "restored")
    }

    func testMalformedSealedSigningKeyIsAViolationKeyless() throws {
        let f = try makeLedger(checkpointsAt: [40])
        var sealed = [UInt8]()
        try f.edit { raw, txn in sealed = try txn.value(raw.meta, Array("signingKey".utf8)) }
        assertOnlyMetadataViolation(try verifyWithMeta(f, "signingKey", Array(sealed.dropLast())), "truncated")
        var otherVersion = sealed
        otherVersion[0] = 2
        assertOnlyMetadataViolation(try verifyWithMeta(f, "signingKey", otherVersion), "another version")
    }

    func testNextKeyIDMovedBackOrForwardIsAViolation() throws {
        let f = try makeLedger(checkpointsAt: [])
        assertIntact(try f.verify(), "clean")
        var stored: UInt32 = 0
        try f.edit { raw, txn in
            stored = try txn.value(raw.meta, Array("nextKeyID".utf8)).withUnsafeBytes { UInt32(bigEndianBytes: $0)! }
        }
        for moved in [stored - 1, stored + 5] {
            try f.edit { raw, txn in try txn.put(raw.meta, key: Array("nextKeyID".utf8), value: moved.bigEndianBytes) }
            let report = try f.verify()
            assertViolation(report, .metadata, seq: nil)
            XCTAssertEqual(kinds(report), [.metadata], "moved to \(moved)")
        }
        try f.edit { raw, txn in try txn.put(raw.meta, key: Array("nextKeyID".utf8), value: [1, 2]) }
        assertViolation(try f.verify(), .metadata, seq: nil)
        try f.edit { raw, txn in try txn.put(raw.meta, key: Array("nextKeyID".utf8), value: stored.bigEndianBytes) }
        assertIntact(try f.verify(), "restored")
    }

    func testDeepVerifyChecksTheSigningKeyAgainstTheVerifierKeyWithoutPinning() throws {
        let f = try makeLedger(checkpointsAt: [20, 40])
        assertIntact(try f.verify(VerifyOptions(deep: true), unlocked: true), "clean, deep")
        let attacker = try NoteSigner(name: Self.origin, seed: SecretBytes(randomCount: 32))
        try f.edit { raw, txn in
            try txn.put(raw.meta, key: Array("verifierKey".utf8), value: Array(attacker.verifierKey.text.utf8))
            for size in f.notes.keys {
                let note = String(decoding: try txn.value(raw.checkpoints, size.bigEndianBytes), as: UTF8.self)
                try txn.put(raw.checkpoints, key: size.bigEndianBytes,
                            value: Array(try attacker.sign(try SignedNoteText(parsing: note).text).utf8))
            }
        }
        try (attacker.verifierKey.text + "\n").write(toFile: f.temp.file("ledger/verifier.key"), atomically: true,
                                                     encoding: .utf8)
        assertIntact(try f.verify(), "keyless and unpinned, the swap is invisible")
        XCTAssertThrowsError(try f.verify(VerifyOptions(deep: true), unlocked: true)) { error in
            guard case LedgerError.corrupt(let detail)? = error as? LedgerError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("does not match the ledger's signing key"), detail)
        }
    }
}
