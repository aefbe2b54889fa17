import MerkleLog
import SignedNote
import Sodium
import Transparency

extension FuzzTargets {
    /// A witness's cosigning key, fixed so that mutated cosigned notes can still verify.
    static let fuzzCosigner: Cosigner = {
        try! Cosigner(name: "fuzz.example/witness", seed: SecretBytes(copying: Array(repeating: 9, count: 32)))
    }()

    /// A tlog-policy file (`verify --policy`, `checkpoint --witness`, `witness serve` configuration): a policy that
    /// parses prints to a canonical text that parses to the same policy, and evaluating its quorum terminates.
    static let tlogPolicy = FuzzTarget("tlog-policy") { bytes in
        guard let policy = try? TlogPolicy(parsing: Array(bytes)) else { return }
        let reparsed = try? TlogPolicy(parsing: Array(policy.text.utf8))
        agree(reparsed == policy, "a parsed policy does not round-trip through its canonical text")
        _ = policy.quorumMet(by: Set(policy.witnesses.map(\.name)))
        _ = policy.quorumMet(by: [])
    }

    /// A c2sp.org/tlog-proof receipt: strict parse, text round trip, verification against the fuzz log key and a
    /// policy that names the fuzz witness.
    static let tlogProof = FuzzTarget("tlog-proof") { bytes in
        guard let receipt = try? TlogProof(parsing: Array(bytes)) else { return }
        agree((try? TlogProof(parsing: Array(receipt.text.utf8))) == receipt, "a parsed receipt does not round-trip")
        _ = try? receipt.verify(recordHash: Hash.zero, logKey: noteVerifier)
        _ = try? receipt.verify(recordHash: Hash.zero, policy: fuzzPolicy)
    }

    /// A tlog-witness add-checkpoint request body, decided by a witness that trusts the fuzz log key and last
    /// cosigned a 5-entry tree: whatever the body, the verdict is one of the spec's statuses, and a cosign verdict
    /// names a checkpoint signed by the trusted key.
    static let addCheckpoint = FuzzTarget("add-checkpoint") { bytes in
        let body = Array(bytes)
        let verdict = witnessVerdict(body: body, trustedKeys: { $0 == noteVerifier.name ? [noteVerifier] : [] },
                                     latest: { _ in WitnessedHead(size: 5, root: Hash.zero) })
        agree([200, 400, 403, 404, 409, 422].contains(verdict.httpStatus), "a verdict outside the spec")
        if case .cosign(let origin, _, _, let checkpointBody) = verdict {
            agree(origin == noteVerifier.name, "cosigned a checkpoint of an untrusted origin")
            let line = fuzzCosigner.cosign(checkpointBody: checkpointBody, timestamp: 1)
            agree(fuzzCosigner.publicKey.verify(line, checkpointBody: checkpointBody) == 1, "a cosignature fails")
        }
        if let request = try? AddCheckpointRequest(parsing: body) {
            agree((try? AddCheckpointRequest(parsing: request.body)) == request, "a request does not round-trip")
        }
    }

    /// A witness key file and a cosigner vkey: a key file that parses derives the vkey it names; a vkey that
    /// parses prints back as itself.
    static let cosignerKey = FuzzTarget("cosigner-key") { bytes in
        if let cosigner = try? Cosigner(keyFile: Array(bytes)) {
            agree(cosigner.publicKey.name == cosigner.name, "a key file's cosigner key has another name")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if let key = try? CosignerKey(text: text) {
            agree(key.text == text, "a parsed cosigner key does not print back as its text")
        }
    }

    static let fuzzPolicy: TlogPolicy = {
        try! TlogPolicy(parsing: Array("""
            log \(noteVerifier.text)
            witness W \(fuzzCosigner.publicKey.text)
            quorum W

            """.utf8))
    }()
}
