import Foundation
import Ledger
import LedgerFormat
import LedgerSupport
import Sodium

/// `ledger bench`: measures the engine on synthetic ~1 KiB records across 100 matters, in a scratch directory.
public struct Benchmark {
    public struct Result: Sendable, Codable {
        public var entries: Int
        public var inputBytes: Int
        public var importSeconds: Double
        public var importRecordsPerSecond: Double
        public var durableAppends: Int
        public var durableAppendsPerSecond: Double
        public var ledgerBytes: Int
        public var ledgerBytesPerEntry: Double
        public var ledgerToInputRatio: Double
        public var verifyEntriesPerSecond: Double
        public var deepVerifyEntriesPerSecond: Double
        /// The same import with an appender credential (write-only: batch keys sealed to matter key pairs).
        public var appenderImportRecordsPerSecond: Double
        /// Appender import rate / master-key import rate, measured in the same run.
        public var appenderToMasterImportRatio: Double
        /// `show` of one entry, recording its access entry first (one durable append), in milliseconds.
        public var recordedShowMilliseconds: Double
        /// The same read without the access entry, in milliseconds: the difference is the durable append.
        public var unrecordedShowMilliseconds: Double
        /// Peak resident memory of a separate `ledger verify` process over the imported ledger (filled in by the CLI).
        public var verifyPeakRSSBytes: Int?
    }

    public var entries = 100_000
    public var durableAppends = 2_000
    public var scratch: String
    /// Keep records.jsonl after the import (for profiling `ledger import` on the same input).
    public var keepInput = false

    public init(entries: Int, durableAppends: Int, scratch: String) {
        self.entries = entries
        self.durableAppends = durableAppends
        self.scratch = scratch
    }

    /// The imported ledger, kept until `cleanUp()` so that the caller can measure a separate verify process on it.
    public var importedLedgerDirectory: String { (scratch as NSString).appendingPathComponent("import") }

    public func cleanUp() {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    public func run(log: (String) -> Void) throws -> Result {
        let (input, inputBytes) = try writeInput()
        log("generated \(entries) records, \(inputBytes / max(1, entries)) bytes each on average")
        // Master key, appender, appender, master: each import into a fresh ledger, the best of each kept, so that
        // neither gains from going first or second (page cache, the disk's write-back).
        let importLedger = try scratchLedger("import")
        var importSeconds = try timedImport(input, into: importLedger)
        var appenderSeconds = try timedAppenderImport(input, name: "appender")
        appenderSeconds = min(appenderSeconds, try timedAppenderImport(input, name: "appender2"))
        importSeconds = min(importSeconds, try timedMasterImport(input, name: "import2"))
        let ledgerBytes = importLedger.dataFileSize()
        log(String(format: "import: %.0f records/s", Double(entries) / importSeconds))
        log(String(format: "import with an appender credential: %.0f records/s", Double(entries) / appenderSeconds))
        try importLedger.signCheckpoint()
        if !keepInput { try FileManager.default.removeItem(atPath: input) }
        let keyless = try timedVerify(importLedger, deep: false)
        log(String(format: "keyless verify: %.0f entries/s", Double(entries) / keyless))
        let deep = try timedVerify(importLedger, deep: true)
        log(String(format: "deep verify: %.0f entries/s", Double(entries) / deep))
        let (recordedShow, unrecordedShow) = try timedShows(importLedger)
        log(String(format: "show: %.2f ms with its access entry, %.2f ms without", recordedShow, unrecordedShow))
        importLedger.close()
        let appendSeconds = try timedAppends()
        log(String(format: "durable appends: %.0f/s", Double(durableAppends) / appendSeconds))
        return Result(entries: entries, inputBytes: inputBytes, importSeconds: importSeconds,
                      importRecordsPerSecond: Double(entries) / importSeconds,
                      durableAppends: durableAppends, durableAppendsPerSecond: Double(durableAppends) / appendSeconds,
                      ledgerBytes: ledgerBytes, ledgerBytesPerEntry: Double(ledgerBytes) / Double(entries),
                      ledgerToInputRatio: Double(ledgerBytes) / Double(inputBytes),
                      verifyEntriesPerSecond: Double(entries) / keyless,
                      deepVerifyEntriesPerSecond: Double(entries) / deep,
                      appenderImportRecordsPerSecond: Double(entries) / appenderSeconds,
                      appenderToMasterImportRatio: importSeconds / appenderSeconds,
                      recordedShowMilliseconds: recordedShow, unrecordedShowMilliseconds: unrecordedShow,
                      verifyPeakRSSBytes: nil)
    }

    /// Writes `entries` sample records as JSON lines and flushes them to disk, so that writing them back does not
    /// compete with the import's own fsyncs. Returns the path and its size.
    private func writeInput() throws -> (path: String, bytes: Int) {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let input = (scratch as NSString).appendingPathComponent("records.jsonl")
        var samples = SampleRecords()
        let lines = samples.jsonLines(count: entries)
        try Data(lines).write(to: URL(fileURLWithPath: input))
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: input))
        try handle.synchronize()
        try handle.close()
        return (input, lines.count)
    }

    /// Seconds for `ledger import` of the input (the same call the command makes).
    private func timedImport(_ input: String, into ledger: Ledger) throws -> Double {
        let started = DispatchTime.now()
        let summary = try ledger.importRecords(from: input)
        let elapsed = seconds(since: started)
        guard summary.imported == entries else { throw BenchError.importedFewer(summary.imported, of: entries) }
        return elapsed
    }

    /// Seconds for the same import into a fresh ledger through an appender credential (granted by its master key).
    private func timedAppenderImport(_ input: String, name: String) throws -> Double {
        let master = try scratchLedger(name)
        let credential = (scratch as NSString).appendingPathComponent("\(name).cred")
        _ = try master.grant("bench-ingest", role: .appender, matters: [], credentialPath: credential)
        let directory = master.directory
        master.close()
        let ledger = try Ledger.open(at: directory)
        defer { ledger.close() }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ledger.unlock(credentialFile: credential)
        return try timedImport(input, into: ledger)
    }

    /// Seconds for the import into another fresh ledger with the master key (the scratch ledger is removed after).
    private func timedMasterImport(_ input: String, name: String) throws -> Double {
        let ledger = try scratchLedger(name)
        defer {
            ledger.close()
            try? FileManager.default.removeItem(atPath: ledger.directory)
        }
        return try timedImport(input, into: ledger)
    }

    /// Milliseconds per `show` of a random entry: recording the access entry then decrypting, and decrypting alone.
    private func timedShows(_ ledger: Ledger, count: Int = 200) throws -> (recorded: Double, unrecorded: Double) {
        var random = SplitMix64(seed: 11)
        let seqs = (0..<count).map { _ in random.next() % UInt64(entries) }
        var started = DispatchTime.now()
        for seq in seqs {
            try ledger.recordAccess(ReadScope(command: "bench show", seq: seq))
            _ = try ledger.entry(seq)
        }
        let recorded = seconds(since: started) * 1000 / Double(count)
        started = DispatchTime.now()
        for seq in seqs { _ = try ledger.entry(seq) }
        return (recorded, seconds(since: started) * 1000 / Double(count))
    }

    /// Seconds for `durableAppends` single appends to a new ledger, one durable transaction each.
    private func timedAppends() throws -> Double {
        let ledger = try scratchLedger("append")
        defer { ledger.close() }
        var generator = SampleRecords(seed: 7)
        let records = try (0..<durableAppends).map { try RecordSchema.validate(generator.next(index: $0)) }
        let started = DispatchTime.now()
        for record in records { _ = try ledger.append(record) }
        return seconds(since: started)
    }

    /// Seconds for one full verification; the ledger must come out intact.
    private func timedVerify(_ ledger: Ledger, deep: Bool) throws -> Double {
        let start = DispatchTime.now()
        let report = try ledger.verify(VerifyOptions(pinnedVerifierKey: ledger.storedVerifierKey, deep: deep))
        let elapsed = seconds(since: start)
        guard report.isIntact, report.entries == UInt64(entries) else {
            throw BenchError.didNotVerify(report.violations.first.map(String.init(describing:)) ?? "wrong size")
        }
        return elapsed
    }

    /// The key file of the scratch ledger `name`.
    public func keyFile(_ name: String = "import") -> String {
        (scratch as NSString).appendingPathComponent("\(name).key")
    }

    private func scratchLedger(_ name: String) throws -> Ledger {
        let dir = (scratch as NSString).appendingPathComponent(name)
        let key = (scratch as NSString).appendingPathComponent("\(name).key")
        let ledger = try Ledger.create(at: dir, origin: "bench.invalid/\(name)",
                                       masterKey: .keyFile(path: key, allowInsideLedger: false))
        try ledger.unlock(with: .keyFile(path: key))
        return ledger
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}

/// A benchmark run that went wrong. A bench ledger that does not verify is an integrity failure of the engine.
public enum BenchError: Error, CustomStringConvertible, Sendable {
    case importedFewer(Int, of: Int)
    case didNotVerify(String)
    /// The separate `ledger verify` process exited with this status.
    case verifyProcessFailed(status: Int32)
    /// The `ledger import` process of an end-to-end run exited with this status.
    case importProcessFailed(status: Int32)

    public var description: String {
        switch self {
        case .importedFewer(let imported, let entries): return "bench imported \(imported) of \(entries) records"
        case .didNotVerify(let why): return "the bench ledger did not verify: \(why)"
        case .verifyProcessFailed(let status): return "bench: the `ledger verify` process exited \(status)"
        case .importProcessFailed(let status): return "bench: the `ledger import` process exited \(status)"
        }
    }
}
