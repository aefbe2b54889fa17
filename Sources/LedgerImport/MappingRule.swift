import LedgerFormat
import RecordFormats

/// What kind of value a schema field takes, as far as mapping a cell onto it is concerned.
enum TargetKind: Sendable, Equatable {
    case text, date, reference
    case choice([String])
    case timestamp
    case integer(ClosedRange<Int64>)
    case boolean
    case list
    case attachments
    case extensionValue

    /// The kind of schema field `name`, or nil when the schema has no such field.
    init?(field name: String) {
        if name.hasPrefix("x-") {
            let rest = name.utf8.dropFirst(2)
            guard !rest.isEmpty, name.utf8.count <= 64, rest.allSatisfy({ b in
                (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-")
            }) else { return nil }
            self = .extensionValue
            return
        }
        guard let type = RecordSchema.types[name] else { return nil }
        switch type {
        case .line, .text: self = .text
        case .choice(let allowed): self = .choice(allowed)
        case .timestamp: self = .timestamp
        case .date: self = .date
        case .integer(let range): self = .integer(range)
        case .boolean: self = .boolean
        case .lines: self = .list
        case .attachments: self = .attachments
        case .reference: self = .reference
        case .extensionValue: self = .extensionValue
        }
    }
}

/// One entry of `fields`: how one schema field is filled (docs/MAPPING.md, "Field rules").
public struct FieldRule: Sendable {
    /// The schema field filled (`direction`, `x-billing-code`).
    public let target: String
    /// The source column (CSV header name, or JSON-lines top-level key).
    public let column: String?
    /// Used when the column is absent from a record or its cell is empty.
    public let defaultValue: JSONValue?
    /// Source value → schema value, applied before the value is converted.
    public let values: [String: String]?
    /// The value for a source value `values` does not list; without it such a value is refused.
    public let otherwise: String?
    /// Separator of list items (`recipients`, `tags`, `attachments`); `;` unless given.
    public let split: String
    /// Offset-less times are read with `input.timeFormat` in `input.timeZone`.
    public let time: Bool
    /// Numbers are multiplied by this, then rounded half away from zero.
    public let multiply: Int64
    let kind: TargetKind

    static let keys = ["column", "default", "values", "otherwise", "split", "time", "multiply"]
    static let maxValues = 10_000

    /// Every rule of `fields`, checked against the schema: known targets, required fields covered.
    static func parseAll(_ value: JSONValue, input: MappingFile.Input) throws(MappingError) -> [FieldRule] {
        guard case .object(let fields) = value else {
            throw MappingError("fields", "must be an object of schema field → rule")
        }
        guard fields.count <= RecordSchema.maxFieldCount else {
            throw MappingError("fields", "names more than \(RecordSchema.maxFieldCount) fields")
        }
        var rules = [FieldRule]()
        for (target, rule) in fields { rules.append(try parse(rule, target: target, input: input)) }
        for required in RecordSchema.required where !rules.contains(where: { $0.target == required }) {
            throw MappingError("fields.\(required)", "is required: the schema requires '\(required)', so map a "
                + "column to it or give it a default")
        }
        return rules
    }

    private static func parse(_ value: JSONValue, target: String, input: MappingFile.Input)
        throws(MappingError) -> FieldRule {
        let at = "fields." + MappingKeys.pathKey(target)
        guard target != "sourceSystem" else {
            throw MappingError(at, "cannot be mapped: every record's sourceSystem is the top-level 'sourceSystem'")
        }
        guard let kind = TargetKind(field: target) else {
            throw MappingError(at, "is not a schema field (see docs/SCHEMA.md; firm-specific fields are named x-…)")
        }
        guard case .object(let o) = value else { throw MappingError(at, "must be an object (a field rule)") }
        try MappingKeys.rejectUnknown(o, known: keys, at: at + ".")
        let column = try MappingKeys.line(o["column"], at: at + ".column", max: 1024)
        let fallback = try o["default"].map { v throws(MappingError) in try RuleChecks.defaultValue(v, kind, at) }
        guard column != nil || fallback != nil else { throw MappingError(at, "needs a 'column', a 'default' or both") }
        let values = try o["values"].map { v throws(MappingError) in try RuleChecks.values(v, kind, at + ".values") }
        let otherwise = try RuleChecks.otherwise(o["otherwise"], kind, hasValues: values != nil, at)
        let split = try RuleChecks.split(o["split"], kind, at)
        let time = try RuleChecks.time(o["time"], kind, input: input, at)
        let multiply = try RuleChecks.multiply(o["multiply"], kind, at)
        return FieldRule(target: target, column: column, defaultValue: fallback, values: values, otherwise: otherwise,
                         split: split, time: time, multiply: multiply, kind: kind)
    }
}

/// The checks of one rule's keys against its target's kind, each naming its key path.
enum RuleChecks {
    /// `default`: a value of the target's type (a string, an integer, a boolean, a list of strings).
    static func defaultValue(_ v: JSONValue, _ kind: TargetKind, _ at: String) throws(MappingError) -> JSONValue {
        let path = at + ".default"
        switch kind {
        case .text, .date, .reference, .timestamp:
            _ = try MappingKeys.line(v, at: path, max: 4096)
        case .choice(let allowed):
            guard let s = v.stringValue, allowed.contains(s) else {
                throw MappingError(path, "must be one of " + allowed.joined(separator: ", "))
            }
        case .integer(let range):
            guard let i = v.integerValue, range.contains(i) else {
                throw MappingError(path, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
        case .boolean:
            guard v.boolValue != nil else { throw MappingError(path, "must be true or false") }
        case .list:
            guard let items = v.arrayValue, !items.isEmpty, items.count <= 1000,
                  items.allSatisfy({ !($0.stringValue ?? "").isEmpty }) else {
                throw MappingError(path, "must be a non-empty array of non-empty strings")
            }
        case .attachments:
            throw MappingError(path, "is not supported for attachments")
        case .extensionValue:
            guard !v.isNull else { throw MappingError(path, "must not be null") }
        }
        return v
    }

    /// `values`: source value → schema value; for an enum field every schema value must be one it allows.
    static func values(_ v: JSONValue, _ kind: TargetKind, _ path: String) throws(MappingError) -> [String: String] {
        guard case .object(let o) = v, !o.isEmpty else {
            throw MappingError(path, "must be an object of source value → schema value")
        }
        guard o.count <= FieldRule.maxValues else {
            throw MappingError(path, "has more than \(FieldRule.maxValues) entries")
        }
        var map = [String: String]()
        for (source, target) in o {
            guard let schemaValue = target.stringValue, !schemaValue.isEmpty, schemaValue.utf8.count <= 4096 else {
                throw MappingError(path, "must be an object of source value → schema value (non-empty strings)")
            }
            try allowed(schemaValue, kind, at: path + "." + MappingKeys.pathKey(source))
            map[source] = schemaValue
        }
        return map
    }

    /// `otherwise`: the schema value for source values `values` does not list.
    static func otherwise(_ v: JSONValue?, _ kind: TargetKind, hasValues: Bool, _ at: String)
        throws(MappingError) -> String? {
        guard let text = try MappingKeys.line(v, at: at + ".otherwise", max: 4096) else { return nil }
        guard hasValues else { throw MappingError(at + ".otherwise", "needs 'values' beside it") }
        try allowed(text, kind, at: at + ".otherwise")
        return text
    }

    private static func allowed(_ value: String, _ kind: TargetKind, at path: String) throws(MappingError) {
        if case .choice(let allowed) = kind, !allowed.contains(value) {
            throw MappingError(path, "must be one of " + allowed.joined(separator: ", "))
        }
        if kind == .boolean, value != "true", value != "false" { throw MappingError(path, "must be true or false") }
    }

    /// `split`: the list separator, only for list fields.
    static func split(_ v: JSONValue?, _ kind: TargetKind, _ at: String) throws(MappingError) -> String {
        guard let v else { return ";" }
        guard kind == .list || kind == .attachments else {
            throw MappingError(at + ".split", "applies only to list fields (recipients, tags, attachments)")
        }
        guard let s = v.stringValue, !s.isEmpty, s.utf8.count <= 8 else {
            throw MappingError(at + ".split", "must be a separator string of 1 to 8 bytes")
        }
        return s
    }

    /// `time`: read offset-less times with `input.timeFormat` in `input.timeZone`; only for time fields.
    static func time(_ v: JSONValue?, _ kind: TargetKind, input: MappingFile.Input, _ at: String)
        throws(MappingError) -> Bool {
        guard let v else { return false }
        guard let flag = v.boolValue else { throw MappingError(at + ".time", "must be true or false") }
        guard flag else { return false }
        guard kind == .timestamp else { throw MappingError(at + ".time", "applies only to occurredAt") }
        guard input.timeZone != nil else {
            throw MappingError("input.timeZone", "is required when '\(at).time' is true")
        }
        guard input.timePattern != nil else {
            throw MappingError("input.timeFormat", "is required when '\(at).time' is true")
        }
        return true
    }

    /// `multiply`: a positive integer factor, only for integer fields.
    static func multiply(_ v: JSONValue?, _ kind: TargetKind, _ at: String) throws(MappingError) -> Int64 {
        guard let v else { return 1 }
        guard case .integer = kind else {
            throw MappingError(at + ".multiply", "applies only to integer fields (durationMinutes, corrects)")
        }
        guard let factor = v.integerValue, (1...1_000_000).contains(factor) else {
            throw MappingError(at + ".multiply", "must be an integer from 1 to 1000000")
        }
        return factor
    }
}
