import MerkleLog
import RecordFormats

/// The retention events (docs/RETENTION.md; bodies in docs/FORMAT.md, "Event leaf v1"). Like every event they name
/// matters by tag, so keyless verify checks them and a verifier without keys learns no matter number.
extension AccessEvent {
    public static let maxByBytes = 200

    /// A legal hold placed on a matter: while any hold on it is in force, its keys are not destroyed.
    public struct Hold: Sendable, Equatable {
        public var matter: Hash
        /// Who placed it, as the operator declared (`--by`, else the login name).
        public var by: String
        /// The credential that recorded it (`master`).
        public var credential: String
        public var reason: String
        public init(matter: Hash, by: String, credential: String, reason: String) {
            self.matter = matter
            self.by = by
            self.credential = credential
            self.reason = reason
        }
    }

    /// A hold released: `hold` is the seq of the hold entry it ends.
    public struct Release: Sendable, Equatable {
        public var matter: Hash
        public var hold: UInt64
        public var by: String
        public var credential: String
        public var reason: String
        public init(matter: Hash, hold: UInt64, by: String, credential: String, reason: String) {
            self.matter = matter
            self.hold = hold
            self.by = by
            self.credential = credential
            self.reason = reason
        }
    }

    /// A matter's keys destroyed (crypto-shredding): its `entries` record entries, seqs `seqRange`, can never be
    /// decrypted again; their leaves and proofs stay.
    public struct Destruction: Sendable, Equatable {
        public var matter: Hash
        public var entries: UInt64
        /// First and last seq of the matter's record entries; nil when it had none.
        public var seqRange: ClosedRange<UInt64>?
        /// Key records destroyed (key pairs, batch keys, the v1 matter key).
        public var keys: UInt64
        /// The key epoch the master key moved to in the same transaction (docs/FORMAT.md, "Key epochs").
        public var keyEpoch: UInt32
        /// The end of the retention period the policy gave, RFC 3339 UTC; nil when the matter was not closed.
        public var retainUntil: String?
        /// When the policy said the matter closed (RFC 3339 UTC), and the SHA-256 (hex) of the policy file the
        /// retention was checked against: the firm must be able to produce that file. nil: not closed / defaults.
        public var closedAt: String? = nil
        public var policyDigest: String? = nil
        /// Destroyed before `retainUntil` (or without one) on the operator's explicit instruction.
        public var beforeRetentionEnd: Bool
        public var by: String
        public var credential: String
        public var reason: String
        public init(matter: Hash, entries: UInt64, seqRange: ClosedRange<UInt64>?, keys: UInt64, keyEpoch: UInt32,
                    retainUntil: String?, beforeRetentionEnd: Bool, by: String, credential: String, reason: String) {
            self.matter = matter
            self.entries = entries
            self.seqRange = seqRange
            self.keys = keys
            self.keyEpoch = keyEpoch
            self.retainUntil = retainUntil
            self.beforeRetentionEnd = beforeRetentionEnd
            self.by = by
            self.credential = credential
            self.reason = reason
        }
    }

    /// The master key replaced (`rotate-master`, or the rotation every `shred` performs): `keyEpoch` counts them.
    public struct Rotation: Sendable, Equatable {
        public var keyEpoch: UInt32
        public var by: String
        public var credential: String
        public var reason: String
        public init(keyEpoch: UInt32, by: String, credential: String, reason: String) {
            self.keyEpoch = keyEpoch
            self.by = by
            self.credential = credential
            self.reason = reason
        }
    }

    /// A `by` value: 1 to 200 bytes of UTF-8 without control characters.
    public static func isValidActor(_ by: String) -> Bool {
        (1...maxByBytes).contains(by.utf8.count) && !by.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
    }

    /// A retention reason: 1 to 1000 bytes (never empty: every hold, release and destruction says why).
    public static func isValidReason(_ reason: String) -> Bool {
        (1...maxReasonBytes).contains(reason.utf8.count)
    }

    var retentionMembers: [(String, JSONValue)] {
        switch self {
        case .hold(let h):
            return [("event", "hold"), ("matter", .string(h.matter.hex)), ("by", .string(h.by)),
                    ("credential", .string(h.credential)), ("reason", .string(h.reason))]
        case .release(let r):
            return [("event", "release"), ("matter", .string(r.matter.hex)), ("hold", .integer(Int64(r.hold))),
                    ("by", .string(r.by)), ("credential", .string(r.credential)), ("reason", .string(r.reason))]
        case .destroy(let d):
            var m: [(String, JSONValue)] = [("event", "destroy"), ("matter", .string(d.matter.hex)),
                                             ("entries", .integer(Int64(d.entries))), ("keys", .integer(Int64(d.keys))),
                                             ("keyEpoch", .integer(Int64(d.keyEpoch))),
                                             ("beforeRetentionEnd", .bool(d.beforeRetentionEnd)), ("by", .string(d.by)),
                                             ("credential", .string(d.credential)), ("reason", .string(d.reason))]
            if let range = d.seqRange {
                m.append(("firstSeq", .integer(Int64(range.lowerBound))))
                m.append(("lastSeq", .integer(Int64(range.upperBound))))
            }
            if let until = d.retainUntil { m.append(("retainUntil", .string(until))) }
            if let closed = d.closedAt { m.append(("closedAt", .string(closed))) }
            if let digest = d.policyDigest { m.append(("policyDigest", .string(digest))) }
            return m
        case .rotate(let r):
            return [("event", "rotate"), ("keyEpoch", .integer(Int64(r.keyEpoch))), ("by", .string(r.by)),
                    ("credential", .string(r.credential)), ("reason", .string(r.reason))]
        default:
            return []
        }
    }

    static func decodeRetention(_ fields: inout FieldReader) throws -> AccessEvent {
        let kind = try fields.string("event")
        let by = try fields.string("by")
        guard isValidActor(by) else {
            throw AccessEventError(field: "by", reason: "must be 1 to \(maxByBytes) bytes without control characters")
        }
        let credential = try fields.string("credential")
        guard credential == masterName || isValidCredentialName(credential) else {
            throw AccessEventError(field: "credential", reason: "not a valid credential name")
        }
        let reason = try fields.string("reason")
        guard isValidReason(reason) else {
            throw AccessEventError(field: "reason", reason: "must be 1 to \(maxReasonBytes) bytes")
        }
        switch kind {
        case "hold":
            return .hold(Hold(matter: try fields.matter(), by: by, credential: credential, reason: reason))
        case "release":
            guard let hold = try fields.optionalSeq("hold") else { throw AccessEventError(field: "hold", reason: "missing") }
            return .release(Release(matter: try fields.matter(), hold: hold, by: by, credential: credential,
                                    reason: reason))
        case "destroy":
            return .destroy(try decodeDestruction(&fields, by: by, credential: credential, reason: reason))
        default:
            return .rotate(Rotation(keyEpoch: try fields.keyID("keyEpoch"), by: by, credential: credential,
                                    reason: reason))
        }
    }

    private static func decodeDestruction(_ fields: inout FieldReader, by: String, credential: String,
                                          reason: String) throws -> Destruction {
        let matter = try fields.matter()
        guard let entries = try fields.optionalSeq("entries") else {
            throw AccessEventError(field: "entries", reason: "missing")
        }
        guard let keys = try fields.optionalSeq("keys") else { throw AccessEventError(field: "keys", reason: "missing") }
        let first = try fields.optionalSeq("firstSeq"), last = try fields.optionalSeq("lastSeq")
        guard (first == nil) == (last == nil), (first ?? 0) <= (last ?? 0), (first == nil) == (entries == 0),
              entries <= (last ?? 0) - (first ?? 0) + (first == nil ? 0 : 1) else {
            throw AccessEventError(field: "lastSeq", reason: "firstSeq and lastSeq must come together, in order, "
                                   + "exactly when entries is not 0, and span at least that many entries")
        }
        let until = try fields.optionalString("retainUntil")
        if let until, Timestamp.parseRFC3339(until) == nil {
            throw AccessEventError(field: "retainUntil", reason: "not an RFC 3339 time")
        }
        let closed = try fields.optionalString("closedAt")
        if let closed, Timestamp.parseRFC3339(closed) == nil {
            throw AccessEventError(field: "closedAt", reason: "not an RFC 3339 time")
        }
        let digest = try fields.optionalString("policyDigest")
        if let digest, !(digest.utf8.count == 64 && digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })) {
            throw AccessEventError(field: "policyDigest", reason: "not 64 lowercase hex digits")
        }
        var destruction = Destruction(matter: matter, entries: entries, seqRange: first.map { $0...last! }, keys: keys,
                                      keyEpoch: try fields.keyID("keyEpoch"), retainUntil: until,
                                      beforeRetentionEnd: try fields.bool("beforeRetentionEnd"), by: by,
                                      credential: credential, reason: reason)
        destruction.closedAt = closed
        destruction.policyDigest = digest
        return destruction
    }
}

extension FieldReader {
    mutating func matter() throws -> Hash {
        guard let tag = matterTag(hex: try string("matter")) else {
            throw AccessEventError(field: "matter", reason: "not a matter tag")
        }
        return tag
    }
}

/// Holds in force, matters destroyed and the key epoch after a prefix of the log's events (part of `AccessState`).
public struct RetentionState: Sendable, Equatable {
    /// Matter tag → the seqs of its hold entries in force, ascending.
    public private(set) var holds: [Hash: [UInt64]] = [:]
    /// Matter tag → the seq of its destroy entry and the entry's body.
    public private(set) var destroyed: [Hash: DestroyedMatter] = [:]
    /// Rotations of the master key so far (every `shred` is one).
    public private(set) var keyEpoch: UInt32 = 0

    public struct DestroyedMatter: Sendable, Equatable {
        public let seq: UInt64
        public let destruction: AccessEvent.Destruction
    }

    public init() {}

    /// Applies one retention event, the entry at `seq`; returns why it is not a valid next event (nil when it is).
    mutating func apply(_ event: AccessEvent, seq: UInt64) -> String? {
        switch event {
        case .hold(let hold):
            if destroyed[hold.matter] != nil { return "a hold is placed on a matter already destroyed" }
            holds[hold.matter, default: []].append(seq)
            return nil
        case .release(let release):
            guard let index = holds[release.matter]?.firstIndex(of: release.hold) else {
                return "a release names entry \(release.hold), which is not a hold in force on that matter"
            }
            holds[release.matter]!.remove(at: index)
            if holds[release.matter]!.isEmpty { holds[release.matter] = nil }
            return nil
        case .destroy(let destruction):
            defer { destroyed[destruction.matter] = DestroyedMatter(seq: seq, destruction: destruction) }
            if destroyed[destruction.matter] != nil { return "a matter is destroyed a second time" }
            if let held = holds[destruction.matter]?.first {
                return "a matter is destroyed while the legal hold of entry \(held) is in force"
            }
            if destruction.keyEpoch != keyEpoch { return "a destruction names key epoch \(destruction.keyEpoch), "
                                                      + "but the rotations so far make it \(keyEpoch)" }
            return nil
        case .rotate(let rotation):
            defer { keyEpoch = rotation.keyEpoch }
            guard rotation.keyEpoch == keyEpoch &+ 1 else {
                return "a rotation names key epoch \(rotation.keyEpoch) after epoch \(keyEpoch)"
            }
            return nil
        default:
            return nil
        }
    }
}
