import MerkleLog

/// One integrity violation found by `verify`: where, which class of check, and what was expected
/// against what was found.
public struct Violation: Sendable, Equatable, CustomStringConvertible {
    /// The classes of check, named in output and in the JSON schema (docs/VERIFY.md).
    public enum Kind: String, Sendable, CaseIterable {
        case missingEntry = "missing-entry"
        case unexpectedEntry = "unexpected-entry"
        /// Storage format 3: a group of stored entries whose header, length or key is wrong (a gap or an overlap).
        case entryGroup = "entry-group"
        case leafMalformed = "leaf-malformed"
        case leafSequence = "leaf-seq"
        case ledgerID = "ledger-id"
        case hashChain = "hash-chain"
        case recordedAt = "recorded-at"
        case ciphertextDigest = "ciphertext-digest"
        case treeHash = "tree-hash"
        case checkpointSignature = "checkpoint-signature"
        case checkpointRoot = "checkpoint-root"
        case checkpointBeyondLog = "checkpoint-beyond-log"
        case trustedCheckpoint = "trusted-checkpoint"
        case verifierKey = "verifier-key"
        case matterIndex = "matter-index"
        case sourceIndex = "source-index"
        case matterKeyIndex = "matter-key-index"
        case metadata = "metadata"
        case decryption = "decryption"
        case disclosureDigest = "disclosure-digest"
        case recordSchema = "record-schema"
        case matterKey = "matter-key"
        case tagMismatch = "tag-mismatch"
        /// An event entry's body does not decode, or an event is not a valid next one (a grant twice, a revocation
        /// without a grant).
        case accessEvent = "access-event"
        /// An access entry names a credential that held no grant covering the read at that time.
        case accessWithoutGrant = "access-without-grant"
        /// The stored grants (`access` database) differ from what the grant and revoke entries leave in force.
        case accessRegistry = "access-registry"
        /// The `events` index does not list exactly the seqs of the event entries.
        case eventIndex = "event-index"
        /// A hold, release, destruction or rotation entry that cannot follow the ones before it (a destruction under
        /// a hold, a release of no hold in force, a key epoch out of turn).
        case retentionEvent = "retention-event"
        /// A destroyed matter's entries disagree with its destroy entry (count, seq range), or it gained entries or
        /// keys after it.
        case destroyedMatter = "destroyed-matter"
        /// The stored holds, destructions or key epoch differ from what the entries record.
        case retentionRegistry = "retention-registry"
        /// `--policy`: the policy names no log for this origin or another key, or the newest checkpoint does not
        /// verify with the policy's log key.
        case witnessPolicy = "witness-policy"
        /// `--policy`: the newest checkpoint lacks the policy's quorum of valid cosignatures.
        case witnessQuorum = "witness-quorum"
        /// `--policy`: a policy witness's cosignature does not verify.
        case witnessCosignature = "witness-cosignature"
        /// A witness refused one of this ledger's checkpoints (fork or rollback), as `checkpoint --witness` recorded.
        case witnessRefusal = "witness-refusal"
    }

    public let seq: UInt64?
    public let kind: Kind
    public let detail: String
    public let expected: String?
    public let found: String?

    public init(seq: UInt64?, kind: Kind, detail: String, expected: String? = nil, found: String? = nil) {
        self.seq = seq
        self.kind = kind
        self.detail = detail
        self.expected = expected
        self.found = found
    }

    public var description: String {
        var text = (seq.map { "seq \($0): " } ?? "") + "[\(kind.rawValue)] \(detail)"
        if let expected { text += "; expected \(expected)" }
        if let found { text += ", found \(found)" }
        return text
    }
}

/// The outcome of `verify`.
public struct VerifyReport: Sendable {
    public static let violationListLimit = 1000

    public var origin: String = ""
    public var entries: UInt64 = 0
    public var ledgerBytes: Int = 0
    public var root: Hash = .emptyTree
    public var checkpointsChecked = 0
    public var trustedCheckpointSize: UInt64?
    public var deep = false
    public var verifierKeyPinned = false
    public var bytesHashed = 0
    public var seconds: Double = 0
    /// The first `violationListLimit` violations, in the order found; `violationCount` counts them all.
    public var violations: [Violation] = []
    public var violationCount = 0
    /// The newest stored checkpoint that verified and matched, for `--update-trusted`.
    public var newestValidCheckpoint: String?
    /// Tree size of `newestValidCheckpoint` (0 when there is none).
    public var newestValidCheckpointSize: UInt64 = 0
    /// Destroyed matters, in destroy-entry order: their entries verify keyless; deep verify cannot and does not open
    /// them.
    public var shredded: [ShreddedRange] = []
    /// Destroyed keys may still sit in free pages of the data file (a compaction did not finish): a notice.
    public var scrubPending = false
    /// `--policy`: the witnesses with a valid cosignature on the newest checkpoint (nil without a policy).
    public var witnessedBy: [String]?
    /// `--policy`: recorded witness refusals someone acknowledged (`ledger witness acknowledge`): notices, not
    /// violations.
    public var acknowledgedRefusals: [String] = []

    public var isIntact: Bool { violationCount == 0 }

    public init() {}

    mutating func add(_ violation: Violation) {
        violationCount += 1
        if violations.count < Self.violationListLimit { violations.append(violation) }
    }
}

/// One destroyed matter as verify reports it: "shredded (seq A–B, destruction entry #N)".
public struct ShreddedRange: Sendable, Equatable {
    public let matterTag: Hash
    public let entries: UInt64
    public let seqRange: ClosedRange<UInt64>?
    public let destroySeq: UInt64
}
