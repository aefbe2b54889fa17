import LedgerFormat
import RecordFormats

/// Maps any CSV or JSON-lines export onto the record schema as a mapping file (docs/MAPPING.md) says.
///
///     let adapter = try MappingAdapter(mapping: bytesOfMapJSON)
///     let summary = try ledger.importRecords(from: "export.csv", adapter: adapter)
public struct MappingAdapter: RecordAdapter {
    public let mapping: MappingFile
    public var sourceSystem: String { mapping.sourceSystem }

    /// Parses and validates the mapping file; a bad one is refused naming its key path.
    public init(mapping bytes: [UInt8]) throws(MappingError) {
        mapping = try MappingFile.parse(bytes)
    }

    public init(_ mapping: MappingFile) {
        self.mapping = mapping
    }

    public func adapt(_ bytes: [UInt8]) throws(RecordError) -> [AdaptedRecord] {
        switch mapping.input.format {
        case .csv: return try adaptCSV(bytes)
        case .jsonl: return adaptJSONLines(bytes)
        }
    }

    /// CSV: the header (line 1) names the columns; every column the mapping names must be in it.
    private func adaptCSV(_ bytes: [UInt8]) throws(RecordError) -> [AdaptedRecord] {
        let rows: [CSVRow]
        do { rows = try CSVReader.readAll(bytes) } catch {
            throw RecordError(line: error.line, reason: error.reason + (error.column.map { " (column \($0))" } ?? ""))
        }
        guard let header = rows.first else { return [] }
        let columns = try columnIndex(header)
        return rows.dropFirst().map { row in
            guard row.fields.count == header.fields.count else {
                return AdaptedRecord(line: row.line, result: .failure(RecordError(
                    reason: "has \(row.fields.count) cells; the header has \(header.fields.count)")))
            }
            return AdaptedRecord(line: row.line, result: record { column in columns[column].map { row.fields[$0] } })
        }
    }

    /// Header name → cell position; refuses a header without a mapped column or naming a mapped column twice.
    private func columnIndex(_ header: CSVRow) throws(RecordError) -> [String: Int] {
        var index = [String: Int]()
        for (i, name) in header.fields.enumerated() {
            let name = name.trimmingSpaces
            if index[name] != nil, mapping.rules.contains(where: { $0.column == name }) {
                throw RecordError(line: header.line, field: name, reason: "the header names this column twice")
            }
            index[name] = index[name] ?? i
        }
        for rule in mapping.rules {
            if let column = rule.column, index[column] == nil {
                throw RecordError(line: header.line, field: column, reason: "this column, named by "
                    + "'fields.\(MappingKeys.pathKey(rule.target)).column', is not in the header")
            }
        }
        return index
    }

    /// One record from its cells (`cell(column)`: nil when the record has no such column).
    func record(_ cell: (String) -> String?) -> Result<JSONValue, RecordError> {
        var object = JSONObject()
        for rule in mapping.rules {
            switch rule.value(cell: rule.column.flatMap(cell), input: mapping.input) {
            case .success(let value?): object.updateValue(value, forKey: rule.target)
            case .success(nil): continue
            case .failure(let error): return .failure(error)
            }
        }
        object.updateValue(.string(mapping.sourceSystem), forKey: "sourceSystem")
        return .success(.object(object))
    }
}

extension MappingAdapter {
    /// JSON lines: one object per line, its top-level keys the columns; blank lines are skipped. Strings are cells
    /// as they are, integers their decimal digits, booleans `true`/`false`, null an empty cell.
    func adaptJSONLines(_ bytes: [UInt8]) -> [AdaptedRecord] {
        var records = [AdaptedRecord]()
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            guard line.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D) }) else { continue }
            records.append(AdaptedRecord(line: lineNumber, result: jsonRecord(Array(line))))
        }
        return records
    }

    private func jsonRecord(_ line: [UInt8]) -> Result<JSONValue, RecordError> {
        let object: JSONObject
        do {
            guard case .object(let o) = try JSONParser.parse(line) else {
                return .failure(RecordError(reason: "is not a JSON object"))
            }
            object = o
        } catch {
            return .failure(RecordError(field: error.path.isEmpty ? nil : error.path, reason: error.reason.message))
        }
        for rule in mapping.rules {
            guard let column = rule.column, let value = object[column] else { continue }
            if case .array = value { return .failure(Self.notACell(column, value)) }
            if case .object = value { return .failure(Self.notACell(column, value)) }
        }
        return record { column in Self.cell(object[column]) }
    }

    private static func notACell(_ column: String, _ value: JSONValue) -> RecordError {
        RecordError(field: column, reason: "is a JSON \(value.typeName); only strings, integers and booleans are mapped")
    }

    private static func cell(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }
}
