import Foundation
import LedgerFormat
import RecordFormats

extension SourceReading {
    /// CSV with a header row (RFC 4180, our reader): each row an object of the header's names to the cells' text;
    /// empty cells are left out. A row with the wrong number of cells is refused on its own.
    static func csvRecords(_ bytes: [UInt8]) throws(RecordError) -> [SourceRecord] {
        let rows: [CSVRow]
        do { rows = try CSVReader.readAll(bytes) } catch {
            throw RecordError(line: error.line, reason: "not valid CSV: \(error.reason)")
        }
        guard let header = rows.first else { return [] }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        guard Set(names).count == names.count, !names.contains("") else {
            throw RecordError(line: header.line, reason: "the CSV header row must name each column once")
        }
        return rows.dropFirst().map { row in
            guard row.fields.count == names.count else {
                return SourceRecord(line: row.line, fields: .failure(RecordError(
                    reason: "has \(row.fields.count) cells; the header names \(names.count) columns")))
            }
            var values = SourceObject()
            for (name, cell) in zip(names, row.fields) where !cell.isEmpty { values.append(name, .string(cell)) }
            return SourceRecord(line: row.line, fields: .success(SourceFields(values)))
        }
    }
}
