import Foundation
import LedgerFormat
import LedgerSupport
import RecordFormats

/// Input file formats that `ledger import` reads.
public enum ImportFormat: String, Sendable, CaseIterable {
    case jsonl
    case csv

    /// Chooses the format from the file name: `.csv` is CSV, anything else is JSON lines.
    public static func guess(path: String) -> ImportFormat {
        path.lowercased().hasSuffix(".csv") ? .csv : .jsonl
    }
}

/// One record's raw text located in the input, before parsing.
package struct RawRecord: Sendable {
    let line: Int
    let range: Range<Int>
}

/// Splits JSON-lines input into records (one per non-blank line) and parses + validates one.
package enum JSONLines {
    /// The non-blank lines of `bytes`, with their 1-based line numbers. A large input is split in pieces that start
    /// after a newline, one per share of the cores (reading a mapped file also faults its pages in on every core).
    package static func split(_ bytes: UnsafeRawBufferPointer) -> [RawRecord] {
        let pieces = min(availableCores * 4, bytes.count / (1 << 20))
        guard pieces > 1 else { return split(bytes, 0..<bytes.count).records }
        var bounds = [0]
        for piece in 1..<pieces {
            var bound = max(bounds[piece - 1], bytes.count * piece / pieces)
            while bound < bytes.count, bound > 0, bytes[bound - 1] != 0x0a { bound += 1 }  // just after a newline
            bounds.append(bound)
        }
        bounds.append(bytes.count)
        let parts = (try? parallelMap(Array(0..<pieces), minimumChunk: 1) { split(bytes, bounds[$0]..<bounds[$0 + 1]) })
            ?? [split(bytes, 0..<bytes.count)]
        var records = [RawRecord]()
        records.reserveCapacity(parts.reduce(0) { $0 + $1.records.count })
        var linesBefore = 0
        for part in parts {
            for record in part.records {
                records.append(RawRecord(line: record.line + linesBefore, range: record.range))
            }
            linesBefore += part.lines
        }
        return records
    }

    /// The non-blank lines in `range` (which starts a line), numbered from 1, and how many lines it holds.
    private static func split(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> (records: [RawRecord], lines: Int) {
        var records = [RawRecord]()
        records.reserveCapacity(range.count / 700 + 1)
        var start = range.lowerBound
        var line = 1
        let count = range.upperBound
        while start < count {
            var end = start
            if let base = bytes.baseAddress, let hit = memchr(base + start, 0x0a, count - start) {
                end = base.distance(to: UnsafeRawPointer(hit))
            } else {
                end = count
            }
            var trimmedEnd = end
            if trimmedEnd > start, bytes[trimmedEnd - 1] == 0x0d { trimmedEnd -= 1 }
            if !isBlank(bytes, start..<trimmedEnd) { records.append(RawRecord(line: line, range: start..<trimmedEnd)) }
            start = end + 1
            line += 1
        }
        return (records, line - 1)
    }

    package static func validate(_ raw: RawRecord, in bytes: UnsafeRawBufferPointer) -> Result<ValidatedRecord, RecordError> {
        guard raw.range.count <= RecordSchema.maxRecordBytes else {
            return .failure(RecordError(line: raw.line, reason: "record is larger than 1 MiB"))
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[raw.range])
        if var record = RecordSchema.quickValidate(slice) {  // the fast twin: nil sends the line to the strict path
            record.line = raw.line
            return .success(record)
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(slice)
        } catch {
            return .failure(RecordError(line: raw.line, field: error.path.isEmpty ? nil : error.path,
                                        reason: error.reasonText))
        }
        do {
            var record = try RecordSchema.validate(value)
            record.line = raw.line
            return .success(record)
        } catch {
            var located = error
            located.line = raw.line
            return .failure(located)
        }
    }

    /// What the first pass of a large import needs: the fast twin's facts, or those of the strict path's record.
    package static func check(_ raw: RawRecord, in bytes: UnsafeRawBufferPointer) -> Result<RecordFacts, RecordError> {
        if raw.range.count <= RecordSchema.maxRecordBytes,
           let facts = RecordSchema.quickFacts(UnsafeRawBufferPointer(rebasing: bytes[raw.range])) {
            return .success(RecordFacts(line: raw.line, matter: facts.matter, corrects: facts.corrects))
        }
        return validate(raw, in: bytes).map(RecordFacts.init)
    }

    private static func isBlank(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        range.allSatisfy { bytes[$0] == 0x20 || bytes[$0] == 0x09 || bytes[$0] == 0x0d }
    }
}

extension JSONParseError {
    /// The reason without position, for record errors that already name the line and field.
    var reasonText: String {
        switch reason {
        case .floatNotAllowed: return "floats are not allowed (stored values are integers only)"
        case .invalidUTF8: return "invalid UTF-8"
        case .duplicateKey(let key): return "duplicate key '\(key)'"
        case .integerOutOfRange: return "integer out of range"
        case .tooDeep: return "nested too deeply"
        default: return "not valid JSON (\(description))"
        }
    }
}

/// CSV input: a header row of schema field names, then one record per row. List fields are `;`-separated;
/// attachments are `name=sha256` items separated by `;`. An empty cell means the field is absent.
package enum CSVRecords {
    package struct Header {
        let names: [String]
        let types: [RecordSchema.FieldType]
    }

    package static func header(_ row: CSVRow) throws -> Header {
        var seen = Set<String>()
        var types = [RecordSchema.FieldType]()
        for (column, name) in row.fields.enumerated() {
            guard let type = RecordSchema.type(of: name) else {
                throw RecordError(line: row.line, field: name,
                                  reason: "column \(column + 1) of the header is not a schema field")
            }
            guard seen.insert(name).inserted else {
                throw RecordError(line: row.line, field: name, reason: "column \(column + 1) repeats a header name")
            }
            types.append(type)
        }
        return Header(names: row.fields, types: types)
    }

    package static func validate(_ row: CSVRow, header: Header) -> Result<ValidatedRecord, RecordError> {
        guard row.fields.count == header.names.count else {
            return .failure(RecordError(line: row.line,
                reason: "has \(row.fields.count) columns, the header has \(header.names.count)"))
        }
        var members = [(String, JSONValue)]()
        for (i, cell) in row.fields.enumerated() where !cell.isEmpty {
            do {
                members.append((header.names[i], try convert(cell, type: header.types[i], field: header.names[i])))
            } catch {
                var located = error
                located.line = row.line
                return .failure(located)
            }
        }
        do {
            var record = try RecordSchema.validate(.object(JSONObject(members)))
            record.line = row.line
            return .success(record)
        } catch {
            var located = error
            located.line = row.line
            return .failure(located)
        }
    }

    private static func convert(_ cell: String, type: RecordSchema.FieldType,
                                field: String) throws(RecordError) -> JSONValue {
        switch type {
        case .integer:
            guard let value = Int64(cell) else { throw RecordError(field: field, reason: "must be an integer") }
            return .integer(value)
        case .boolean:
            switch cell {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw RecordError(field: field, reason: "must be true or false")
            }
        case .lines:
            return .array(items(cell).map { .string($0) })
        case .attachments:
            var list = [JSONValue]()
            for item in items(cell) {
                guard let eq = item.lastIndex(of: "=") else {
                    throw RecordError(field: field, reason: "each attachment must be written name=sha256")
                }
                list.append(.object(JSONObject([("name", .string(String(item[..<eq]))),
                                                ("sha256", .string(String(item[item.index(after: eq)...])))])))
            }
            return .array(list)
        default:
            return .string(cell)
        }
    }

    private static func items(_ cell: String) -> [String] {
        cell.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// One record given whole (`ledger append`): parsed and validated with the same rules and messages as import.
public enum RecordInput {
    public static func validate(_ bytes: [UInt8]) throws -> ValidatedRecord {
        guard bytes.count <= RecordSchema.maxRecordBytes else {
            throw LedgerError.invalidRecords([RecordError(reason: "record is larger than 1 MiB")])
        }
        let result = bytes.withUnsafeBytes { JSONLines.validate(RawRecord(line: 0, range: 0..<bytes.count), in: $0) }
        switch result {
        case .success(var record):
            record.line = nil
            return record
        case .failure(var error):
            error.line = nil
            throw LedgerError.invalidRecords([error])
        }
    }
}

/// What the first pass of an input too large to keep checks of a valid record: its matter and `corrects`.
package struct RecordFacts: Sendable {
    let line: Int?
    let matter: String
    let corrects: UInt64?

    init(line: Int?, matter: String, corrects: UInt64?) {
        (self.line, self.matter, self.corrects) = (line, matter, corrects)
    }

    init(_ record: ValidatedRecord) {
        self.init(line: record.line, matter: record.matter, corrects: record.corrects)
    }
}
