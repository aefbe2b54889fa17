/// A value of another system's JSON export. Unlike our strict `JSONValue`, numbers are kept as their text, because
/// practice-management exports carry fractions (`"actualHours": 0.25`); an adapter converts them before building a
/// record. Objects keep no key order (a source record's fields are looked up by name).
public enum SourceValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's text as it appeared in the source (already checked to be a JSON number).
    case number(String)
    case string(String)
    case array([SourceValue])
    case object([String: SourceValue])

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
