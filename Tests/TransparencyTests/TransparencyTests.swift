import MerkleLog
import SignedNote
import Sodium
import Transparency
import XCTest

/// A small in-memory log: its signer, leaves and RFC 6962 hashes, so tests can make checkpoints and proofs.
struct TestLog {
    let signer: NoteSigner
    var recordHashes: [Hash] = []

    init(origin: String = "example.com/firm-ledger") throws {
        signer = try NoteSigner(name: origin, seed: SecretBytes(randomCount: 32))
    }

    mutating func append(_ count: Int) {
        for _ in 0..<count { recordHashes.append(recordHash(Array("entry \(recordHashes.count)".utf8))) }
    }

    var reader: HashReaderFunc {
        var stored: [Hash] = []
        for (n, hash) in recordHashes.enumerated() {
            let reader = HashReaderFunc { indexes in indexes.map { stored[Int($0)] } }
            stored += try! storedHashes(forRecord: Int64(n), recordHash: hash, reader: reader)
        }
        return HashReaderFunc { indexes in indexes.map { stored[Int($0)] } }
    }

    func root(size: Int? = nil) throws -> Hash {
        try treeHash(size: Int64(size ?? recordHashes.count), reader: reader)
    }

    func checkpoint(size: Int? = nil) throws -> String {
        let n = size ?? recordHashes.count
        return try signer.sign(Checkpoint(origin: signer.name, size: UInt64(n), rootHash: root(size: n).bytes).body)
    }

    func consistency(from old: Int, to new: Int? = nil) throws -> [Hash] {
        guard old > 0 else { return [] }
        return try proveTree(newSize: Int64(new ?? recordHashes.count), oldSize: Int64(old), reader: reader)
    }
}

func makeWitness(_ name: String) throws -> Cosigner {
    try Cosigner(name: name, seed: SecretBytes(randomCount: 32))
}

final class CosignatureTests: XCTestCase {
    func testCosignatureRoundTripAndKeyText() throws {
        var log = try TestLog()
        log.append(10)
        let note = try SignedNoteText(parsing: log.checkpoint())
        let witness = try makeWitness("witness.example/w1")
        let line = witness.cosign(checkpointBody: note.text, timestamp: 1_700_000_000)
        XCTAssertEqual(line.cosignatureTimestamp, 1_700_000_000)
        XCTAssertEqual(witness.publicKey.verify(line, checkpointBody: note.text), 1_700_000_000)
        let parsed = try CosignerKey(text: witness.publicKey.text)
        XCTAssertEqual(parsed, witness.publicKey)
        XCTAssertTrue(witness.publicKey.text.hasPrefix("witness.example/w1+"))
        // Key id: SHA-256(name || "\n" || 0x04 || key)[:4] (c2sp.org/tlog-cosignature).
        let digest = SHA256Sodium.hash(Array("witness.example/w1\n".utf8) + [0x04] + witness.publicKey.publicKey)
        XCTAssertEqual(parsed.keyHash, digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        // A note vkey (type 0x01) is not a cosigner key, and vice versa.
        XCTAssertThrowsError(try CosignerKey(text: log.signer.verifierKey.text))
        XCTAssertThrowsError(try NoteVerifierKey(text: witness.publicKey.text))
    }

    func testCosignatureFailsOnAnyChange() throws {
        var log = try TestLog()
        log.append(3)
        let note = try SignedNoteText(parsing: log.checkpoint())
        let witness = try makeWitness("w1")
        let line = witness.cosign(checkpointBody: note.text, timestamp: 42)
        // Another timestamp, another body, a flipped signature byte: all fail.
        var retimed = line.signature
        retimed[7] ^= 1
        XCTAssertNil(witness.publicKey.verify(NoteSignature(name: "w1", keyHash: line.keyHash, signature: retimed),
                                              checkpointBody: note.text))
        log.append(1)
        XCTAssertNil(witness.publicKey.verify(line, checkpointBody: try SignedNoteText(parsing: log.checkpoint()).text))
        var flipped = line.signature
        flipped[40] ^= 0x80
        XCTAssertNil(witness.publicKey.verify(NoteSignature(name: "w1", keyHash: line.keyHash, signature: flipped),
                                              checkpointBody: note.text))
        // The same key under another name does not claim the line.
        let renamed = CosignerKey(name: "w2", publicKey: witness.publicKey.publicKey)
        XCTAssertNil(renamed.verify(line, checkpointBody: note.text))
    }

    func testWitnessKeyFileRoundTrip() throws {
        let seed = SecretBytes(randomCount: 32)
        var file = try Cosigner.keyFileBytes(name: "insurer.example/witness", seed: seed)
        defer { zeroize(&file) }
        XCTAssertTrue(String(decoding: file, as: UTF8.self).hasPrefix("PRIVATE+KEY+insurer.example/witness+"))
        let cosigner = try Cosigner(keyFile: file)
        XCTAssertEqual(cosigner.publicKey, try Cosigner(name: "insurer.example/witness", seed: seed).publicKey)
        var wrongID = file
        wrongID[37] = wrongID[37] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        XCTAssertThrowsError(try Cosigner(keyFile: wrongID))
        XCTAssertThrowsError(try Cosigner(keyFile: Array("PRIVATE+KEY+x+00000000+AAAA".utf8)))
    }

    func testAddingSignaturesToANote() throws {
        var log = try TestLog()
        log.append(5)
        let note = try SignedNoteText(parsing: log.checkpoint())
        let line = try makeWitness("w1").cosign(checkpointBody: note.text, timestamp: 1)
        let cosigned = note.adding([line, line])
        let reparsed = try SignedNoteText(parsing: cosigned)
        XCTAssertEqual(reparsed.signatures.count, 2)
        XCTAssertNoThrow(try reparsed.verify(with: log.signer.verifierKey))
        let lines = try SignedNoteText.signatureLines(Array(line.line.utf8), checkpointBody: note.text)
        XCTAssertEqual(lines, [line])
    }
}

final class TlogPolicyTests: XCTestCase {
    func testParsesTheSpecsShapeAndEvaluatesNestedGroups() throws {
        let log = try TestLog()
        let x = try (1...3).map { try makeWitness("x\($0).example") }
        let y = try (1...3).map { try makeWitness("y\($0).example") }
        let text = """
        # the firm's ledger and two witness operators
        log \(log.signer.verifierKey.text) https://ledger.example/

        witness X1 \(x[0].publicKey.text)
        witness X2 \(x[1].publicKey.text)\thttps://x2.example/
          witness X3 \(x[2].publicKey.text)
        group X-witnesses 2 X1 X2 X3
        witness Y1 \(y[0].publicKey.text)
        witness Y2 \(y[1].publicKey.text)
        witness Y3 \(y[2].publicKey.text)
        group Y-witnesses any Y1 Y2 Y3
        group X-and-Y all X-witnesses Y-witnesses
        quorum X-and-Y

        """
        let policy = try TlogPolicy(parsing: Array(text.utf8))
        XCTAssertEqual(policy.logs.count, 1)
        XCTAssertEqual(policy.logs[0].url, "https://ledger.example/")
        XCTAssertEqual(policy.witnesses.map(\.name), ["X1", "X2", "X3", "Y1", "Y2", "Y3"])
        XCTAssertEqual(policy.witnesses[1].url, "https://x2.example/")
        XCTAssertTrue(policy.quorumMet(by: ["X1", "X3", "Y2"]))
        XCTAssertFalse(policy.quorumMet(by: ["X1", "Y2"]))
        XCTAssertFalse(policy.quorumMet(by: ["X1", "X2", "X3"]))
        XCTAssertFalse(policy.quorumMet(by: []))
        // The canonical text parses back to the same policy.
        XCTAssertEqual(try TlogPolicy(parsing: Array(policy.text.utf8)), policy)
    }

    func testQuorumNoneAndSingleWitness() throws {
        let log = try TestLog()
        let none = try TlogPolicy(parsing: Array("log \(log.signer.verifierKey.text)\nquorum none\n".utf8))
        XCTAssertTrue(none.quorumMet(by: []))
        let w = try makeWitness("w")
        let single = try TlogPolicy(parsing: Array("witness W \(w.publicKey.text)\nquorum W".utf8))
        XCTAssertFalse(single.quorumMet(by: []))
        XCTAssertTrue(single.quorumMet(by: ["W"]))
    }

    func testRefusesMalformedPoliciesNamingTheLine() throws {
        let log = try TestLog()
        let w1 = try makeWitness("w1"), w2 = try makeWitness("w2")
        let logLine = "log \(log.signer.verifierKey.text)"
        let cases: [(String, Int, String)] = [
            ("\(logLine)\n", 0, "no quorum line"),
            ("\(logLine)\nquorum none\nquorum none\n", 3, "second quorum"),
            ("\(logLine)\nquorum W\n", 2, "not defined above"),
            ("\(logLine)\nfrobnicate\nquorum none\n", 2, "unknown keyword"),
            ("\(logLine)\n\(logLine)\nquorum none\n", 2, "duplicate log key"),
            ("witness A \(w1.publicKey.text)\nwitness B \(w1.publicKey.text)\nquorum A\n", 2, "duplicate witness key"),
            ("witness A \(w1.publicKey.text)\nwitness A \(w2.publicKey.text)\nquorum A\n", 2, "defined twice"),
            ("witness none \(w1.publicKey.text)\nquorum none\n", 1, "reserved"),
            ("witness A \(w1.publicKey.text)\ngroup G 2 A\nquorum G\n", 2, "threshold"),
            ("witness A \(w1.publicKey.text)\ngroup G 0 A\nquorum G\n", 2, "threshold"),
            ("witness A \(w1.publicKey.text)\ngroup G any A A\nquorum G\n", 2, "twice"),
            ("witness A \(w1.publicKey.text)\ngroup G any A\ngroup H any A\nquorum H\n", 3, "already a member"),
            ("witness A \(w1.publicKey.text)\ngroup G any B\nquorum G\n", 2, "not defined above"),
            ("witness A \(w1.publicKey.text)\ngroup G any none\nquorum G\n", 2, "none cannot"),
            ("log \(w1.publicKey.text)\nquorum none\n", 1, "log key"),
            ("\(logLine)\nquorum none\r\n", 2, "control character"),
            ("witness A \(w1.publicKey.text) https://a extra\nquorum A\n", 1, "expected"),
        ]
        for (text, line, fragment) in cases {
            XCTAssertThrowsError(try TlogPolicy(parsing: Array(text.utf8)), text) { error in
                guard case TransparencyError.policy(let at, let why) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(at, line, "\(text) -> \(why)")
                XCTAssertTrue(why.contains(fragment), "\(text) -> \(why)")
            }
        }
    }

    func testNamesAreOctetStringsNotUnicodeEquivalents() throws {
        let w1 = try makeWitness("w1"), w2 = try makeWitness("w2")
        // "K" (0x4B) and the Kelvin sign (U+212A) are different names, though Swift's String == calls them equal.
        let text = "witness K \(w1.publicKey.text)\nwitness \u{212A} \(w2.publicKey.text)\ngroup G all K \u{212A}\nquorum G\n"
        let policy = try TlogPolicy(parsing: Array(text.utf8))
        XCTAssertEqual(policy.witnesses.count, 2)
        XCTAssertFalse(policy.quorumMet(by: ["K"]))
    }

    func testUnverifiableWitnessKeyTypesAreKept() throws {
        // An ML-DSA-44 vkey (type 0x06): parsed and kept, but it can never count.
        let material = [UInt8](repeating: 7, count: 1312)
        let name = "pq.example/w"
        let digest = SHA256Sodium.hash(Array(name.utf8) + [0x0a, 0x06] + material)
        let id = digest.prefix(4).map { String(format: "%02x", $0) }.joined()
        let vkey = "\(name)+\(id)+\(Base64.encode([0x06] + material))"
        let policy = try TlogPolicy(parsing: Array("witness PQ \(vkey)\nquorum PQ\n".utf8))
        XCTAssertNil(policy.witnesses[0].cosigner)
        XCTAssertEqual(policy.witnesses[0].vkey.algorithm, 0x06)
    }
}

final class WitnessedCheckpointTests: XCTestCase {
    func testCountsValidCosignaturesOnlyAndSortsTheRest() throws {
        var log = try TestLog()
        log.append(20)
        let w1 = try makeWitness("w1.example"), w2 = try makeWitness("w2.example"), stranger = try makeWitness("s")
        let pqVKeyName = "pq.example"
        let pqMaterial = [UInt8](repeating: 9, count: 1312)
        let pqDigest = SHA256Sodium.hash(Array(pqVKeyName.utf8) + [0x0a, 0x06] + pqMaterial)
        let pqID = pqDigest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let pqVKey = "\(pqVKeyName)+\(String(format: "%08x", pqID))+\(Base64.encode([0x06] + pqMaterial))"
        let policyText = """
        log \(log.signer.verifierKey.text)
        witness W1 \(w1.publicKey.text)
        witness W2 \(w2.publicKey.text)
        witness PQ \(pqVKey)
        group G 2 W1 W2 PQ
        quorum G

        """
        let policy = try TlogPolicy(parsing: Array(policyText.utf8))
        let note = try SignedNoteText(parsing: log.checkpoint())
        let good = w1.cosign(checkpointBody: note.text, timestamp: 100)
        let pqLine = NoteSignature(name: pqVKeyName, keyHash: pqID, signature: [UInt8](repeating: 1, count: 2428))
        let strangerLine = stranger.cosign(checkpointBody: note.text, timestamp: 5)
        var bad = w2.cosign(checkpointBody: note.text, timestamp: 100).signature
        bad[20] ^= 1
        let badLine = NoteSignature(name: "w2.example", keyHash: w2.keyHash, signature: bad)

        let partial = try WitnessedCheckpoint(note: note.adding([good, pqLine, strangerLine, badLine]), policy: policy)
        XCTAssertEqual(partial.cosignedBy, ["W1": 100])
        XCTAssertEqual(partial.unverifiable, ["PQ"])
        XCTAssertEqual(partial.invalid, ["W2"])
        XCTAssertEqual(partial.unknownSignatureCount, 1)
        XCTAssertFalse(partial.quorumMet, "the ML-DSA line and the bad W2 line never count")

        let both = try WitnessedCheckpoint(
            note: note.adding([good, w2.cosign(checkpointBody: note.text, timestamp: 101)]), policy: policy)
        XCTAssertTrue(both.quorumMet)
        XCTAssertEqual(both.checkpoint.size, 20)
    }

    func testRequiresTheLogsSignatureForItsOrigin() throws {
        var log = try TestLog(), other = try TestLog(origin: "example.com/other-office")
        log.append(2)
        other.append(2)
        let policy = try TlogPolicy(parsing: Array("log \(log.signer.verifierKey.text)\nquorum none\n".utf8))
        XCTAssertNoThrow(try WitnessedCheckpoint(note: log.checkpoint(), policy: policy))
        XCTAssertThrowsError(try WitnessedCheckpoint(note: other.checkpoint(), policy: policy))
        // The right origin signed by another key.
        let impostor = try NoteSigner(name: log.signer.name, seed: SecretBytes(randomCount: 32))
        let forged = try impostor.sign(Checkpoint(origin: log.signer.name, size: 2, rootHash: log.root().bytes).body)
        XCTAssertThrowsError(try WitnessedCheckpoint(note: forged, policy: policy))
    }
}

final class TlogProofTests: XCTestCase {
    func testRoundTripAndVerify() throws {
        var log = try TestLog()
        log.append(37)
        let note = try log.checkpoint()
        for index in [0, 1, 17, 36] {
            let proof = try proveRecord(treeSize: 37, index: Int64(index), reader: log.reader)
            let receipt = TlogProof(index: UInt64(index), proof: proof, checkpointNote: note)
            XCTAssertTrue(receipt.text.hasPrefix("c2sp.org/tlog-proof@v1\nindex \(index)\n"))
            let parsed = try TlogProof(parsing: Array(receipt.text.utf8))
            XCTAssertEqual(parsed, receipt)
            XCTAssertEqual(try parsed.verify(recordHash: log.recordHashes[index], logKey: log.signer.verifierKey).size, 37)
            XCTAssertThrowsError(try parsed.verify(recordHash: log.recordHashes[(index + 1) % 37],
                                                   logKey: log.signer.verifierKey))
        }
        let withExtra = TlogProof(extra: [1, 2, 3], index: 0, proof: try proveRecord(treeSize: 37, index: 0, reader: log.reader),
                                  checkpointNote: note)
        XCTAssertEqual(try TlogProof(parsing: Array(withExtra.text.utf8)).extra, [1, 2, 3])
    }

    func testTamperedReceiptsFail() throws {
        var log = try TestLog()
        log.append(10)
        let receipt = TlogProof(index: 4, proof: try proveRecord(treeSize: 10, index: 4, reader: log.reader),
                                checkpointNote: try log.checkpoint())
        let key = log.signer.verifierKey
        let text = Array(receipt.text.utf8)
        // Every byte of the index, proof and checkpoint lines: flipping it makes the receipt unparseable or false.
        let noteStart = receipt.text.utf8.count - receipt.checkpointNote.utf8.count
        for position in stride(from: 0, to: text.count, by: 3) where text[position] != 0x0a {
            var tampered = text
            tampered[position] = tampered[position] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let accepted = (try? TlogProof(parsing: tampered).verify(recordHash: log.recordHashes[4], logKey: key)) != nil
            XCTAssertFalse(accepted, "byte \(position) (checkpoint starts at \(noteStart))")
        }
    }

    func testMalformedReceiptsAreRefused() {
        let cases = ["", "c2sp.org/tlog-proof@v2\nindex 0\n\nx", "c2sp.org/tlog-proof@v1\nindex 01\n\n",
                     "c2sp.org/tlog-proof@v1\nindex 0\nnot-a-hash\n\n", "c2sp.org/tlog-proof@v1\nindex 0\n\nno note"]
        for text in cases {
            XCTAssertThrowsError(try TlogProof(parsing: Array(text.utf8)), text)
        }
    }
}

final class WitnessVerdictTests: XCTestCase {
    private var log: TestLog!
    private var heads: [String: WitnessedHead] = [:]

    override func setUpWithError() throws {
        log = try TestLog()
        log.append(100)
        heads = [:]
    }

    private func verdict(old: Int, size: Int, proof: [Hash]? = nil, note: String? = nil) throws -> WitnessVerdict {
        let body = AddCheckpointRequest(oldSize: UInt64(old), proof: try proof ?? log.consistency(from: old, to: size),
                                        checkpointNote: try note ?? log.checkpoint(size: size)).body
        let key = log.signer.verifierKey
        let outcome = witnessVerdict(body: body, trustedKeys: { $0 == key.name ? [key] : [] },
                                     latest: { self.heads[$0] })
        if case .cosign(let origin, let size, let root, _) = outcome { heads[origin] = WitnessedHead(size: size, root: root) }
        return outcome
    }

    func testGrowingLogIsCosignedAndRecorded() throws {
        guard case .cosign(_, 10, _, _) = try verdict(old: 0, size: 10) else { return XCTFail() }
        guard case .cosign(_, 50, _, _) = try verdict(old: 10, size: 50) else { return XCTFail() }
        guard case .cosign(_, 50, _, _) = try verdict(old: 50, size: 50) else { return XCTFail("same checkpoint again") }
        guard case .cosign(_, 100, _, _) = try verdict(old: 50, size: 100) else { return XCTFail() }
        XCTAssertEqual(heads[log.signer.name]?.size, 100)
    }

    func testStaleOldSizeIsAConflictCarryingTheLatestSize() throws {
        _ = try verdict(old: 0, size: 40)
        XCTAssertEqual(try verdict(old: 0, size: 60), .conflict(latestSize: 40))
        XCTAssertEqual(try verdict(old: 30, size: 60), .conflict(latestSize: 40))
    }

    func testRollbackIsRefused() throws {
        _ = try verdict(old: 0, size: 60)
        // A smaller checkpoint: its old size can't match 60 without being larger than the checkpoint (400),
        // and any other old size is a conflict (409).
        XCTAssertEqual(try verdict(old: 60, size: 30, proof: []).httpStatus, 400)
        XCTAssertEqual(try verdict(old: 20, size: 30), .conflict(latestSize: 60))
        XCTAssertEqual(heads[log.signer.name]?.size, 60)
    }

    func testSameSizeForkIsAConflict() throws {
        _ = try verdict(old: 0, size: 60)
        let fork = TestLog(signer: log.signer, recordHashes: Array(log.recordHashes.prefix(59)) + [recordHash([1, 2, 3])])
        XCTAssertEqual(try verdict(old: 60, size: 60, proof: [], note: fork.checkpoint()), .conflict(latestSize: 60))
    }

    func testForkedLargerTreeFailsTheConsistencyProof() throws {
        _ = try verdict(old: 0, size: 60)
        let fork = TestLog(signer: log.signer, recordHashes: Array(log.recordHashes.prefix(10)) + [recordHash([9])]
                           + Array(log.recordHashes[11..<80]))
        let outcome = try verdict(old: 60, size: 80, proof: fork.consistency(from: 60, to: 80), note: fork.checkpoint())
        XCTAssertEqual(outcome.httpStatus, 422)
        XCTAssertEqual(heads[log.signer.name]?.size, 60)
    }

    func testUnknownOriginBadSignatureAndMalformedBodies() throws {
        let other = try TestLog(origin: "example.com/unknown")
        XCTAssertEqual(try verdict(old: 0, size: 0, proof: [], note: other.checkpoint()), .unknownLog)
        let impostor = try NoteSigner(name: log.signer.name, seed: SecretBytes(randomCount: 32))
        let forged = try impostor.sign(Checkpoint(origin: log.signer.name, size: 5, rootHash: log.root(size: 5).bytes).body)
        XCTAssertEqual(try verdict(old: 0, size: 5, proof: [], note: forged), .forbidden)
        let key = log.signer.verifierKey
        for body in ["", "old 1\n", "old -1\n\nx", "old 01\n\n", "new 0\n\n"] {
            let outcome = witnessVerdict(body: Array(body.utf8), trustedKeys: { _ in [key] }, latest: { _ in nil })
            XCTAssertEqual(outcome.httpStatus, 400, body)
        }
        XCTAssertEqual(try verdict(old: 0, size: 5, proof: [Hash.zero]).httpStatus, 422, "proof from 0 must be empty")
    }
}

extension TestLog {
    init(signer: NoteSigner, recordHashes: [Hash]) {
        self.signer = signer
        self.recordHashes = recordHashes
    }
}
