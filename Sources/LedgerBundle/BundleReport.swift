import RecordFormats

/// One failed check of a bundle: which check (`kind`), where (the entry's seq, the line), and — when the check
/// compares two values — what was expected against what was found.
public struct BundleViolation: Sendable, Equatable, CustomStringConvertible {
    /// The checks (docs/EXPORT.md, "The checks"); the raw value is the name printed and written to the JSON as
    /// `check`, the same names tools/verify_bundle.py uses.
    public enum Kind: String, Sendable, CaseIterable {
        case manifest
        case verifierKey = "verifier-key"
        case checkpointSignature = "checkpoint-signature"
        case checkpointOrigin = "checkpoint-origin"
        case entryMalformed = "entry-malformed"
        case leafMalformed = "leaf-malformed"
        case entryIndex = "entry-index"
        case entryOrder = "entry-order"
        /// entries.jsonl holds no entry.
        case noEntries = "entries"
        case inclusionProof = "inclusion-proof"
        case disclosureMalformed = "disclosure-malformed"
        case disclosureName = "disclosure-name"
        case redaction
        case redactionReason = "redaction-reason"
        case fieldCoverage = "field-coverage"
        case fieldsDigest = "fields-digest"
        case privilegeLog = "privilege-log"
        case consistency
        case trustedCheckpoint = "trusted-checkpoint"
        // access-log.jsonl (optional, added with access control)
        case accessEntryMalformed = "access-entry-malformed"
        case accessLeafMalformed = "access-leaf-malformed"
        case accessIndex = "access-index"
        case accessOrder = "access-order"
        case accessLedger = "access-ledger"
        case accessInclusionProof = "access-inclusion-proof"
        case accessMatter = "access-matter"
        // retention.jsonl (optional, added with retention)
        case retentionEntryMalformed = "retention-entry-malformed"
        case retentionLeafMalformed = "retention-leaf-malformed"
        case retentionIndex = "retention-index"
        case retentionOrder = "retention-order"
        case retentionLedger = "retention-ledger"
        case retentionInclusionProof = "retention-inclusion-proof"
        /// A hold or release of a matter neither exported nor destroyed in the bundle.
        case retentionMatter = "retention-matter"
        /// A record leaf without a later destroy event of its matter covering its index (or a matter destroyed twice).
        case retentionDestroyed = "retention-destroyed"
        /// A destroy event whose record leaves in the file are not exactly its `entries`, `firstSeq` and `lastSeq`.
        case retentionCompleteness = "retention-completeness"
        /// A destroyed matter's entry also in entries.jsonl.
        case retentionDisclosed = "retention-disclosed"
        /// A release of no hold line of its matter, or a destruction under a hold not released before it.
        case retentionHold = "retention-hold"
        // receipts/<seq>.tlog-proof (optional, added with receipts) and --policy
        /// A receipt that does not parse, names another index or checkpoint, or whose proof does not lead to the root;
        /// or an entry without its receipt in a bundle with receipts.
        case receipt
        /// The checkpoint is not signed by the policy's log for its origin, or its cosignatures miss the quorum.
        case policy
        /// A cosignature that claims a policy witness's key and does not verify.
        case cosignature
    }

    public let kind: Kind
    /// The entry's seq (leaf index), when the check is about one entry.
    public let entry: UInt64?
    /// 1-based line of entries.jsonl, privilege-log.csv, access-log.jsonl or retention.jsonl, when the check is about one line.
    public let line: Int?
    public let detail: String
    /// What the check expected (e.g. the manifest's SHA-256, the leaf's fields digest), when it compares values.
    public let expected: String?
    /// What the bundle holds instead.
    public let found: String?

    /// The check's name: `kind.rawValue`.
    public var check: String { kind.rawValue }

    public init(kind: Kind, entry: UInt64? = nil, line: Int? = nil, detail: String, expected: String? = nil,
                found: String? = nil) {
        self.kind = kind
        self.entry = entry
        self.line = line
        self.detail = detail
        self.expected = expected
        self.found = found
    }

    public var description: String {
        var where_ = ""
        if let entry { where_ = "entry \(entry): " } else if let line { where_ = "line \(line): " }
        return "\(where_)[\(check)] \(detail)"
    }

    package var json: JSONValue {
        var members: [(String, JSONValue)] = [("check", .string(check)), ("detail", .string(detail))]
        if let entry { members.append(("entry", .integer(Int64(entry)))) }
        if let line { members.append(("line", .integer(Int64(line)))) }
        if let expected { members.append(("expected", .string(expected))) }
        if let found { members.append(("found", .string(found))) }
        return .object(JSONObject(members))
    }
}

/// What `BundleVerifier` found: the checkpoint's figures, the counts, the warnings and every failed check.
public struct BundleReport: Sendable {
    public var origin = ""
    public var treeSize: UInt64 = 0
    public var root = ""
    public var entries = 0
    public var disclosures = 0
    public var redactions = 0
    /// Lines of access-log.jsonl; nil when the bundle has none.
    public var accessEntries: Int?
    /// Event lines (hold, release, destroy) of retention.jsonl; nil when the bundle has none.
    public var retentionEvents: Int?
    /// Record lines of retention.jsonl: entries of destroyed matters, leaf and proof only; nil when it has none.
    public var destroyedEntries: Int?
    /// Receipt members (receipts/<seq>.tlog-proof); nil when the bundle has none.
    public var receipts: Int?
    /// The checkpoint's cosignatures against the policy given (--policy); nil without one.
    public var policy: PolicyOutcome?
    public var verifierKeyPinned = false
    public var consistencyChecked = false
    /// The bundle carries consistency.json (checked only when its checkpoint opened).
    public var consistencyPresent = false
    public var trustedChecked = false
    public var warnings: [String] = []
    /// 1 or 2: which bundle format was read (0 until its manifest is read).
    public var formatVersion = 0
    /// Facts the recipient should know that are not violations: a v1 bundle's unsigned metadata
    /// (`BundleFormat.v1Notice`).
    public var notices: [String] = []
    public var violations: [BundleViolation] = []
    public var durationMicroseconds: Int64 = 0

    public var isValid: Bool { violations.isEmpty }

    /// The warning when no verifier key was pinned (the caller may add how to pin one).
    public static let unpinnedKeyWarning = "the verifier key was not pinned: the checkpoint was checked with the key "
        + "inside the bundle, which anyone who can rewrite the bundle can replace too; pin the firm's key, obtained "
        + "separately"

    package mutating func fail(_ kind: BundleViolation.Kind, _ detail: String, entry: UInt64? = nil, line: Int? = nil,
                               expected: String? = nil, found: String? = nil) {
        violations.append(BundleViolation(kind: kind, entry: entry, line: line, detail: detail, expected: expected,
                                          found: found))
    }

    public var json: JSONValue {
        .object(JSONObject([
            ("ok", .bool(isValid)),
            ("formatVersion", .integer(Int64(formatVersion))),
            ("origin", .string(origin)),
            ("treeSize", .integer(Int64(treeSize))),
            ("root", .string(root)),
            ("entries", .integer(Int64(entries))),
            ("disclosures", .integer(Int64(disclosures))),
            ("redactions", .integer(Int64(redactions))),
        ] + (accessEntries.map { [("accessEntries", .integer(Int64($0)))] } ?? []) + retentionJSON
          + (receipts.map { [("receipts", .integer(Int64($0)))] } ?? [])
          + (policy.map { [("policy", $0.json)] } ?? []) + [
            ("verifierKeyPinned", .bool(verifierKeyPinned)),
            ("consistencyChecked", .bool(consistencyChecked)),
            ("trustedChecked", .bool(trustedChecked)),
            ("durationMicroseconds", .integer(durationMicroseconds)),
            ("warnings", .array(warnings.map { .string($0) })),
            ("notices", .array(notices.map { .string($0) })),
            ("violationCount", .integer(Int64(violations.count))),
            ("violations", .array(violations.prefix(1000).map(\.json))),
        ]))
    }

    /// `retentionEvents` and `destroyedEntries`, only for a bundle with retention.jsonl.
    private var retentionJSON: [(String, JSONValue)] {
        guard let retentionEvents, let destroyedEntries else { return [] }
        return [("retentionEvents", .integer(Int64(retentionEvents))),
                ("destroyedEntries", .integer(Int64(destroyedEntries)))]
    }

    /// The summary line of retention.jsonl, only for a bundle with one.
    private var retentionLines: [String] {
        guard let retentionEvents, let destroyedEntries else { return [] }
        return ["retention:    \(retentionEvents) events, \(destroyedEntries) destroyed entries"]
    }

    public var summaryLines: [String] {
        let seconds = Double(durationMicroseconds) / 1e6
        let rate = seconds > 0 ? Int(Double(entries) / seconds) : entries
        let proof = consistencyChecked ? "proof checked"
            : consistencyPresent ? "proof not checked (the checkpoint did not open)" : "no proof in bundle"
        let consistency = proof + (trustedChecked ? ", trusted checkpoint checked" : "")
        return [
            "format:       bundle v\(formatVersion)\(formatVersion >= 2 ? " (manifest signed)" : "")",
            "origin:       \(origin)",
            "checkpoint:   size \(treeSize), root \(root)",
            "entries:      \(entries) (\(disclosures) fields disclosed, \(redactions) redacted)",
        ] + (accessEntries.map { ["access log:   \($0) access entries"] } ?? []) + retentionLines
          + (receipts.map { ["receipts:     \($0) (c2sp.org/tlog-proof, one per entry)"] } ?? [])
          + (policy.map { ["policy:       \($0.summary)"] } ?? []) + [
            "verifier key: \(verifierKeyPinned ? "pinned" : "the bundle's own (not pinned)")",
            "consistency:  \(consistency)",
            String(format: "time:         %.3f s (%d entries/s)", seconds, rate),
            "result:       \(isValid ? "VALID" : "INVALID (\(violations.count) violations)")",
        ] + notices.map { "notice: \($0)" }
    }
}
