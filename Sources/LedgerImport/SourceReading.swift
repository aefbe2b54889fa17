import LedgerFormat
import RecordFormats

/// One record of a source export before mapping: its 1-based line (JSON lines, CSV rows with the header as line 1)
/// or 1-based position in a JSON array, and its fields — or why it is not a record at all.
public struct SourceRecord: Sendable {
    public var line: Int
    public var fields: Result<SourceFields, RecordError>
}

/// Reads an export as the systems give it: a JSON array, an envelope object holding the array (`{"data":[...]}`),
/// one JSON object, JSON lines, or CSV with a header row (docs/IMPORT.md, "Input shapes").
public enum SourceReading {
    /// An export once read: the byte ranges of a JSON array's elements (parsed later, on every core), or records.
    public enum Input: Sendable {
        case elements([Range<Int>])
        case records([SourceRecord])
    }

    /// Every record of `bytes`. JSON when the first non-blank byte is `[` or `{`, CSV otherwise.
    public static func read(_ bytes: [UInt8], envelopes: [String]) throws(RecordError) -> Input {
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }  // a UTF-8 byte order mark, as Excel writes
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        guard start < bytes.count else { return .records([]) }
        guard bytes[start] == UInt8(ascii: "[") || bytes[start] == UInt8(ascii: "{") else {
            return .records(try csvRecords(bytes))
        }
        let ranges: [Range<Int>]? = bytes.withUnsafeBytes { raw in
            var scanner = SourceJSONReader(raw, at: start)
            return try? scanner.documentRanges(envelopes: envelopes)
        }
        if let ranges { return .elements(ranges) }
        // Not a plain array or envelope, or malformed: parse it whole, for the exact shape or error.
        return .records(try jsonRecords(bytes, from: start, envelopes: envelopes))
    }

    /// The element at `range` of a scanned array, the `line`-th record.
    public static func element(_ bytes: [UInt8], _ range: Range<Int>, line: Int) -> SourceRecord {
        let parsed: Result<SourceValue, SourceJSONError> = bytes.withUnsafeBytes { raw in
            var reader = SourceJSONReader(raw, at: range.lowerBound)
            return Result { () throws(SourceJSONError) in
                let value = try reader.value()
                guard reader.pos == range.upperBound else { throw reader.fail("unexpected text after the record") }
                return value
            }
        }
        switch parsed {
        case .success(let value): return record(value, line: line)
        case .failure(let error):
            return SourceRecord(line: line, fields: .failure(RecordError(reason: "not valid JSON: \(error.reason)")))
        }
    }

    /// A JSON document (array, envelope or single object), or JSON lines when more follows the first value.
    static func jsonRecords(_ bytes: [UInt8], from start: Int,
                            envelopes: [String]) throws(RecordError) -> [SourceRecord] {
        let parsed: Result<(SourceValue, Bool), SourceJSONError> = bytes.withUnsafeBytes { raw in
            var reader = SourceJSONReader(raw, at: start, maxDepth: 34)  // envelope and array, then 32 for a record
            return Result { () throws(SourceJSONError) in
                let value = try reader.value()
                reader.skipSpace()
                return (value, reader.peek == nil)
            }
        }
        switch parsed {
        case .success((let value, true)): return try document(value, envelopes: envelopes)
        case .success((.object, false)): return jsonLines(Array(bytes[start...]))
        case .success((_, false)):
            throw RecordError(line: 1, reason: "not valid JSON: unexpected text after the top-level value")
        case .failure(let error): throw notJSON(error, in: bytes)
        }
    }

    /// The records of one whole JSON document.
    static func document(_ value: SourceValue, envelopes: [String]) throws(RecordError) -> [SourceRecord] {
        switch value {
        case .array(let items): return items.enumerated().map { record($1, line: $0 + 1) }
        case .object(let members):
            for key in envelopes {
                guard let inner = members[key] else { continue }
                guard case .array(let items) = inner else {
                    throw RecordError(line: 1, field: key, reason: "must be an array of records, not \(inner.typeName)")
                }
                return items.enumerated().map { record($1, line: $0 + 1) }
            }
            return [record(value, line: 1)]
        default:
            throw RecordError(line: 1, reason: "the export must be a JSON array or object, not \(value.typeName)")
        }
    }

    static func record(_ value: SourceValue, line: Int) -> SourceRecord {
        guard case .object(let members) = value else {
            return SourceRecord(line: line, fields: .failure(RecordError(
                reason: "a record must be a JSON object, not \(value.typeName)")))
        }
        return SourceRecord(line: line, fields: .success(SourceFields(members)))
    }

    /// JSON lines: each non-blank line one object; a line that is not JSON is refused on its own.
    static func jsonLines(_ bytes: [UInt8]) -> [SourceRecord] {
        var records = [SourceRecord]()
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            guard line.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) else { continue }
            let parsed: Result<SourceValue, SourceJSONError> = Array(line).withUnsafeBytes { raw in
                var reader = SourceJSONReader(raw)
                return Result { () throws(SourceJSONError) in
                    let value = try reader.value()
                    reader.skipSpace()
                    guard reader.peek == nil else { throw reader.fail("unexpected text after the record") }
                    return value
                }
            }
            switch parsed {
            case .success(let value): records.append(record(value, line: lineNumber))
            case .failure(let error): records.append(SourceRecord(line: lineNumber, fields: .failure(
                RecordError(reason: "not valid JSON: \(error.reason) (column \(error.offset + 1))"))))
            }
        }
        return records
    }

    /// A JSON error of the whole document, at the physical line of the byte at fault.
    static func notJSON(_ error: SourceJSONError, in bytes: [UInt8]) -> RecordError {
        let line = 1 + bytes.prefix(min(error.offset, bytes.count)).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        return RecordError(line: line, reason: "not valid JSON: \(error.reason)")
    }
}
