import Foundation
import LMDB
import SignedNote
import Sodium
import XCTest
@testable import Ledger

/// Metadata rows that verify checks beyond the entries: the matter key counter (keyless); and the sealed signing
/// key against the verifier key, which unlocking checks (so deep verify refuses a swapped key even unpinned).
extension VerifyTamperTests {
    func testNextKeyIDMovedBackOrForwardIsAViolation() throws {
        let f = try makeLedger(checkpointsAt: [])
        assertIntact(try f.verify(), "clean")
        var stored: UInt32 = 0
        try f.edit { raw, txn in stored = try txn.value(raw.meta, Array("nextKeyID".utf8)).withUnsafeBytes { UInt32(bigEndianBytes: $0)! } }
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
                try txn.put(raw.checkpoints, key: size.bigEndianBytes, value: Array(try attacker.sign(try SignedNoteText(parsing: note).text).utf8))
            }
        }
        try (attacker.verifierKey.text + "\n").write(toFile: f.temp.file("ledger/verifier.key"), atomically: true, encoding: .utf8)
        assertIntact(try f.verify(), "keyless and unpinned, the swap is invisible")
        XCTAssertThrowsError(try f.verify(VerifyOptions(deep: true), unlocked: true)) { error in
            guard case LedgerError.corrupt(let detail)? = error as? LedgerError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("does not match the ledger's signing key"), detail)
        }
    }
}
