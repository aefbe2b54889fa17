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
public struct JSONObject: Sendable, Equatable, Sequence {
    public typealias Element = (key: String, value: JSONValue)

    @usableFromInline internal var _keys: [String]
    @usableFromInline internal var _values: [JSONValue]
    /// Key -> position, only for objects with more than `linearSearchLimit` members.
    @usableFromInline internal var _index: [String: Int]?

    @usableFromInline internal static var linearSearchLimit: Int { 12 }

    /// An empty object.
    public init() {
        _keys = []
        _values = []
        _index = nil
    }

    /// Precondition: unique keys.
    public init(_ members: [(String, JSONValue)]) {
        self.init()
        _keys.reserveCapacity(members.count)
        _values.reserveCapacity(members.count)
        for (k, v) in members {
            precondition(index(forKey: k) == nil, "JSONObject: duplicate key")
            _keys.append(k)
            _values.append(v)
            if _keys.count > Self.linearSearchLimit { addToIndex(k, at: _keys.count - 1) }
        }
    }

    /// Trusted construction (keys already known unique); `index` if the caller built one.
    internal init(uniqueKeys keys: [String], values: [JSONValue], index: [String: Int]?) {
        _keys = keys
        _values = values
        _index = index
        if _index == nil, keys.count > Self.linearSearchLimit { rebuildIndex() }
    }

    public var keys: [String] { _keys }
    public var values: [JSONValue] { _values }
    public var count: Int { _keys.count }
    public var isEmpty: Bool { _keys.isEmpty }

    public subscript(key: String) -> JSONValue? {
        guard let i = index(forKey: key) else { return nil }
        return _values[i]
    }

    /// Sets `value` for `key` (appended at the end if new); returns the old value.
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        if let i = index(forKey: key) {
            let old = _values[i]
            _values[i] = value
            return old
        }
        _keys.append(key)
        _values.append(value)
        if _keys.count > Self.linearSearchLimit { addToIndex(key, at: _keys.count - 1) }
        return nil
    }

    /// Removes `key`; returns its value if it was present. Order of the rest is kept.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = index(forKey: key) else { return nil }
        _keys.remove(at: i)
        let old = _values.remove(at: i)
        if _keys.count > Self.linearSearchLimit { rebuildIndex() } else { _index = nil }
        return old
    }

    @inlinable
    internal func index(forKey key: String) -> Int? {
        if let idx = _index { return idx[key] }
        var i = 0
        let n = _keys.count
        while i < n {
            if _keys[i] == key { return i }
            i += 1
        }
        return nil
    }

    private mutating func addToIndex(_ key: String, at i: Int) {
        if _index == nil { rebuildIndex() } else { _index![key] = i }
    }

    private mutating func rebuildIndex() {
        var d = [String: Int](minimumCapacity: _keys.count)
        for (i, k) in _keys.enumerated() { d[k] = i }
        _index = d
    }

    public struct Iterator: IteratorProtocol {
        @usableFromInline internal let object: JSONObject
        @usableFromInline internal var position = 0
        @inlinable internal init(object: JSONObject) { self.object = object }
        @inlinable
        public mutating func next() -> (key: String, value: JSONValue)? {
            guard position < object._keys.count else { return nil }
            defer { position += 1 }
            return (object._keys[position], object._values[position])
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(object: self) }
    public var underestimatedCount: Int { _keys.count }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs._keys.count == rhs._keys.count else { return false }
        if lhs._keys == rhs._keys { return lhs._values == rhs._values }
        for i in lhs._keys.indices {
            guard let j = rhs.index(forKey: lhs._keys[i]), lhs._values[i] == rhs._values[j] else { return false }
        }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Precondition: unique keys.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}
