import Ledger
import LedgerImport
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

extension FuzzTargets {
    /// A mapping file (`ledger import --mapping`, docs/MAPPING.md): strict parse and validation; one that is accepted
    /// maps a small CSV whose header names every column it uses, and every mapped record is validated.
    static let mappingFile = FuzzTarget("mapping-file") { bytes in
        guard let adapter = try? MappingAdapter(mapping: Array(bytes)) else { return }
        let csv = Array("Matter No,From,To,Sent,Folder,Subject,Body,Message-ID\nM-1,a,b,2026-03-29 01:30,Inbox,s,b,1\n".utf8)
        for record in (try? adapter.adapt(csv)) ?? [] {
            if case .success(let value) = record.result { _ = try? RecordSchema.validate(value) }
        }
    }
}

extension FuzzTargets {
    /// A practice-management export (`ledger import --from`, docs/IMPORT.md) through all four adapters: every record
    /// is mapped or refused, never a trap, and every mapped record is validated.
    static let practiceImport = FuzzTarget("pms-import") { bytes in
        let input = Array(bytes)
        for system in PracticeSystem.allCases {
            for record in (try? system.adapter.adapt(input)) ?? [] {
                if case .success(let value) = record.result { _ = try? RecordSchema.validate(value) }
            }
        }
    }
}
