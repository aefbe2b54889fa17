// The value model: what the strict parser produces and the canonical writer consumes.
// Integers only (no floats, by policy: every implementation must read stored values alike).

/// A JSON value as this ledger accepts it: no floating-point numbers.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var integerValue: Int64? { if case .integer(let i) = self { return i } else { return nil } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    /// The JSON type name ("null", "boolean", "integer", "string", "array", "object"),
    /// for error messages that must not show the value itself.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSONValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Precondition: unique keys.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

/// A JSON object: unique keys, input order preserved for iteration, lookup by key.
///
/// Keys are unique under Swift `String` equality, i.e. Unicode canonical
/// equivalence (the parser rejects `"\u00e9"` next to `"e\u0301"` as a duplicate,
/// which is stricter than byte equality and avoids look-alike keys).
///
/// Equality is that of JSON objects: the same key/value pairs, in any order
/// (so `parse(serialize(v)) == v` although the writer sorts keys).
///
/// Storage is one array of members, each with a 64-bit fingerprint of its key
/// so that lookups and the parser's duplicate check compare integers first;
/// objects with more than `indexThreshold` members also get a dictionary index.
public struct JSONObject: Sendable, Equatable, Sequence {
    public typealias Element = (key: String, value: JSONValue)

    @usableFromInline
    internal struct Member: Sendable {
        @usableFromInline var key: String
        @usableFromInline var fingerprint: UInt64
        @usableFromInline var value: JSONValue
        @inlinable init(key: String, fingerprint: UInt64, value: JSONValue) {
            self.key = key
            self.fingerprint = fingerprint
            self.value = value
        }
    }

    @usableFromInline internal var _members: [Member]
    /// Key -> position, only for objects with more than `indexThreshold` members.
    @usableFromInline internal var _index: [String: Int]?

    @usableFromInline internal static var indexThreshold: Int { 48 }

    /// An empty object.
    public init() {
        _members = []
        _index = nil
    }

    /// Precondition: unique keys.
    public init(_ members: [(String, JSONValue)]) {
        self.init()
        _members.reserveCapacity(members.count)
        for (k, v) in members {
            let fp = keyFingerprint(k)
            precondition(index(forKey: k, fingerprint: fp) == nil, "JSONObject: duplicate key")
            append(Member(key: k, fingerprint: fp, value: v))
        }
    }

    /// Trusted construction (keys already known unique); `index` if the caller built one.
    internal init(uniqueMembers members: [Member], index: [String: Int]?) {
        _members = members
        _index = index
        if _index == nil, members.count > Self.indexThreshold { rebuildIndex() }
    }

    public var keys: [String] { _members.map { $0.key } }
    public var values: [JSONValue] { _members.map { $0.value } }
    public var count: Int { _members.count }
    public var isEmpty: Bool { _members.isEmpty }

    public subscript(key: String) -> JSONValue? {
        guard let i = index(forKey: key, fingerprint: keyFingerprint(key)) else { return nil }
        return _members[i].value
    }

    /// Sets `value` for `key` (appended at the end if new); returns the old value.
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        let fp = keyFingerprint(key)
        if let i = index(forKey: key, fingerprint: fp) {
            let old = _members[i].value
            _members[i].value = value
            return old
        }
        append(Member(key: key, fingerprint: fp, value: value))
        return nil
    }

    /// Removes `key`; returns its value if it was present. Order of the rest is kept.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = index(forKey: key, fingerprint: keyFingerprint(key)) else { return nil }
        let old = _members.remove(at: i).value
        if _members.count > Self.indexThreshold { rebuildIndex() } else { _index = nil }
        return old
    }

    @inlinable
    internal func index(forKey key: String, fingerprint fp: UInt64) -> Int? {
        if let idx = _index { return idx[key] }
        return _members.withUnsafeBufferPointer { m in
            for i in m.indices {
                let f = m[i].fingerprint
                // Equal fingerprints: verify. Either side non-ASCII (0): only String
                // comparison can tell (canonical equivalence, e.g. U+212A KELVIN SIGN == "K").
                if f == fp || f == 0 || fp == 0, m[i].key == key { return i }
            }
            return nil
        }
    }

    private mutating func append(_ member: Member) {
        _members.append(member)
        if _members.count > Self.indexThreshold {
            if _index == nil { rebuildIndex() } else { _index![member.key] = _members.count - 1 }
        }
    }

    private mutating func rebuildIndex() {
        var d = [String: Int](minimumCapacity: _members.count)
        for (i, m) in _members.enumerated() { d[m.key] = i }
        _index = d
    }

    public struct Iterator: IteratorProtocol {
        @usableFromInline internal let members: [Member]
        @usableFromInline internal var position = 0
        @inlinable internal init(members: [Member]) { self.members = members }
        @inlinable
        public mutating func next() -> (key: String, value: JSONValue)? {
            guard position < members.count else { return nil }
            defer { position += 1 }
            let m = members[position]
            return (m.key, m.value)
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(members: _members) }
    public var underestimatedCount: Int { _members.count }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        let n = lhs._members.count
        guard n == rhs._members.count else { return false }
        var sameOrder = true
        for i in 0..<n where lhs._members[i].key != rhs._members[i].key {
            sameOrder = false
            break
        }
        if sameOrder {
            for i in 0..<n where lhs._members[i].value != rhs._members[i].value { return false }
            return true
        }
        for m in lhs._members {
            guard let j = rhs.index(forKey: m.key, fingerprint: m.fingerprint), m.value == rhs._members[j].value else {
                return false
            }
        }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Precondition: unique keys.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}

/// A 64-bit hash of the key's UTF-8 bytes, never 0, for all-ASCII keys; 0 for keys with
/// any non-ASCII byte (those are compared as Strings, which honours canonical equivalence).
@inline(__always)
internal func keyFingerprint(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let n = bytes.count
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
    var any: UInt64 = 0
    var i = 0
    if let p = bytes.baseAddress {
        while i + 8 <= n {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            any |= w
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                w |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift += 8
                i += 1
            }
            any |= w
            h = (h ^ w) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 31
        }
    }
    return any & 0x8080_8080_8080_8080 != 0 ? 0 : (h | 1)
}

@usableFromInline
internal func keyFingerprint(_ key: String) -> UInt64 {
    var key = key
    return key.withUTF8 { keyFingerprint(UnsafeRawBufferPointer($0)) }
}
