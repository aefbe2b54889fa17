import Ledger
import LedgerReport
import LedgerFormat
import RecordFormats

extension FuzzTargets {
    /// One JSON record, as `ledger append` reads it: strict parse, then schema validation.
    static let jsonRecord = FuzzTarget("json-record") { bytes in
        _ = try? RecordInput.validate(Array(bytes))
    }

    /// The canonical writer against the parser: whatever parses writes back to bytes that parse to the same value,
    /// and writing that value again gives the same bytes (the stored values depend on it).
    static let jsonCanonical = FuzzTarget("json-canonical") { bytes in
        guard let value = try? JSONParser.parse(Array(bytes)) else { return }
        let written = JSONWriter.serialize(value)
        guard let reparsed = try? JSONParser.parse(written) else {
            return agree(false, "the writer's output does not parse")
        }
        agree(reparsed == value, "the writer's output parses to another value")
        agree(JSONWriter.serialize(reparsed) == written, "the canonical form is not stable")
    }

    /// A CSV import file: RFC 4180 rows, the header row of field names, then every record validated.
    static let csvImport = FuzzTarget("csv-import") { bytes in
        guard let rows = try? CSVReader.readAll(Array(bytes)), let first = rows.first,
              let header = try? CSVRecords.header(first) else { return }
        for row in rows.dropFirst() { _ = CSVRecords.validate(row, header: header) }
    }

    /// A JSON-lines import file: split into lines, every record parsed and validated.
    static let jsonLinesImport = FuzzTarget("jsonl-import") { bytes in
        for raw in JSONLines.split(bytes) { _ = JSONLines.validate(raw, in: bytes) }
    }
}

extension FuzzTargets {
    /// A report policy file (`ledger report --policy`): strict JSON, then the policy's own rules.
    static let reportPolicy = FuzzTarget("report-policy") { bytes in
        _ = try? ReportPolicy.parse(Array(bytes))
    }
}
