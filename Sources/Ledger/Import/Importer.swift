import Foundation
import LedgerFormat
import LedgerImport
import LedgerSupport
import RecordFormats

/// How `importRecords` behaves.
public struct ImportOptions: Sendable {
    /// Import the valid records and list the bad ones, instead of refusing the whole file.
    public var skipInvalid = false
    /// Records per durable write transaction.
    public var batchSize = 8192
    /// Called after each committed batch with (records processed, records in the file).
    public var progress: (@Sendable (Int, Int) -> Void)? = nil
    /// Format 2: move the staged source rows into `sources` when the import ends (tests turn this off to leave a
    /// ledger as an interrupted import would).
    package var moveStagedSourcesAtEnd = true
    /// Format 2: staged source rows an import lets pile up before it moves them, in the transaction of the batch
    /// that reaches the limit (bounds the import's memory and the size of that transaction).
    package var stagedSourcesLimit = 1 << 20
    /// Inputs up to this many bytes keep their validated records between the two passes (tests lower it to run the
    /// path of large inputs, which parses twice).
    package var retainLimit = Ledger.retainLimit

    public init(skipInvalid: Bool = false, batchSize: Int = 8192, progress: (@Sendable (Int, Int) -> Void)? = nil) {
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

    /// Counts one committed batch's outcomes.
    mutating func count(_ outcomes: [AppendOutcome]) {
        for outcome in outcomes {
            switch outcome {
            case .appended(let seq):
                imported += 1
                if firstSeq == nil { firstSeq = seq }
                lastSeq = seq
            case .duplicate:
                duplicates += 1
            }
        }
    }

    public var line: String {
        "imported \(imported), skipped \(duplicates) duplicates, rejected \(rejected.count)"
    }
}

extension Ledger {
    /// Imports a JSONL or CSV file. The whole file is validated first: unless `skipInvalid`, one bad record
    /// means nothing is written and every bad record is reported. Then records are appended in batches,
    /// each batch one durable transaction; records already present (same sourceSystem/sourceId) are skipped,
    /// so re-running an interrupted or repeated import appends only what is missing.
    public func importRecords(from path: String, format: ImportFormat? = nil,
                              options: ImportOptions = ImportOptions()) throws -> ImportSummary {
        _ = try requireWriter()
        let data = try readInput(path)
        switch format ?? ImportFormat.guess(path: path) {
        case .jsonl:
            return try data.withUnsafeBytes { bytes in
                let raws = JSONLines.split(bytes)
                return try importValidated(count: raws.count, retain: bytes.count <= options.retainLimit,
                                           options: options, check: { range in
                    try parallelMap(Array(raws[range]), minimumChunk: 64) { JSONLines.check($0, in: bytes) }
                }) { range in
                    try parallelMap(Array(raws[range]), minimumChunk: 64) { JSONLines.validate($0, in: bytes) }
                }
            }
        case .csv:
            let rows = try csvRows(data)
            guard let first = rows.first else { return ImportSummary() }
            let header: CSVRecords.Header
            do { header = try CSVRecords.header(first) } catch let error as RecordError {
                throw LedgerError.invalidRecords([error])
            }
            let body = Array(rows.dropFirst())
            return try importValidated(count: body.count, retain: data.count <= options.retainLimit,
                                       options: options) { range in
                try parallelMap(Array(body[range]), minimumChunk: 64) { CSVRecords.validate($0, header: header) }
            }
        }
    }

    /// Imports another system's export through `adapter` (docs/IMPORT.md): each mapped record is validated against
    /// the schema and imported exactly like a native one; a record the adapter refused, or that does not validate,
    /// is rejected with its line (and the field at fault), before anything is written.
    public func importRecords(from path: String, adapter: any RecordAdapter,
                              options: ImportOptions = ImportOptions()) throws -> ImportSummary {
        _ = try requireWriter()
        let data = try readInput(path)
        let adapted: [AdaptedRecord]
        do { adapted = try adapter.adapt(Array(data)) } catch { throw LedgerError.invalidRecords([error]) }
        return try importValidated(count: adapted.count, retain: true, options: options) { range in
            try parallelMap(Array(adapted[range]), minimumChunk: 64) { record in
                Self.validateAdapted(record)
            }
        }
    }

    private static func validateAdapted(_ record: AdaptedRecord) -> Result<ValidatedRecord, RecordError> {
        switch record.result {
        case .failure(var error):
            error.line = record.line
            return .failure(error)
        case .success(let value):
            // The native readers refuse a record over 1 MiB as they read it; a mapped record is measured as stored.
            guard JSONWriter.serialize(value).count <= RecordSchema.maxRecordBytes else {
                return .failure(RecordError(line: record.line, reason: "record is larger than 1 MiB"))
            }
            do {
                var validated = try RecordSchema.validate(value)
                validated.line = record.line
                return .success(validated)
            } catch {
                var error = error
                error.line = record.line
                return .failure(error)
            }
        }
    }

    /// Inputs up to this size keep their validated records between the two passes; larger ones are parsed
    /// twice so that memory stays bounded by one batch.
    static let retainLimit = 128 << 20

    /// Imports records that come in `count` slots; `validate(range)` parses and validates one range of them.
    private func importValidated(count: Int, retain: Bool, options: ImportOptions, check: Checker? = nil,
                                 validate: Validator) throws -> ImportSummary {
        let batch = Self.batchLength(count: count, limit: options.batchSize)
        var timer = PhaseTimer(logger: Self.logger)
        defer { Self.logger.debug("import", metadata: ["records": "\(count)", "phases": "\(timer)"]) }
        let (rejected, validBatches) = try validateAll(count: count, batch: batch, retain: retain, check: check,
                                                          validate: validate)
        // Kept batches leave memory once committed, not when taken: a batch sealed ahead on a prediction that another
        // writer made stale is asked for again.
        let kept = Locked(validBatches)
        timer.lap("validate")
        if !rejected.isEmpty && !options.skipInvalid { throw LedgerError.invalidRecords(rejected) }
        defer { timer.lap("append") }
        // Pass 2: append in batches, each one durable transaction, sealing the next while writing this one.
        var summary = ImportSummary(rejected: rejected)
        let starts = Array(stride(from: 0, to: count, by: batch))
        let rejectedLines = Set(rejected.compactMap(\.line))
        var committedBatches = 0
        try appendBatches(count: starts.count, moveStagedAtEnd: options.moveStagedSourcesAtEnd,
                          stagedLimit: options.stagedSourcesLimit, batch: { index in
            if retain { return kept.withLock { $0[index] } }
            let range = starts[index]..<min(count, starts[index] + batch)
            var results = try validate(range)
            var valid = [ValidatedRecord]()
            valid.reserveCapacity(results.count)
            Self.takeEach(&results) { result in
                if case .success(let record) = consume result, !rejectedLines.contains(record.line ?? -1) {
                    valid.append(record)
                }
            }
            return valid
        }, committed: { outcomes in
            summary.count(outcomes)
            if retain { kept.withLock { $0[committedBatches] = [] } }
            committedBatches += 1
            options.progress?(min(count, committedBatches * batch), count)
        })
        return summary
    }

    typealias Validator = (Range<Int>) throws -> [Result<ValidatedRecord, RecordError>]
    /// The first pass of an input too large to keep: what the checks below need of each valid record, no more.
    typealias Checker = (Range<Int>) throws -> [Result<RecordFacts, RecordError>]

    /// At most `limit` records per transaction, in batches of equal size: a short last batch would be sealed long
    /// before the batch ahead of it commits, leaving a core idle at the end of the pipeline.
    private static func batchLength(count: Int, limit: Int) -> Int {
        let limit = max(1, limit)
        let batchCount = max(1, (count + limit - 1) / limit)
        return max(1, (count + batchCount - 1) / batchCount)
    }

    /// Pass 1: validates every record before anything is written. Returns the rejected records and, when `retain`,
    /// the valid ones per batch. An appender granted some matters only has a record of any other matter rejected. `corrects` must name an entry that exists before the record: the ledger's entries
    /// plus the valid records before it.
    private func validateAll(count: Int, batch: Int, retain: Bool, check: Checker?, validate: Validator) throws
        -> (rejected: [RecordError], retained: [[ValidatedRecord]]) {
        var rejected = [RecordError]()
        var retained = [[ValidatedRecord]]()
        var nextSeq = try size()
        let principal = try requireWriter()
        let restricted = principal.matters != nil  // an appender granted some matters only
        let destroyed = try destroyedMatterSeqs()
        // Why a valid record may still not be appended, in input order (`nextSeq` counts the ones before it).
        func refusal(line: Int?, matter: String, corrects: UInt64?) -> RecordError? {
            if restricted, let tags = principal.tags, !principal.mayAppend(tag: tags.matterTag(matter)) {
                return RecordError(line: line, field: "matter", reason: "this credential may not append to this matter")
            }
            if !destroyed.isEmpty, let tags = principal.tags, let seq = destroyed[tags.matterTag(matter)] {
                return RecordError(line: line, field: "matter", reason: "this matter was "
                    + "destroyed by entry \(seq): nothing more may be appended to it")
            }
            if let target = corrects, target >= nextSeq {
                return RecordError(line: line, field: "corrects",
                                   reason: "refers to entry \(target), which does not exist before this record")
            }
            nextSeq += 1
            return nil
        }
        if retain {
            // The whole input in one parallel pass (no pause between batches), then kept per batch of input slots.
            var results = try validate(0..<count)
            var valid = [ValidatedRecord]()
            var slot = 0
            Self.takeEach(&results) { result in
                switch consume result {
                case .success(let record):
                    if let error = refusal(line: record.line, matter: record.matter, corrects: record.corrects) {
                        rejected.append(error)
                    } else {
                        valid.append(record)
                    }
                case .failure(let error): rejected.append(error)
                }
                slot += 1
                if slot % batch == 0 || slot == count {
                    retained.append(valid)
                    valid = []
                    valid.reserveCapacity(batch)
                }
            }
            return (rejected, retained)
        }
        for start in stride(from: 0, to: count, by: batch) {
            let range = start..<min(count, start + batch)
            let results = try check?(range) ?? validate(range).map { $0.map(RecordFacts.init) }
            for result in results {
                switch result {
                case .success(let facts):
                    if let error = refusal(line: facts.line, matter: facts.matter, corrects: facts.corrects) {
                        rejected.append(error)
                    }
                case .failure(let error): rejected.append(error)
                }
            }
        }
        return (rejected, retained)
    }

    /// Hands each element of `results` to `body` by moving it out (no copy: this thread never retains and releases
    /// the records' buffers, which the workers built on other cores), leaving an empty array.
    private static func takeEach(_ results: inout [Result<ValidatedRecord, RecordError>],
                                 _ body: (consuming Result<ValidatedRecord, RecordError>) -> Void) {
        let placeholder = Result<ValidatedRecord, RecordError>.failure(RecordError(line: nil, reason: ""))
        results.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices {
                let slot = buffer.baseAddress! + i
                let taken = slot.move()
                slot.initialize(to: placeholder)
                body(taken)
            }
        }
        results = []
    }

    /// The input, memory-mapped when it is a regular file; `-` (or a pipe) is read from start to end.
    private func readInput(_ path: String) throws -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        var info = stat()
        guard stat(path, &info) == 0 else { throw LedgerError.inputNotFound(path: path) }
        do {
            let regular = (info.st_mode & S_IFMT) == S_IFREG
            return try Data(contentsOf: URL(fileURLWithPath: path), options: regular ? .alwaysMapped : [])
        } catch {
            throw LedgerError.io(path: path, detail: "cannot read the input file")
        }
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
