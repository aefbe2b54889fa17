import Foundation
@testable import Ledger
import MerkleLog
import SignedNote
import Sodium
import Transparency
import XCTest

/// The engine's witness rows: sizes each witness cosigned, refusals, consistency proofs, and `verify --policy`.
final class WitnessRecordsTests: XCTestCase {
    func testConsistencyProofsVerifyBetweenAnySizes() throws {
        let t = try TestLedger()
        _ = try t.ledger.append((0..<9).map { try validRecord(matter: "M-\($0 % 3)") })
        let roots = try (1...9).map { try t.ledger.rootHash(size: UInt64($0)) }
        for old in 1...9 {
            for new in old...9 {
                let proof = try t.ledger.consistencyProof(from: UInt64(old), to: UInt64(new))
                XCTAssertNoThrow(try checkTree(proof: proof, newSize: Int64(new), newRoot: roots[new - 1],
                                               oldSize: Int64(old), oldRoot: roots[old - 1]))
            }
        }
        XCTAssertEqual(try t.ledger.consistencyProof(from: 0, to: 9), [])
        XCTAssertThrowsError(try t.ledger.consistencyProof(from: 3, to: 10))
        XCTAssertThrowsError(try t.ledger.consistencyProof(from: 5, to: 4))
    }

    func testRowsAndVerifyPolicy() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([validRecord(), validRecord(matter: "M-2")])
        let note = try t.ledger.signCheckpoint()
        let body = try SignedNoteText(parsing: note).text
        let w = try Cosigner(name: "w.example", seed: SecretBytes(randomCount: 32))
        let policyText = """
            log \(t.ledger.storedVerifierKey)
            witness w.example \(w.publicKey.text) https://w.example
            group witnesses all w.example
            quorum witnesses

            """
        var options = VerifyOptions()
        options.policy = policyText
        XCTAssertEqual(try t.ledger.verify(options).violations.map(\.kind), [.witnessQuorum])

        XCTAssertEqual(try t.ledger.witnessedSize(vkey: w.publicKey.text), 0)
        try t.ledger.addCosignatures([w.cosign(checkpointBody: body, timestamp: 5)], size: 2)
        try t.ledger.recordWitnessing(cosigned: [w.publicKey.text: 2], refusals: [])
        XCTAssertEqual(try t.ledger.witnessedSize(vkey: w.publicKey.text), 2)
        let clean = try t.ledger.verify(options)
        XCTAssertTrue(clean.isIntact, "\(clean.violations)")
        XCTAssertEqual(clean.witnessedBy, ["w.example"])

        let refusal = WitnessRefusal(witness: "w.example", kind: .fork, checkpointSize: 2, witnessSize: 2,
                                     recordedAt: 1_700_000_000)
        try t.ledger.recordWitnessing(cosigned: [:], refusals: [refusal])
        XCTAssertEqual(try t.ledger.witnessRefusals(), [refusal])
        let caught = try t.ledger.verify(options)
        XCTAssertEqual(caught.violations.map(\.kind), [.witnessRefusal])
        XCTAssertEqual(caught.violations.first?.detail, "witness w.example refused checkpoint size 2: it reports "
                       + "holding size 2 with another root (fork, as the witness claims; ask its operator for the note "
                       + "it holds)")

        // Acknowledged after an investigation: kept, and reported as a notice instead of a violation.
        XCTAssertThrowsError(try t.ledger.acknowledgeWitnessRefusal(
            witness: "w.example", checkpointSize: 3, WitnessAcknowledgement(at: 1, by: "rm", reason: "checked")))
        XCTAssertThrowsError(try t.ledger.acknowledgeWitnessRefusal(
            witness: "w.example", checkpointSize: 2, WitnessAcknowledgement(at: 1, by: "rm", reason: "  ")))
        XCTAssertThrowsError(try t.ledger.acknowledgeWitnessRefusal(
            witness: "w.example", checkpointSize: 2, WitnessAcknowledgement(at: 1, by: "rm", reason: "a\nb")))
        XCTAssertEqual(try t.ledger.acknowledgeWitnessRefusal(
            witness: "w.example", checkpointSize: 2,
            WitnessAcknowledgement(at: 1_700_000_100, by: "J. Doe, risk manager",
                                   reason: "the witness's state was restored from a stale backup (its operator's report)")), 1)
        XCTAssertEqual(try t.ledger.witnessRefusals(), [refusal])
        let acknowledged = try t.ledger.verify(options)
        XCTAssertTrue(acknowledged.isIntact, "\(acknowledged.violations)")
        XCTAssertEqual(acknowledged.acknowledgedRefusals.count, 1)
        XCTAssertTrue(acknowledged.acknowledgedRefusals[0].hasSuffix("acknowledged 2023-11-14T22:15:00.000000Z by J. Doe, risk "
            + "manager: the witness's state was restored from a stale backup (its operator's report)"),
            acknowledged.acknowledgedRefusals[0])

        options.policy = "log \(try NoteSigner(name: "other.example/log", seed: SecretBytes(randomCount: 32)).verifierKey.text)\nquorum none\n"
        XCTAssertTrue(try t.ledger.verify(options).violations.contains { $0.kind == .witnessPolicy })
        options.policy = "not a policy"
        XCTAssertThrowsError(try t.ledger.verify(options))
    }
}
