import SignedNote

/// A checkpoint note checked against a tlog-policy: signed by one of the policy's logs (the key named by its
/// origin), with the witnesses whose cosignatures verified.
public struct WitnessedCheckpoint: Sendable {
    /// One policy witness's valid cosignature/v1.
    public struct Cosignature: Sendable {
        public let witness: TlogPolicy.Witness
        /// The cosignature's time (POSIX seconds): the newest, if the witness signed twice.
        public let timestamp: UInt64
    }

    public let checkpoint: Checkpoint
    /// The note text (checkpoint body) and every signature line, as given.
    public let note: SignedNoteText
    /// The log whose key signed the checkpoint.
    public let log: TlogPolicy.Log
    /// The policy witnesses whose cosignatures verified, in policy order, each once.
    public let cosigned: [Cosignature]
    /// Policy witnesses with no valid cosignature on the note (display names).
    public let missing: [String]
    /// Witnesses of the policy with a signature line whose key type this verifier cannot check (e.g. ML-DSA-44):
    /// kept, never counted.
    public let unverifiable: [String]
    /// Witnesses of the policy with a cosignature line that claims their key but does not verify.
    public let invalid: [String]
    /// Signature lines by keys the policy does not know (ignored, as the spec requires).
    public let unknownSignatureCount: Int
    public let quorumMet: Bool

    /// Display name → time of each valid cosignature. For reports only: names are octet strings, and two names
    /// that differ only in their Unicode form share a key here (the quorum never uses this).
    public var cosignedBy: [String: UInt64] {
        Dictionary(cosigned.map { ($0.witness.name, $0.timestamp) }, uniquingKeysWith: max)
    }

    /// Checks `note` against `policy`. Throws when the note is malformed or no log of the policy whose name is the
    /// origin signed it (`NoteError.originMismatch`, `.unknownKey`, `.invalidSignature`); cosignatures are sorted
    /// into valid, invalid, unverifiable and unknown, and the quorum is evaluated on the valid ones.
    public init(note text: String, policy: TlogPolicy) throws {
        let note = try SignedNoteText(parsing: text)
        let checkpoint = try Checkpoint(body: note.text)
        let log = try Self.signingLog(note, origin: checkpoint.origin, policy: policy)
        var times: [[UInt8]: UInt64] = [:], unverifiable: [String] = [], invalid: [String] = [], unknown = 0
        for signature in note.signatures where !policy.logs.contains(where: { $0.key.claims(signature) }) {
            guard let witness = policy.witness(claiming: signature) else { unknown += 1; continue }
            guard let key = witness.cosigner else { unverifiable.append(witness.name); continue }
            if let time = key.verify(signature, checkpointBody: note.text) {
                times[witness.nameBytes] = max(time, times[witness.nameBytes] ?? 0)
            } else {
                invalid.append(witness.name)
            }
        }
        self.checkpoint = checkpoint
        self.note = note
        self.log = log
        self.cosigned = policy.witnesses.compactMap { w in times[w.nameBytes].map { Cosignature(witness: w, timestamp: $0) } }
        self.missing = policy.witnesses.filter { times[$0.nameBytes] == nil }.map(\.name)
        self.unverifiable = unverifiable
        self.invalid = invalid
        self.unknownSignatureCount = unknown
        self.quorumMet = policy.quorumMet(byNames: Set(times.keys))
    }

    /// The first of the policy's logs named `origin` whose signature on the note verifies (tlog-policy: a checkpoint
    /// signed by any listed log is accepted).
    private static func signingLog(_ note: SignedNoteText, origin: String, policy: TlogPolicy) throws -> TlogPolicy.Log {
        let candidates = policy.logs(origin: origin)
        guard !candidates.isEmpty else {
            throw NoteError.originMismatch(origin: String(origin.prefix(200)),
                                           keyName: policy.logs.map(\.key.name).joined(separator: ", "))
        }
        var lastError: Error = NoteError.unknownKey
        for log in candidates {
            do {
                try note.verify(with: log.key)
                return log
            } catch { lastError = error }
        }
        throw lastError
    }
}
