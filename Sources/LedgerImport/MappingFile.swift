import Foundation
import LedgerFormat
import RecordFormats

/// Why a mapping file was refused. `path` is the key path at fault (`fields.direction.values`), empty for the file
/// as a whole; messages name keys, never the data the mapping will read.
public struct MappingError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    /// E.g. `mapping file: 'fields.direction.values' must be an object of source value → schema value`.
    public var description: String {
        path.isEmpty ? "mapping file: \(reason)" : "mapping file: '\(path)' \(reason)"
    }
}

/// A mapping file (docs/MAPPING.md): how the columns of another system's CSV or JSON-lines export become records of
/// the schema (docs/SCHEMA.md). Parsed strictly: unknown keys, wrong types and impossible rules are refused up front,
/// naming the key path.
public struct MappingFile: Sendable {
    /// How the export is laid out.
    public enum InputFormat: String, Sendable, CaseIterable { case csv, jsonl }

    /// The `input` object.
    public struct Input: Sendable {
        public var format = InputFormat.csv
        /// For offset-less times of fields with `"time": true`.
        public var timeZone: TimeZone?
        var timePattern: LocalTimePattern?
    }

    public static let formatVersion: Int64 = 1
    /// Larger mapping files are refused before parsing.
    public static let maxBytes = 1 << 20

    public let sourceSystem: String
    public let input: Input
    /// One rule per mapped schema field, in file order.
    public let rules: [FieldRule]

    /// Parses and validates a mapping file.
    public static func parse(_ bytes: [UInt8]) throws(MappingError) -> MappingFile {
        let root = try parseRoot(bytes)
        try MappingKeys.rejectUnknown(root, known: ["formatVersion", "sourceSystem", "input", "fields"], at: "")
        guard let version = root["formatVersion"] else { throw MappingError("formatVersion", "is required (1)") }
        guard version.integerValue == formatVersion else {
            throw MappingError("formatVersion", "must be 1 (the only version this ledger reads)")
        }
        let sourceSystem = try MappingKeys.line(root["sourceSystem"], at: "sourceSystem", max: 256, required: true)
        let input = try parseInput(root["input"])
        guard let fieldsValue = root["fields"] else {
            throw MappingError("fields", "is required: an object of schema field → rule")
        }
        let rules = try FieldRule.parseAll(fieldsValue, input: input)
        return MappingFile(sourceSystem: sourceSystem ?? "", input: input, rules: rules)
    }

    private static func parseRoot(_ bytes: [UInt8]) throws(MappingError) -> JSONObject {
        guard bytes.count <= maxBytes else { throw MappingError("", "is larger than 1 MiB") }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, maxDepth: 8) } catch {
            throw MappingError("", "is not valid JSON (\(error))")
        }
        guard case .object(let root) = value else { throw MappingError("", "must be a JSON object") }
        return root
    }

    /// `input`: the export's format, and the time zone and layout of offset-less times.
    private static func parseInput(_ value: JSONValue?) throws(MappingError) -> Input {
        var input = Input()
        guard let value else { return input }
        guard case .object(let o) = value else { throw MappingError("input", "must be an object") }
        try MappingKeys.rejectUnknown(o, known: ["format", "timeZone", "timeFormat"], at: "input.")
        if let format = o["format"] {
            guard let name = format.stringValue, let parsed = InputFormat(rawValue: name) else {
                throw MappingError("input.format", "must be \"csv\" or \"jsonl\"")
            }
            input.format = parsed
        }
        if let zone = o["timeZone"] { input.timeZone = try parseZone(zone) }
        if let pattern = o["timeFormat"] {
            guard let text = pattern.stringValue, text.utf8.count <= 64 else {
                throw MappingError("input.timeFormat", "must be a string such as \"yyyy-MM-dd HH:mm\"")
            }
            switch LocalTimePattern.compile(text) {
            case .success(let p): input.timePattern = p
            case .failure(let problem): throw MappingError("input.timeFormat", problem.reason)
            }
        }
        return input
    }

    private static func parseZone(_ value: JSONValue) throws(MappingError) -> TimeZone {
        guard let name = value.stringValue, name.utf8.count <= 64, name.contains("/") || name == "UTC",
              let zone = TimeZone(identifier: name) else {
            throw MappingError("input.timeZone", "must be an IANA time zone name such as \"Europe/London\"")
        }
        return zone
    }
}

/// Small strict readers of mapping-file values, each naming the key path on failure.
enum MappingKeys {
    static func rejectUnknown(_ o: JSONObject, known: [String], at prefix: String) throws(MappingError) {
        guard let unknown = o.keys.first(where: { !known.contains($0) }) else { return }
        throw MappingError(prefix + pathKey(unknown), "is not a known key; allowed here: "
            + known.joined(separator: ", "))
    }

    /// A one-line, non-empty string of at most `max` bytes; nil when absent and not required.
    static func line(_ value: JSONValue?, at path: String, max: Int, required: Bool = false)
        throws(MappingError) -> String? {
        guard let value else {
            if required { throw MappingError(path, "is required (a non-empty string)") }
            return nil
        }
        guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= max,
              !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw MappingError(path, "must be a non-empty one-line string of at most \(max) bytes")
        }
        return text
    }

    /// A key as it appears in a key path: long or odd keys are shortened so messages stay readable.
    static func pathKey(_ key: String) -> String {
        let clean = String(key.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        return clean.count > 64 ? String(clean.prefix(64)) + "…" : clean
    }
}
