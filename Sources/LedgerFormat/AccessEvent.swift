import MerkleLog
import RecordFormats

/// What a credential may do (docs/ACCESS.md). The master key is not a role: it holds every power.
public enum AccessRole: String, Sendable, CaseIterable {
    /// Decrypts the granted matters only.
    case reader
    /// Appends to any matter (or the granted ones) and decrypts nothing.
    case appender
    /// Signs checkpoints and verifies without keys; reads nothing.
    case signer
}

/// One access-control event, the public body of an event entry (docs/FORMAT.md, "Event leaf v1"). Matters are
/// named by their matter tags, never by number, so keyless verify can check them and learns nothing more.
public enum AccessEvent: Sendable, Equatable {
    case grant(Grant)
    case revoke(Revocation)
    case rekey(Rekey)
    case access(Access)
    /// Retention (docs/RETENTION.md): a legal hold placed or released, a matter's keys destroyed, the master key
    /// rotated. Bodies in RetentionEvents.swift.
    case hold(Hold)
    case release(Release)
    case destroy(Destruction)
    case rotate(Rotation)
    /// A bundle given away (ExportEvent.swift).
    case export(Export)

    /// The name the master key acts under in access entries; no credential may take it.
    public static let masterName = "master"

    public struct Grant: Sendable, Equatable {
        public var credential: String
        public var role: AccessRole
        /// The credential's X25519 public key (32 bytes).
        public var publicKey: [UInt8]
        /// Sorted, unique; empty means every matter (appenders only).
        public var matters: [Hash]
        public init(credential: String, role: AccessRole, publicKey: [UInt8], matters: [Hash]) {
            self.credential = credential
            self.role = role
            self.publicKey = publicKey
            self.matters = matters
        }
    }

    public struct Revocation: Sendable, Equatable {
        public var credential: String
        /// The matters withdrawn; empty means the whole grant ends.
        public var matters: [Hash]
        public init(credential: String, matters: [Hash]) {
            self.credential = credential
            self.matters = matters
        }
    }

    /// A matter's new key pair: entries appended after this are sealed to a key earlier readers never had.
    public struct Rekey: Sendable, Equatable {
        public var matter: Hash
        public var keyID: UInt32
        public var previousKeyID: UInt32
        public init(matter: Hash, keyID: UInt32, previousKeyID: UInt32) {
            self.matter = matter
            self.keyID = keyID
            self.previousKeyID = previousKeyID
        }
    }

    /// A read, recorded before a single plaintext byte was shown.
    public struct Access: Sendable, Equatable {
        public var credential: String
        public var command: String
        /// The matters read (sorted, unique); `allMatters` when the master key read without a matter filter.
        public var matters: [Hash]
        public var allMatters: Bool
        /// The seqs the command may decrypt, inclusive; nil when it touches none.
        public var seqRange: ClosedRange<UInt64>?
        public var reason: String?
        public init(credential: String, command: String, matters: [Hash], allMatters: Bool,
                    seqRange: ClosedRange<UInt64>?, reason: String?) {
            self.credential = credential
            self.command = command
            self.matters = matters
            self.allMatters = allMatters
            self.seqRange = seqRange
            self.reason = reason
        }
    }
}

/// Why an event body was refused: names the field.
public struct AccessEventError: Error, Equatable, Sendable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { field.isEmpty ? reason : "'\(field)': \(reason)" }
}

extension AccessEvent {
    public static let maxMatters = 1024
    public static let maxReasonBytes = 1000
    public static let maxCommandBytes = 64

    /// Credential names: 1 to 64 of ASCII letters, digits, '.', '_', '@', '-', starting with a letter or digit.
    public static func isValidCredentialName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), isAlnum(bytes[0]) else { return false }
        return bytes.allSatisfy { isAlnum($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x40 || $0 == 0x2d }
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    }

    /// The canonical JSON body (keys sorted, no whitespace): one byte form per event.
    public func encoded() -> [UInt8] {
        JSONWriter.serialize(.object(JSONObject(members)))
    }

    private var members: [(String, JSONValue)] {
        switch self {
        case .grant(let g):
            return [("event", "grant"), ("credential", .string(g.credential)), ("role", .string(g.role.rawValue)),
                    ("publicKey", .string(Hex.encode(g.publicKey))), ("matters", Self.tagArray(g.matters))]
        case .revoke(let r):
            return [("event", "revoke"), ("credential", .string(r.credential)), ("matters", Self.tagArray(r.matters))]
        case .rekey(let k):
            return [("event", "rekey"), ("matter", .string(k.matter.hex)), ("keyID", .integer(Int64(k.keyID))),
                    ("previousKeyID", .integer(Int64(k.previousKeyID)))]
        case .access(let a):
            var m: [(String, JSONValue)] = [("event", "access"), ("credential", .string(a.credential)),
                                             ("command", .string(a.command)), ("matters", Self.tagArray(a.matters)),
                                             ("allMatters", .bool(a.allMatters))]
            if let range = a.seqRange {
                m.append(("firstSeq", .integer(Int64(range.lowerBound))))
                m.append(("lastSeq", .integer(Int64(range.upperBound))))
            }
            if let reason = a.reason { m.append(("reason", .string(reason))) }
            return m
        case .hold, .release, .destroy, .rotate:
            return retentionMembers
        case .export:
            return exportMembers
        }
    }

    static func tagArray(_ tags: [Hash]) -> JSONValue { .array(tags.map { .string($0.hex) }) }

    /// Decodes a body strictly: canonical bytes only, every field known and valid.
    public static func decode(_ body: [UInt8]) throws -> AccessEvent {
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch {
            throw AccessEventError(field: "", reason: "the event body is not valid JSON")
        }
        guard case .object(let object) = value else {
            throw AccessEventError(field: "", reason: "the event body is not a JSON object")
        }
        let event = try decode(object)
        guard event.encoded() == body else {
            throw AccessEventError(field: "", reason: "the event body is not in canonical form")
        }
        return event
    }

    private static func decode(_ o: JSONObject) throws -> AccessEvent {
        var fields = FieldReader(o)
        let event: AccessEvent
        switch try fields.string("event") {
        case "grant":
            let role = try fields.string("role")
            guard let parsed = AccessRole(rawValue: role) else { throw AccessEventError(field: "role", reason: "unknown role") }
            let key = try fields.string("publicKey")
            guard let publicKey = Hex.decode(key), publicKey.count == 32 else {
                throw AccessEventError(field: "publicKey", reason: "not 64 hex digits")
            }
            event = .grant(Grant(credential: try fields.credential(), role: parsed, publicKey: publicKey,
                                 matters: try fields.tags("matters")))
        case "revoke":
            event = .revoke(Revocation(credential: try fields.credential(), matters: try fields.tags("matters")))
        case "rekey":
            guard let matter = matterTag(hex: try fields.string("matter")) else {
                throw AccessEventError(field: "matter", reason: "not a matter tag")
            }
            event = .rekey(Rekey(matter: matter, keyID: try fields.keyID("keyID"),
                                 previousKeyID: try fields.keyID("previousKeyID")))
        case "access":
            event = .access(try decodeAccess(&fields))
        case "hold", "release", "destroy", "rotate":
            event = try decodeRetention(&fields)
        case "export":
            event = try decodeExport(&fields)
        default:
            throw AccessEventError(field: "event", reason: "unknown event kind")
        }
        try fields.requireAllRead()
        return event
    }

    private static func decodeAccess(_ fields: inout FieldReader) throws -> Access {
        let credential = try fields.string("credential")
        guard credential == masterName || isValidCredentialName(credential) else {
            throw AccessEventError(field: "credential", reason: "not a valid credential name")
        }
        let command = try fields.string("command")
        guard (1...maxCommandBytes).contains(command.utf8.count) else {
            throw AccessEventError(field: "command", reason: "must be 1 to \(maxCommandBytes) bytes")
        }
        let first = try fields.optionalSeq("firstSeq"), last = try fields.optionalSeq("lastSeq")
        guard (first == nil) == (last == nil), (first ?? 0) <= (last ?? 0) else {
            throw AccessEventError(field: "lastSeq", reason: "firstSeq and lastSeq must come together, in order")
        }
        let reason = try fields.optionalString("reason")
        if let reason, reason.utf8.count > maxReasonBytes {
            throw AccessEventError(field: "reason", reason: "longer than \(maxReasonBytes) bytes")
        }
        return Access(credential: credential, command: command, matters: try fields.tags("matters"),
                      allMatters: try fields.bool("allMatters"), seqRange: first.map { $0...last! }, reason: reason)
    }
}

/// A matter tag written as 64 lowercase hex digits.
func matterTag(hex text: String) -> Hash? {
    Hex.decode(text).flatMap { $0.count == Hash.byteCount ? Hash(bytes: $0) : nil }
}

/// Reads an event object's members, remembering which were read so unknown ones are refused.
struct FieldReader {
    let object: JSONObject
    var read = Set<String>()

    init(_ object: JSONObject) { self.object = object }

    mutating func value(_ name: String) throws -> JSONValue {
        guard let v = object[name] else { throw AccessEventError(field: name, reason: "missing") }
        read.insert(name)
        return v
    }

    mutating func string(_ name: String) throws -> String {
        guard let s = try value(name).stringValue else { throw AccessEventError(field: name, reason: "not a string") }
        return s
    }

    mutating func optionalString(_ name: String) throws -> String? {
        object[name] == nil ? nil : try string(name)
    }

    mutating func bool(_ name: String) throws -> Bool {
        guard let b = try value(name).boolValue else { throw AccessEventError(field: name, reason: "not a boolean") }
        return b
    }

    mutating func credential() throws -> String {
        let name = try string("credential")
        guard AccessEvent.isValidCredentialName(name), name != AccessEvent.masterName else {
            throw AccessEventError(field: "credential", reason: "not a valid credential name")
        }
        return name
    }

    mutating func keyID(_ name: String) throws -> UInt32 {
        guard let i = try value(name).integerValue, let id = UInt32(exactly: i) else {
            throw AccessEventError(field: name, reason: "not a key id")
        }
        return id
    }

    mutating func optionalSeq(_ name: String) throws -> UInt64? {
        guard object[name] != nil else { return nil }
        guard let i = try value(name).integerValue, i >= 0 else {
            throw AccessEventError(field: name, reason: "not a sequence number")
        }
        return UInt64(i)
    }

    /// Sorted, unique matter tags (64 hex digits each), at most `AccessEvent.maxMatters`.
    mutating func tags(_ name: String) throws -> [Hash] {
        guard let array = try value(name).arrayValue, array.count <= AccessEvent.maxMatters else {
            throw AccessEventError(field: name, reason: "not an array of at most \(AccessEvent.maxMatters) tags")
        }
        let tags = try array.map { item -> Hash in
            guard let text = item.stringValue, let tag = matterTag(hex: text) else {
                throw AccessEventError(field: name, reason: "an item is not a matter tag")
            }
            return tag
        }
        guard zip(tags, tags.dropFirst()).allSatisfy({ $0.hex < $1.hex }) else {
            throw AccessEventError(field: name, reason: "tags must be sorted and unique")
        }
        return tags
    }

    func requireAllRead() throws {
        if let extra = object.keys.first(where: { !read.contains($0) }) {
            throw AccessEventError(field: extra, reason: "unknown field")
        }
    }
}

/// An event entry's leaf (docs/FORMAT.md, "Event leaf v1"): the chain prefix every leaf shares, then a public body.
///
///     u8      version (3)
///     u8[16]  ledger id
///     u64     seq
///     i64     recordedAt
///     u8[32]  previous record hash
///     u32     body length (1 to 60,000)
///     bytes   body: the event's canonical JSON
///
/// Stored with an empty ciphertext.
public struct EventLeaf: Sendable, Equatable {
    public static let version: UInt8 = 3
    public static let maxBodyBytes = 60_000

    public var ledgerID: [UInt8]
    public var seq: UInt64
    public var recordedAt: Int64
    public var previousHash: Hash
    public var body: [UInt8]

    public init(ledgerID: [UInt8], seq: UInt64, recordedAt: Int64, previousHash: Hash, body: [UInt8]) {
        self.ledgerID = ledgerID
        self.seq = seq
        self.recordedAt = recordedAt
        self.previousHash = previousHash
        self.body = body
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 65 + 4 + body.count + 16)
        w.u8(Self.version)
        w.raw(ledgerID)
        w.u64(seq)
        w.u64(UInt64(bitPattern: recordedAt))
        previousHash.withUnsafeBytes { w.raw($0) }
        w.u32(UInt32(body.count))
        w.raw(body)
        return w.bytes
    }

    /// True when `leaf` starts with the event version byte (the caller then decodes it as an event).
    public static func isEvent(_ leaf: UnsafeRawBufferPointer) -> Bool { leaf.first == version }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> EventLeaf {
        var r = ByteReader(bytes)
        do {
            let v = try r.u8()
            guard v == version else { throw LeafDecodingError.unsupportedVersion(v) }
            let ledgerID = try r.bytes(Leaf.ledgerIDByteCount)
            let seq = try r.u64()
            let recordedAt = Int64(bitPattern: try r.u64())
            let previous = Hash(unsafeBytes: try r.take(32))
            let length = Int(try r.u32())
            guard (1...maxBodyBytes).contains(length) else { throw LeafDecodingError.truncated(at: r.offset) }
            let body = try r.bytes(length)
            guard r.isAtEnd else { throw LeafDecodingError.trailingBytes(count: r.remaining) }
            return EventLeaf(ledgerID: ledgerID, seq: seq, recordedAt: recordedAt, previousHash: previous, body: body)
        } catch let failure as ByteReader.Failure {
            if case .truncated(let at, _) = failure { throw LeafDecodingError.truncated(at: at) }
            throw LeafDecodingError.truncated(at: r.offset)
        }
    }
}

/// The grants in force after a prefix of the log's events: what keyless verify checks every access entry against, and
/// what `ledger access grants --at T` reports (docs/ACCESS.md).
public struct AccessState: Sendable, Equatable {
    public private(set) var grants: [String: AccessEvent.Grant] = [:]
    /// Holds, destructions and the key epoch.
    public private(set) var retention = RetentionState()

    public init() {}

    /// Applies one event, the entry at `seq`; returns why it is not a valid next event (nil when it is). An invalid
    /// event still applies as far as it can, so one bad entry is reported once, not at every later read.
    public mutating func apply(_ event: AccessEvent, seq: UInt64) -> String? {
        switch event {
        case .hold, .release, .destroy, .rotate:
            return retention.apply(event, seq: seq)
        case .export(let export):
            // Giving a bundle away is a read of its matters: the same grants must cover it.
            return permits(AccessEvent.Access(credential: export.credential, command: "export", matters: export.matters,
                                  allMatters: false, seqRange: nil, reason: nil))
        case .grant(let grant):
            defer { grants[grant.credential] = grant }
            if grants[grant.credential] != nil { return "'\(grant.credential)' is granted again without a revocation" }
            if grant.role == .reader && grant.matters.isEmpty { return "a reader grant names no matter" }
            if grant.role == .signer && !grant.matters.isEmpty { return "a signer grant names matters" }
            return nil
        case .revoke(let revocation):
            guard var grant = grants[revocation.credential] else {
                return "'\(revocation.credential)' is revoked without a grant in force"
            }
            if revocation.matters.isEmpty {
                grants[revocation.credential] = nil
                return nil
            }
            let unknown = revocation.matters.filter { !grant.matters.contains($0) }
            grant.matters.removeAll { revocation.matters.contains($0) }
            grants[revocation.credential] = grant.matters.isEmpty ? nil : grant
            return unknown.isEmpty ? nil : "a revocation withdraws matters '\(revocation.credential)' was not granted"
        case .rekey:
            return nil
        case .access(let access):
            return permits(access)
        }
    }

    /// Why `access` was not allowed by the grants in force (nil when it was): the master key may read anything; a
    /// credential only the matters of a reader grant, never "all matters".
    public func permits(_ access: AccessEvent.Access) -> String? {
        if access.credential == AccessEvent.masterName { return nil }
        guard let grant = grants[access.credential] else {
            return "'\(access.credential)' read without a grant in force"
        }
        guard grant.role == .reader else {
            return "'\(access.credential)' read with a \(grant.role.rawValue) grant, which reads nothing"
        }
        if access.allMatters || !access.matters.allSatisfy(grant.matters.contains) {
            return "'\(access.credential)' read a matter outside its grant"
        }
        return nil
    }

    /// The credentials whose grant covers reading `tag`.
    public func readers(of tag: Hash) -> [AccessEvent.Grant] {
        grants.values.filter { $0.role == .reader && $0.matters.contains(tag) }.sorted { $0.credential < $1.credential }
    }
}
