import Foundation
@testable import Ledger
import LedgerBundle
import MerkleLog
import SignedNote
import Sodium
import Transparency
import XCTest

/// `Ledger.receipt(seq:)` (c2sp.org/tlog-proof against the newest stored checkpoint) and `ReceiptVerifier`, the
/// offline check: every receipt verifies, every tampered byte class is refused, and a policy's quorum is evaluated
/// on the cosignatures stored with the checkpoint.
final class ReceiptTests: XCTestCase {
    private func ledger(entries: Int) throws -> TestLedger {
        let t = try TestLedger()
        _ = try t.ledger.append((0..<entries).map { _ in try validRecord() })
        return t
    }

    private func check(_ t: TestLedger, _ text: String, policy: String? = nil,
                       leaf: [UInt8]? = nil) throws -> ReceiptReport {
        try ReceiptVerifier.verify(receipt: Array(text.utf8), verifierKey: t.ledger.storedVerifierKey,
                                   policy: policy.map { Array($0.utf8) }, leaf: leaf)
    }

    func testReceiptsForFirstMiddleAndLastEntryVerify() throws {
        let t = try ledger(entries: 7)
        try t.ledger.signCheckpoint()
        for seq: UInt64 in [0, 3, 6] {
            let receipt = try t.ledger.receipt(seq: seq)
            XCTAssertEqual(receipt.index, seq)
            let report = try check(t, receipt.text)
            XCTAssertTrue(report.isValid, "\(seq): \(report.violations)")
            XCTAssertEqual(report.treeSize, 7)
            XCTAssertEqual(report.leafSource, "extra")
            XCTAssertEqual(try TlogProof(parsing: Array(receipt.text.utf8)), receipt)
        }
    }

    /// An event entry (an access entry: leaf v3) has a receipt like any leaf of the log.
    func testAnEventEntryHasAReceipt() throws {
        let t = try ledger(entries: 2)
        let seq = try XCTUnwrap(try t.ledger.recordAccess(ReadScope(command: "show", matters: ["M-1"])))
        try t.ledger.signCheckpoint()
        let report = try check(t, t.ledger.receipt(seq: seq).text)
        XCTAssertTrue(report.isValid, "\(report.violations)")
        XCTAssertEqual(report.leafVersion, 3)
        XCTAssertEqual(report.index, seq)
    }

    func testANewerCheckpointIsUsedAndAnUncoveredEntryIsRefused() throws {
        let t = try ledger(entries: 2)
        XCTAssertThrowsError(try t.ledger.receipt(seq: 0)) { XCTAssertEqual($0 as? ReceiptError, .noCheckpoint) }
        try t.ledger.signCheckpoint()
        _ = try t.ledger.append([validRecord()])
        XCTAssertThrowsError(try t.ledger.receipt(seq: 2)) {
            XCTAssertEqual($0 as? ReceiptError, .notCovered(seq: 2, checkpointSize: 2))
        }
        XCTAssertThrowsError(try t.ledger.receipt(seq: 9)) {
            guard case LedgerError.unknownSequence(9, _)? = $0 as? LedgerError else { return XCTFail("\($0)") }
        }
        try t.ledger.signCheckpoint()
        XCTAssertEqual(try check(t, t.ledger.receipt(seq: 0).text).treeSize, 3, "the newest stored checkpoint")
    }

    /// Every class of byte a receipt holds, changed: the verifier refuses it.
    func testEveryTamperedByteClassIsRejected() throws {
        let t = try ledger(entries: 5)
        try t.ledger.signCheckpoint()
        let text = try t.ledger.receipt(seq: 2).text
        var lines = text.components(separatedBy: "\n")
        let indexLine = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("index ") })
        let blank = try XCTUnwrap(lines.firstIndex(of: ""))
        func flip(_ line: String, at offset: Int = 2) -> String {
            var chars = Array(line)
            chars[offset] = chars[offset] == "A" ? "B" : "A"
            return String(chars)
        }
        var cases: [(String, [String])] = []
        var l = lines; l[indexLine] = "index 3"; cases.append(("index", l))
        l = lines; l[indexLine + 1] = flip(l[indexLine + 1]); cases.append(("proof hash", l))
        l = lines; l[1] = flip(l[1], at: 20); cases.append(("extra (leaf)", l))
        l = lines; l[blank + 2] = "6"; cases.append(("checkpoint size", l))
        l = lines; l[blank + 3] = flip(l[blank + 3]); cases.append(("checkpoint root", l))
        l = lines; l[blank + 5] = flip(l[blank + 5], at: l[blank + 5].count - 10); cases.append(("signature", l))
        l = lines; l.remove(at: indexLine + 1); cases.append(("proof hash removed", l))
        for (what, tampered) in cases {
            XCTAssertNotEqual(tampered, lines, what)
            XCTAssertFalse(try check(t, tampered.joined(separator: "\n")).isValid, what)
        }
        lines[0] = "c2sp.org/tlog-proof@v2"
        XCTAssertEqual(try check(t, lines.joined(separator: "\n")).violations.first?.kind, .receipt)
    }

    func testAGivenLeafMustBeTheReceiptsLeaf() throws {
        let t = try ledger(entries: 3)
        try t.ledger.signCheckpoint()
        let receipt = try t.ledger.receipt(seq: 1)
        XCTAssertTrue(try check(t, receipt.text, leaf: receipt.extra).isValid)
        let other = try t.ledger.receipt(seq: 2).extra
        XCTAssertFalse(try check(t, receipt.text, leaf: other).isValid)
        let bare = TlogProof(index: 1, proof: receipt.proof, checkpointNote: receipt.checkpointNote)
        XCTAssertTrue(try check(t, bare.text, leaf: receipt.extra).isValid, "a receipt without extra, leaf given")
        XCTAssertFalse(try check(t, bare.text).isValid, "no leaf at all")
    }

    func testPolicyQuorumOnTheStoredCosignatures() throws {
        let t = try ledger(entries: 4)
        let body = try SignedNoteText(parsing: t.ledger.signCheckpoint()).text
        let w1 = try Cosigner(name: "w1.example", seed: SecretBytes(randomCount: 32))
        let w2 = try Cosigner(name: "w2.example", seed: SecretBytes(randomCount: 32))
        let w3 = try Cosigner(name: "w3.example", seed: SecretBytes(randomCount: 32))
        try t.ledger.addCosignatures([w1.cosign(checkpointBody: body, timestamp: 1_700_000_000),
                                      w2.cosign(checkpointBody: body, timestamp: 1_700_000_000)], size: 4)
        let receipt = try t.ledger.receipt(seq: 1).text
        let witnesses = "log \(t.ledger.storedVerifierKey)\nwitness W1 \(w1.publicKey.text)\n"
            + "witness W2 \(w2.publicKey.text)\nwitness W3 \(w3.publicKey.text)\n"
        let met = try check(t, receipt, policy: witnesses + "group G 2 W1 W2 W3\nquorum G\n")
        XCTAssertTrue(met.isValid, "\(met.violations)")
        XCTAssertEqual(met.policy?.cosignedBy, ["W1", "W2"])
        XCTAssertEqual(met.policy?.missing, ["W3"])
        let notMet = try check(t, receipt, policy: witnesses + "group G all W1 W2 W3\nquorum G\n")
        XCTAssertEqual(notMet.violations.map(\.kind), [.policy])
        XCTAssertEqual(notMet.policy?.quorumMet, false)
        // Nested groups: (W1 and W2) or W3.
        let nested = witnesses + "group A all W1 W2\ngroup B any A W3\nquorum B\n"
        XCTAssertTrue(try check(t, receipt, policy: nested).isValid)
    }

    func testAnInvalidCosignatureIsAViolationAndAnMLDSAWitnessNeverCounts() throws {
        let t = try ledger(entries: 2)
        let body = try SignedNoteText(parsing: t.ledger.signCheckpoint()).text
        let w1 = try Cosigner(name: "w1.example", seed: SecretBytes(randomCount: 32))
        let good = w1.cosign(checkpointBody: body, timestamp: 5)
        var forged = good.signature
        forged[20] ^= 1
        // An ML-DSA-44 witness (vkey type 0x06): its line is kept and never counted.
        let mldsaKey = [UInt8](repeating: 7, count: 1312)
        let mldsaID = Array(Hash.sha256(Array("wm.example\n".utf8) + [6] + mldsaKey).bytes.prefix(4))
        let mldsaVkey = "wm.example+\(mldsaID.map { String(format: "%02x", $0) }.joined())+"
            + Base64.encode([6] + mldsaKey)
        let keyHash = mldsaID.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        try t.ledger.addCosignatures([NoteSignature(name: w1.name, keyHash: w1.keyHash, signature: forged),
                                      NoteSignature(name: "wm.example", keyHash: keyHash,
                                                    signature: [UInt8](repeating: 1, count: 2420))], size: 2)
        let receipt = try t.ledger.receipt(seq: 0).text
        let policy = "log \(t.ledger.storedVerifierKey)\nwitness W1 \(w1.publicKey.text)\nwitness WM \(mldsaVkey)\n"
        let invalid = try check(t, receipt, policy: policy + "quorum W1\n")
        XCTAssertEqual(Set(invalid.violations.map(\.kind)), [.cosignature, .policy])
        XCTAssertEqual(invalid.policy?.invalid, ["W1"])
        let mldsa = try check(t, receipt, policy: policy + "group G any WM\nquorum G\n")
        XCTAssertEqual(mldsa.policy?.unverifiable, ["WM"])
        XCTAssertEqual(mldsa.policy?.quorumMet, false)
        XCTAssertTrue(mldsa.violations.contains { $0.kind == .policy })
    }
}
