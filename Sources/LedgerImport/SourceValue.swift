/// A value of another system's JSON export. Unlike our strict `JSONValue`, numbers are kept as their text, because
/// practice-management exports carry fractions (`"actualHours": 0.25`); an adapter converts them before building a
/// record.
public enum SourceValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's text as it appeared in the source (already checked to be a JSON number).
    case number(String)
    case string(String)
    case array([SourceValue])
    case object(SourceObject)

    /// The JSON type name, for messages that must not show the value itself.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// Why a source document could not be read as JSON; `offset` is the byte at fault.
public struct SourceJSONError: Error, Sendable, Equatable {
    public var offset: Int
    public var reason: String
}

/// An object of a source export: members in input order, unique keys, looked up by a linear search — records have
/// a few dozen fields at most, and comparing short keys is cheaper than hashing them.
public struct SourceObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: SourceValue
    }

    public private(set) var members: [Member]

    public init(_ members: [Member] = []) { self.members = members }

    /// An empty object with room for `capacity` members.
    init(capacity: Int) {
        members = []
        members.reserveCapacity(capacity)
    }

    /// The value of `key`, if the object has it.
    public subscript(key: String) -> SourceValue? {
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// Adds a member; the caller checks that the key is new.
    mutating func append(_ key: String, _ value: SourceValue) { members.append(Member(key: key, value: value)) }
}
