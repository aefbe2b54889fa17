import SignedNote

/// A checkpoint note checked against a tlog-policy: signed by one of the policy's logs (the key named by its
/// origin), with the witnesses whose cosignatures verified.
public struct WitnessedCheckpoint: Sendable {
    public let checkpoint: Checkpoint
    /// The note text (checkpoint body) and every signature line, as given.
    public let note: SignedNoteText
    /// Witness name → the time (POSIX seconds) of its valid cosignature/v1 (the newest, if it signed twice).
    public let cosignedBy: [String: UInt64]
    /// Witnesses of the policy with a signature line whose key type this verifier cannot check (e.g. ML-DSA-44):
    /// kept, never counted.
    public let unverifiable: [String]
    /// Witnesses of the policy with a cosignature line that claims their key but does not verify.
    public let invalid: [String]
    /// Signature lines by keys the policy does not know (ignored, as the spec requires).
    public let unknownSignatureCount: Int
    public let quorumMet: Bool

    /// Checks `note` against `policy`. Throws when the note is malformed or carries no valid signature by the
    /// policy's log key for its origin (`NoteError.unknownKey`, `.invalidSignature`, `.originMismatch`);
    /// cosignatures are sorted into valid, invalid, unverifiable and unknown, and the quorum is evaluated.
    public init(note text: String, policy: TlogPolicy) throws {
        let note = try SignedNoteText(parsing: text)
        let checkpoint = try Checkpoint(body: note.text)
        guard let log = policy.log(origin: checkpoint.origin) else {
            throw NoteError.originMismatch(origin: String(checkpoint.origin.prefix(200)),
                                           keyName: policy.logs.map(\.key.name).joined(separator: ", "))
        }
        try note.verify(with: log.key)
        var cosigned: [String: UInt64] = [:], unverifiable: [String] = [], invalid: [String] = [], unknown = 0
        for signature in note.signatures where !log.key.claimsSignature(signature) {
            guard let witness = policy.witness(claiming: signature) else { unknown += 1; continue }
            guard let key = witness.cosigner else { unverifiable.append(witness.name); continue }
            if let time = key.verify(signature, checkpointBody: note.text) {
                cosigned[witness.name] = max(time, cosigned[witness.name] ?? 0)
            } else {
                invalid.append(witness.name)
            }
        }
        self.checkpoint = checkpoint
        self.note = note
        self.cosignedBy = cosigned
        self.unverifiable = unverifiable
        self.invalid = invalid
        self.unknownSignatureCount = unknown
        self.quorumMet = policy.quorumMet(by: Set(cosigned.keys))
    }
}

extension NoteVerifierKey {
    /// Whether a signature line claims this key (same name and key id).
    public func claimsSignature(_ signature: NoteSignature) -> Bool {
        signature.keyHash == keyHash && signature.name.utf8.elementsEqual(name.utf8)
    }
}
