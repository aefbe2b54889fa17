import RecordFormats
import Foundation

/// A record that passed validation: its fields in leaf order with canonical value bytes, and the
/// few facts the engine needs in clear while appending (they are never stored in clear).
public struct ValidatedRecord: Sendable {
    public struct Field: Sendable, Equatable {
        public let name: String
        /// Canonical JSON bytes of the value.
        public let value: [UInt8]
    }

    /// Field names sorted by byte order, as the leaf lists them.
    public let names: [String]
    /// Canonical JSON of every value, concatenated in `names` order; value i ends at `valueEnds[i]`.
    /// One buffer per record keeps the import hot path to a few allocations per record.
    package let valueBytes: [UInt8]
    package let valueEnds: [Int]
    public let matter: String
    public let occurredAt: Int64
    public let sourceSystem: String?
    public let sourceId: String?
    public let corrects: UInt64?
    /// 1-based line of the input file this record came from, for error messages.
    public var line: Int? = nil

    /// The fields as (name, canonical JSON value) pairs, in leaf order.
    public var fields: [Field] {
        names.indices.map { Field(name: names[$0], value: Array(valueBytes[valueRange($0)])) }
    }

    package func valueRange(_ index: Int) -> Range<Int> {
        (index == 0 ? 0 : valueEnds[index - 1])..<valueEnds[index]
    }

    /// The idempotency key: the same (sourceSystem, sourceId) is appended once.
    public var sourceKey: String? { Self.sourceKey(system: sourceSystem, id: sourceId) }

    /// sourceSystem NUL sourceId; nil without a sourceId.
    package static func sourceKey(system: String?, id: String?) -> String? {
        guard let id else { return nil }
        return (system ?? "") + "\u{0}" + id
    }
}

/// The record schema of DESIGN.md. Anything not listed is refused, naming the field.
public enum RecordSchema {
    public static let maxRecordBytes = 1 << 20
    /// At most this many fields, so the leaf (u16 field count, names of up to 64 bytes, u16 length in the
    /// stored entry) always fits: 224 + 1000 × 65 < 65536.
    public static let maxFieldCount = 1000
    public static let required = ["matter", "author", "channel", "direction", "occurredAt"]

    public static let channels = ["email", "phone", "portal", "secure-message", "sms", "video", "in-person", "letter"]
    public static let directions = ["inbound", "outbound", "internal"]
    public static let kinds = ["update", "inquiry", "response", "advice", "decision", "meeting", "deadline",
                               "court-ruling", "settlement", "feedback", "correction", "note"]
    public static let urgencies = ["routine", "urgent"]
    public static let outcomes = ["spoke", "left-message", "no-answer", "sent", "delivered"]

    package enum FieldType: Sendable {
        case line(maxLength: Int)          // one line of text, no control characters
        case text(maxLength: Int)          // free text, newlines and tabs allowed
        case choice([String])
        case timestamp
        case date
        case integer(ClosedRange<Int64>)
        case boolean
        case lines(maxCount: Int)          // list of one-line strings
        case attachments
        case reference                     // sourceId or "#<seq>"
        case extensionValue                // x-…: any JSON without floats
    }

    package static let types: [String: FieldType] = [
        "matter": .line(maxLength: 256),
        "client": .line(maxLength: 1024),
        "author": .line(maxLength: 256),
        "channel": .choice(channels),
        "direction": .choice(directions),
        "kind": .choice(kinds),
        "urgency": .choice(urgencies),
        "occurredAt": .timestamp,
        "subject": .text(maxLength: 4096),
        "summary": .text(maxLength: 512 * 1024),
        "decisions": .text(maxLength: 256 * 1024),
        "recipients": .lines(maxCount: 1000),
        "outcome": .choice(outcomes),
        "durationMinutes": .integer(0...1_000_000),
        "followUpDue": .date,
        "inReplyTo": .reference,
        "corrects": .integer(0...Int64.max),
        "attachments": .attachments,
        "privileged": .boolean,
        "tags": .lines(maxCount: 1000),
        "sourceSystem": .line(maxLength: 256),
        "sourceId": .line(maxLength: 256),
    ]

    /// Every schema field name, sorted, for help and error messages.
    public static var knownFields: [String] { types.keys.sorted() }

    /// A schema field as the hot paths see it: its type, and whether it is required.
    package struct KnownField {
        package let type: FieldType
        package let required: Bool
        /// The name itself, made once: a record built from bytes takes it instead of decoding its own copy.
        package let name: String
    }

    /// A schema field name packed into two words (names are at most 15 bytes), so that finding a field compares
    /// integers: no hashing, no String comparison and no reference counting, for every field of every imported
    /// or deep-verified record.
    fileprivate struct PackedName: Equatable {
        package let low: UInt64, high: UInt64, length: Int

        /// The name's bytes in order in `low` then `high` (little-endian), zero-padded; read with overlapping loads
        /// inside the name, not through a copy whose byte stores the word loads would wait for.
        package init?(_ name: UnsafeRawBufferPointer) {
            let n = name.count
            guard n <= 15 else { return nil }
            func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> UInt64 {
                UInt64(T(littleEndian: name.loadUnaligned(fromByteOffset: offset, as: T.self)))
            }
            switch n {
            case 8...:
                (low, high) = (load(0, UInt64.self), load(n - 8, UInt64.self) >> (8 * (16 - n)))
            case 4...:
                (low, high) = (load(0, UInt32.self) | (load(n - 4, UInt32.self) >> (8 * (8 - n))) << 32, 0)
            default:
                var word: UInt64 = 0
                for i in 0..<n { word |= UInt64(name[i]) << (8 * i) }
                (low, high) = (word, 0)
            }
            length = n
        }
    }

    /// The schema's fields by packed name, in an open-addressing table (linear probing, at most half full). Fetch it
    /// once per record (`fieldTable`): every access to a global goes through its lazy-initialisation check.
    package struct FieldTable {
        private static let slotBits = 6
        /// Per slot: the index into `names` and `fields` of the name that hashes there (or after), -1 if empty.
        private let slots: [Int8]
        fileprivate let names: [PackedName]
        fileprivate let fields: [KnownField]
        /// How many fields are required.
        package let requiredCount: Int

        fileprivate init(names: [PackedName], fields: [KnownField], requiredCount: Int) {
            precondition(2 * names.count <= 1 << Self.slotBits, "the field table must stay at most half full")
            var slots = [Int8](repeating: -1, count: 1 << Self.slotBits)
            for (index, name) in names.enumerated() {
                var slot = Self.slot(name)
                while slots[slot] >= 0 { slot = (slot + 1) & (slots.count - 1) }
                slots[slot] = Int8(index)
            }
            (self.slots, self.names, self.fields, self.requiredCount) = (slots, names, fields, requiredCount)
        }

        /// The name's home slot: a multiplicative hash of its packed words (Knuth's golden-ratio constant).
        private static func slot(_ name: PackedName) -> Int {
            let mixed = (name.low &+ name.high &* 31 &+ UInt64(name.length)) &* 0x9E37_79B9_7F4A_7C15
            return Int(truncatingIfNeeded: mixed >> (64 - UInt64(slotBits)))
        }

        /// The schema field with this name (UTF-8 bytes), or nil (extension fields are not listed).
        package func field(utf8 name: UnsafeRawBufferPointer) -> KnownField? {
            guard let packed = PackedName(name) else { return nil }
            let index = slots.withUnsafeBufferPointer { slots in
                names.withUnsafeBufferPointer { names -> Int? in
                    var slot = Self.slot(packed)
                    while case let index = Int(slots[slot]), index >= 0 {
                        if names[index] == packed { return index }
                        slot = (slot + 1) & (slots.count - 1)
                    }
                    return nil
                }
            }
            return index.map { fields[$0] }
        }
    }

    package static let fieldTable: FieldTable = {
        let sorted = types.sorted { $0.key < $1.key }
        return FieldTable(names: sorted.map { entry in Array(entry.key.utf8).withUnsafeBytes { PackedName($0)! } },
                          fields: sorted.map { KnownField(type: $0.value, required: required.contains($0.key),
                                                          name: $0.key) },
                          requiredCount: required.count)
    }()

    /// The schema field with this name (UTF-8 bytes), or nil (extension fields are not listed).
    package static func knownField(utf8 name: UnsafeRawBufferPointer) -> KnownField? {
        fieldTable.field(utf8: name)
    }

    /// The type of a field, by name: a schema field, an `x-` extension, or nil.
    package static func type(utf8 name: UnsafeRawBufferPointer) -> FieldType? {
        if let known = knownField(utf8: name) { return known.type }
        return isExtensionName(utf8: name) ? .extensionValue : nil
    }

    package static func type(of name: String) -> FieldType? {
        var name = name
        return name.withUTF8 { type(utf8: UnsafeRawBufferPointer($0)) }
    }

    package static func isExtensionName(utf8 name: UnsafeRawBufferPointer) -> Bool {
        name.count > 2 && name[0] == UInt8(ascii: "x") && name[1] == UInt8(ascii: "-") && FieldName.isValid(name)
    }

    package static func isExtensionName(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { isExtensionName(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Validates a parsed JSON record. Throws the first problem found, naming the field.
    public static func validate(_ value: JSONValue) throws(RecordError) -> ValidatedRecord {
        let object = try checkRecord(value)
        var members = object.map { (name: $0.key, value: $0.value) }
        members.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var valueBytes = [UInt8]()
        valueBytes.reserveCapacity(1024)
        var valueEnds = [Int]()
        valueEnds.reserveCapacity(members.count)
        for member in members {
            JSONWriter.write(member.value, into: &valueBytes)
            valueEnds.append(valueBytes.count)
        }
        return ValidatedRecord(
            names: members.map(\.name), valueBytes: valueBytes, valueEnds: valueEnds,
            matter: stringValue(object["matter"])!,
            occurredAt: Timestamp.parseRFC3339(stringValue(object["occurredAt"])!)!,
            sourceSystem: stringValue(object["sourceSystem"]),
            sourceId: stringValue(object["sourceId"]),
            corrects: integerValue(object["corrects"]).map { UInt64($0) })
    }

    /// Checks a record against the schema without building its canonical form (deep verification of
    /// records that are already stored canonically). Returns the record's object.
    @discardableResult
    public static func checkRecord(_ value: JSONValue) throws(RecordError) -> JSONObject {
        guard case .object(let object) = value else {
            throw RecordError(reason: "a record must be a JSON object")
        }
        guard object.count <= maxFieldCount else {
            throw RecordError(reason: "a record may have at most \(maxFieldCount) fields")
        }
        for name in required where object[name] == nil {
            throw RecordError(field: name, reason: "required field is missing")
        }
        for (name, fieldValue) in object {
            guard let type = type(of: name) else {
                throw RecordError(field: name, reason: "unknown field (allowed: the schema fields or x-… extensions)")
            }
            try check(fieldValue, as: type, field: name)
        }
        return object
    }

    private static func stringValue(_ v: JSONValue?) -> String? {
        if case .string(let s) = v { return s }
        return nil
    }

    private static func integerValue(_ v: JSONValue?) -> Int64? {
        if case .integer(let i) = v { return i }
        return nil
    }

    package static func check(_ value: JSONValue, as type: FieldType, field: String) throws(RecordError) {
        switch type {
        case .line(let maxLength):
            try checkText(value, field: field, maxLength: maxLength, allowNewlines: false)
        case .text(let maxLength):
            try checkText(value, field: field, maxLength: maxLength, allowNewlines: true)
        case .choice(let allowed):
            guard case .string(let s) = value else { throw RecordError(field: field, reason: "must be a string") }
            guard allowed.contains(s) else {
                throw RecordError(field: field, reason: "not one of \(allowed.joined(separator: ", "))")
            }
        case .timestamp:
            guard case .string(let s) = value else { throw RecordError(field: field, reason: "must be a string") }
            guard Timestamp.parseRFC3339(s) != nil else {
                throw RecordError(field: field,
                    reason: "must be an RFC 3339 timestamp with a time-zone offset, e.g. 2026-03-01T14:30:00+01:00")
            }
        case .date:
            guard case .string(let s) = value else { throw RecordError(field: field, reason: "must be a string") }
            guard Timestamp.parseDate(s) != nil else {
                throw RecordError(field: field, reason: "must be a calendar date YYYY-MM-DD")
            }
        case .integer(let range):
            guard case .integer(let i) = value else { throw RecordError(field: field, reason: "must be an integer") }
            guard range.contains(i) else {
                throw RecordError(field: field, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
            }
        case .boolean:
            guard case .bool = value else { throw RecordError(field: field, reason: "must be true or false") }
        case .lines(let maxCount):
            guard case .array(let items) = value else {
                throw RecordError(field: field, reason: "must be an array of strings")
            }
            guard items.count <= maxCount else {
                throw RecordError(field: field, reason: "has more than \(maxCount) items")
            }
            for (i, item) in items.enumerated() {
                try checkText(item, field: "\(field)[\(i)]", maxLength: 1024, allowNewlines: false)
            }
        case .attachments:
            try checkAttachments(value, field: field)
        case .reference:
            try checkText(value, field: field, maxLength: 256, allowNewlines: false)
            if case .string(let s) = value, s.hasPrefix("#") {
                guard s.count > 1, s.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
                      UInt64(s.dropFirst()) != nil else {
                    throw RecordError(field: field, reason: "a '#' reference must be '#' followed by a sequence number")
                }
            }
        case .extensionValue:
            break  // any JSON; the parser already refused floats, bad UTF-8 and excessive depth
        }
    }

    private static func checkText(_ value: JSONValue, field: String,
                                  maxLength: Int, allowNewlines: Bool) throws(RecordError) {
        guard case .string(let s) = value else { throw RecordError(field: field, reason: "must be a string") }
        if s.isEmpty { throw RecordError(field: field, reason: "must not be empty") }
        if s.utf8.count > maxLength { throw RecordError(field: field, reason: "is longer than \(maxLength) bytes") }
        if ControlCharacters.present(in: s, allowingLineBreaks: allowNewlines) {
            throw RecordError(field: field, reason: "contains a control character")
        }
    }

    private static func checkAttachments(_ value: JSONValue, field: String) throws(RecordError) {
        guard case .array(let items) = value else {
            throw RecordError(field: field, reason: "must be an array of {name, sha256}")
        }
        guard items.count <= 1000 else { throw RecordError(field: field, reason: "has more than 1000 items") }
        for (i, item) in items.enumerated() {
            let path = "\(field)[\(i)]"
            guard case .object(let o) = item else {
                throw RecordError(field: path, reason: "must be an object {name, sha256}")
            }
            for key in o.keys where key != "name" && key != "sha256" {
                throw RecordError(field: "\(path).\(key)", reason: "unknown field (allowed: name, sha256)")
            }
            guard let name = o["name"] else {
                throw RecordError(field: "\(path).name", reason: "required field is missing")
            }
            try checkText(name, field: "\(path).name", maxLength: 1024, allowNewlines: false)
            guard case .string(let digest)? = o["sha256"] else {
                throw RecordError(field: "\(path).sha256", reason: "required, a string of 64 lowercase hex digits")
            }
            guard digest.utf8.count == 64, Hex.decode(digest) != nil else {
                throw RecordError(field: "\(path).sha256", reason: "must be 64 lowercase hex digits (a SHA-256 digest)")
            }
        }
    }
}

/// Finds C0 control characters and DEL in a string's UTF-8. Every byte of a multi-byte UTF-8 sequence is >= 0x80,
/// so a byte scan finds exactly these characters; whole 8-byte words without any byte < 0x20 or == 0x7f are skipped.
package enum ControlCharacters {
    package static func present(in text: String, allowingLineBreaks: Bool) -> Bool {
        var copy = text
        return copy.withUTF8 { bytes in
            var i = 0
            let count = bytes.count
            if let base = UnsafeRawPointer(bytes.baseAddress) {
                while i + 8 <= count {
                    let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    if !mayContainControl(word) { i += 8; continue }
                    break
                }
            }
            while i < count {
                let byte = bytes[i]
                if byte < 0x20 || byte == 0x7f {
                    if !(allowingLineBreaks && (byte == 0x0a || byte == 0x09 || byte == 0x0d)) { return true }
                }
                i += 1
            }
            return false
        }
    }

    /// True if some byte of `word` may be < 0x20 or == 0x7f (exact for "< 0x20" on ASCII, conservative otherwise).
    @inline(__always)
    private static func mayContainControl(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let below0x20 = (word &- ones &* 0x20) & ~word & highs          // a byte < 0x20
        let del = word ^ (ones &* 0x7f)
        let is0x7f = (del &- ones) & ~del & highs                        // a byte == 0x7f
        return (below0x20 | is0x7f) != 0
    }
}
