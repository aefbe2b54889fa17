import Foundation
import MerkleLog
import SignedNote
import Sodium
import Transparency
import XCTest
@testable import Witness

final class UnverifiableTests: XCTestCase {
    /// An ML-DSA-44 witness (vkey type 0x06): its signature lines are kept for storage but never counted.
    func testUnknownSignatureTypesAreKeptButNotCounted() throws {
        let log = try TestLog(size: 4)
        let name = "pq.witness.example"
        let material = [UInt8](repeating: 7, count: 1312)
        let id = Array(Hash.sha256(Array(name.utf8) + [0x0a, 0x06] + material).bytes.prefix(4))
        let vkey = "\(name)+\(id.map { String(format: "%02x", $0) }.joined())+\(Base64.encode([0x06] + material))"
        var file = PolicyFile(logKey: log.vkey)
        try file.add(name: name, vkey: vkey, url: "https://pq.witness.example")
        let policy = try file.policy()
        let keyHash = id.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let line = NoteSignature(name: name, keyHash: keyHash, signature: [UInt8](repeating: 1, count: 8 + 2420))
        let client = WitnessClient(policy: policy, timeout: 1)
        let note = try log.note(4)
        let (result, kept) = client.cosignatures(Array(line.line.utf8), witness: policy.witnesses[0], note: note)
        XCTAssertEqual(result, .unverifiable)
        XCTAssertEqual(kept, [line])
        let stored = try SignedNoteText(parsing: note).adding(kept)
        let witnessed = try WitnessedCheckpoint(note: stored, policy: policy)
        XCTAssertEqual(witnessed.unverifiable, [name])
        XCTAssertFalse(witnessed.quorumMet)
    }
}
