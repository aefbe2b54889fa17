import RecordFormats

/// Builds one record of our schema (docs/SCHEMA.md) field by field; absent or empty optional values are left out,
/// because the schema refuses empty strings and lists.
struct RecordBuilder {
    private var members: [(String, JSONValue)] = []

    /// Starts a record with the provenance pair that makes re-import idempotent.
    init(sourceSystem: String, sourceId: String) {
        members.reserveCapacity(16)
        members.append(("sourceSystem", .string(sourceSystem)))
        members.append(("sourceId", .string(sourceId)))
    }

    mutating func set(_ key: String, _ text: String?) {
        if let text, !text.isEmpty { members.append((key, .string(text))) }
    }

    mutating func set(_ key: String, _ list: [String]) {
        let items = list.filter { !$0.isEmpty }
        if !items.isEmpty { members.append((key, .array(items.map { .string($0) }))) }
    }

    mutating func set(_ key: String, _ integer: Int64?) {
        if let integer { members.append((key, .integer(integer))) }
    }

    mutating func set(_ key: String, _ flag: Bool?) {
        if let flag { members.append((key, .bool(flag))) }
    }

    var value: JSONValue { .object(JSONObject(members)) }
}
