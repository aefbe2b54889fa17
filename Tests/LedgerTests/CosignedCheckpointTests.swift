import Foundation
@testable import Ledger
import SignedNote
import Sodium
import Transparency
import XCTest

/// Cosignatures stored with a checkpoint: the firm's signature stays valid, verify still passes, and a witness's
/// newer cosignature replaces its older one.
final class CosignedCheckpointTests: XCTestCase {
    func testCosignaturesAreStoredBesideTheFirmsSignature() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([validRecord(), validRecord(matter: "M-2")])
        let note = try t.ledger.signCheckpoint()
        let body = try SignedNoteText(parsing: note).text
        let w1 = try Cosigner(name: "w1.example", seed: SecretBytes(randomCount: 32))
        let w2 = try Cosigner(name: "w2.example", seed: SecretBytes(randomCount: 32))
        _ = try t.ledger.addCosignatures([w1.cosign(checkpointBody: body, timestamp: 10),
                                          w2.cosign(checkpointBody: body, timestamp: 10)], size: 2)
        let newer = w1.cosign(checkpointBody: body, timestamp: 20)
        let cosigned = try t.ledger.addCosignatures([newer], size: 2)
        let parsed = try SignedNoteText(parsing: cosigned)
        XCTAssertEqual(parsed.signatures.count, 3, "the firm's line, w2's, and w1's newest")
        XCTAssertTrue(parsed.signatures.contains(newer))
        XCTAssertEqual(try t.ledger.latestStoredCheckpoint()?.note, cosigned)
        XCTAssertEqual(try t.ledger.storedCheckpoint(size: 2), cosigned)

        let policy = try TlogPolicy(parsing: Array("""
            log \(t.ledger.storedVerifierKey)
            witness W1 \(w1.publicKey.text)
            witness W2 \(w2.publicKey.text)
            group G all W1 W2
            quorum G

            """.utf8))
        let witnessed = try WitnessedCheckpoint(note: cosigned, policy: policy)
        XCTAssertTrue(witnessed.quorumMet)
        XCTAssertEqual(witnessed.cosignedBy["W1"], 20)
        XCTAssertTrue(try t.ledger.verify().isIntact)
    }

    func testRefusesAMissingCheckpointAndALineClaimingTheFirmsKey() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([validRecord()])
        let w = try Cosigner(name: "w", seed: SecretBytes(randomCount: 32))
        XCTAssertThrowsError(try t.ledger.addCosignatures([w.cosign(checkpointBody: "x\n1\nAA==\n", timestamp: 1)],
                                                          size: 1))
        let note = try SignedNoteText(parsing: t.ledger.signCheckpoint())
        let own = note.signatures[0]
        XCTAssertThrowsError(try t.ledger.addCosignatures([NoteSignature(name: own.name, keyHash: own.keyHash,
                                                                         signature: own.signature)], size: 1))
    }
}
