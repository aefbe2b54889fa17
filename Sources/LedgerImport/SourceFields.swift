import LedgerFormat

/// One source record's fields, looked up by name. Every accessor names the *source* field (with its path, e.g.
/// `matter.display_number`) in the `RecordError` it throws, and never the value, which may be privileged.
public struct SourceFields: Sendable {
    public var values: SourceObject
    /// The path of this object inside the record ("" at the top, "matter." inside `matter`).
    public var prefix: String

    public init(_ values: SourceObject, prefix: String = "") {
        self.values = values
        self.prefix = prefix
    }

    /// The full path of `key`, for error messages.
    public func path(_ key: String) -> String { prefix + key }

    func error(_ key: String, _ reason: String) -> RecordError { RecordError(field: path(key), reason: reason) }

    /// The value of `key`, nil when absent or null.
    public func value(_ key: String) -> SourceValue? {
        guard let value = values[key], value != .null else { return nil }
        return value
    }

    /// A string field; nil when absent, null or empty. Another type is refused.
    public func string(_ key: String) throws(RecordError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw error(key, "must be a string, not \(value.typeName)") }
        return text.isEmpty ? nil : text
    }

    /// A string field that must be present and not empty.
    public func requiredString(_ key: String) throws(RecordError) -> String {
        guard let text = try string(key) else { throw error(key, "is missing or empty") }
        return text
    }

    /// An identifier: a string or an integer (its digits), required.
    public func id(_ key: String) throws(RecordError) -> String {
        switch value(key) {
        case .string(let text) where !text.isEmpty: return text
        case .number(let text) where text.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) }):
            return text
        case nil, .string: throw error(key, "is missing or empty")
        case let other?: throw error(key, "must be a string or an integer, not \(other.typeName)")
        }
    }

    /// A nested object; nil when absent or null.
    public func object(_ key: String) throws(RecordError) -> SourceFields? {
        guard let value = value(key) else { return nil }
        guard case .object(let members) = value else { throw error(key, "must be an object, not \(value.typeName)") }
        return SourceFields(members, prefix: path(key) + ".")
    }

    /// An array; nil when absent or null.
    public func array(_ key: String) throws(RecordError) -> [SourceValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw error(key, "must be an array, not \(value.typeName)") }
        return items
    }

    /// A number, or a string holding one (CSV cells); nil when absent or empty.
    /// The text of a number (a JSON number as written, or a CSV/JSON string cell), trimmed; nil otherwise.
    func numberText(_ key: String) -> String? {
        switch value(key) {
        case .number(let text)?, .string(let text)?: return text.trimmingCharacters(in: .whitespaces)
        default: return nil
        }
    }

    public func number(_ key: String) throws(RecordError) -> Double? {
        switch value(key) {
        case nil: return nil
        case .number(let text): if let number = Double(text), number.isFinite { return number }
        case .string(let text): if text.isEmpty { return nil }; if let n = Double(text), n.isFinite { return n }
        case let other?: throw error(key, "must be a number, not \(other.typeName)")
        }
        throw error(key, "is not a finite number")
    }

    /// A boolean, or a string `true`/`false`/`yes`/`no` (CSV cells, any case); nil when absent or empty.
    public func bool(_ key: String) throws(RecordError) -> Bool? {
        switch value(key) {
        case nil: return nil
        case .bool(let flag): return flag
        case .string(let text):
            switch text.lowercased() {
            case "": return nil
            case "true", "yes", "1": return true
            case "false", "no", "0": return false
            default: throw error(key, "must be true or false")
            }
        case let other?: throw error(key, "must be a boolean, not \(other.typeName)")
        }
    }
}
