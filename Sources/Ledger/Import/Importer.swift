import Foundation
import RecordFormats

/// How `importRecords` behaves.
public struct ImportOptions: Sendable {
    /// Import the valid records and list the bad ones, instead of refusing the whole file.
    public var skipInvalid = false
    /// Records per durable write transaction.
    public var batchSize = 4096
    /// Called after each committed batch with (records processed, records in the file).
    public var progress: (@Sendable (Int, Int) -> Void)? = nil

    public init(skipInvalid: Bool = false, batchSize: Int = 4096, progress: (@Sendable (Int, Int) -> Void)? = nil) {
        self.skipInvalid = skipInvalid
        self.batchSize = batchSize
        self.progress = progress
    }
}

/// What an import did.
public struct ImportSummary: Sendable, Equatable {
    public var imported = 0
    public var duplicates = 0
    public var rejected: [RecordError] = []
    /// The seq of the first and last appended entry, if any were appended.
    public var firstSeq: UInt64?
    public var lastSeq: UInt64?

    public var line: String {
        "imported \(imported), skipped \(duplicates) duplicates, rejected \(rejected.count)"
    }
}

extension Ledger {
    /// Imports a JSONL or CSV file. The whole file is validated first: unless `skipInvalid`, one bad record
    /// means nothing is written and every bad record is reported. Then records are appended in batches,
    /// each batch one durable transaction; records already present (same sourceSystem/sourceId) are skipped,
    /// so re-running an interrupted or repeated import appends only what is missing.
    public func importRecords(from path: String, format: ImportFormat? = nil, options: ImportOptions = ImportOptions()) throws -> ImportSummary {
        _ = try requireKeys()
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw LedgerError.io(path: path, detail: "cannot read the input file")
        }
        switch format ?? ImportFormat.guess(path: path) {
        case .jsonl:
            return try data.withUnsafeBytes { bytes in
                let raws = JSONLines.split(bytes)
                return try importValidated(count: raws.count, options: options) { range in
                    try parallelMap(Array(raws[range]), minimumChunk: 64) { JSONLines.validate($0, in: bytes) }
                }
            }
        case .csv:
            let rows = try csvRows(data)
            guard let first = rows.first else { return ImportSummary() }
            let header: CSVRecords.Header
            do { header = try CSVRecords.header(first) } catch let error as RecordError { throw LedgerError.invalidRecords([error]) }
            let body = Array(rows.dropFirst())
            return try importValidated(count: body.count, options: options) { range in
                try parallelMap(Array(body[range]), minimumChunk: 64) { CSVRecords.validate($0, header: header) }
            }
        }
    }

    /// Imports records that come in `count` slots; `validate(range)` parses and validates one range of them.
    private func importValidated(count: Int, options: ImportOptions,
                                 validate: (Range<Int>) throws -> [Result<ValidatedRecord, RecordError>]) throws -> ImportSummary {
        let batch = max(1, options.batchSize)
        // Pass 1: validate everything before writing anything. A `corrects` at or past the seq the record can
        // get at most (one after every valid record before it) would only fail in `append`, after earlier
        // batches committed: refuse it here, so a bad file still writes nothing (or, skipInvalid, skips it).
        var rejected = [RecordError]()
        var refusedSlots = Set<Int>()
        let startSize = try size()
        var validBefore: UInt64 = 0
        for start in stride(from: 0, to: count, by: batch) {
            for (offset, result) in try validate(start..<min(count, start + batch)).enumerated() {
                switch result {
                case .failure(let error):
                    rejected.append(error)
                case .success(let record):
                    if let target = record.corrects, target >= startSize + validBefore {
                        rejected.append(RecordError(line: record.line, field: "corrects",
                                                    reason: "refers to entry \(target), which does not exist before this record"))
                        refusedSlots.insert(start + offset)
                    } else {
                        validBefore += 1
                    }
                }
            }
        }
        if !rejected.isEmpty && !options.skipInvalid { throw LedgerError.invalidRecords(rejected) }
        // Pass 2: append in batches (records are parsed again so memory stays bounded by one batch).
        var summary = ImportSummary(rejected: rejected)
        for start in stride(from: 0, to: count, by: batch) {
            let range = start..<min(count, start + batch)
            let records = try validate(range).enumerated().compactMap { offset, result in
                refusedSlots.contains(start + offset) ? nil : try? result.get()
            }
            for outcome in try append(records) {
                switch outcome {
                case .appended(let seq):
                    summary.imported += 1
                    if summary.firstSeq == nil { summary.firstSeq = seq }
                    summary.lastSeq = seq
                case .duplicate:
                    summary.duplicates += 1
                }
            }
            options.progress?(range.upperBound, count)
        }
        return summary
    }

    private func csvRows(_ data: Data) throws -> [CSVRow] {
        do {
            return try CSVReader.readAll([UInt8](data))
        } catch {
            let column = error.column.map { " (column \($0))" } ?? ""
            throw LedgerError.invalidRecords([RecordError(line: error.line, reason: error.reason + column)])
        }
    }
}
