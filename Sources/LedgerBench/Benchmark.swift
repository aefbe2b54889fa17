import Foundation
import Ledger
import LedgerFormat
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
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let input = (scratch as NSString).appendingPathComponent("records.jsonl")
        var samples = SampleRecords()
        let lines = samples.jsonLines(count: entries)
        try Data(lines).write(to: URL(fileURLWithPath: input))
        // Flush the generated input first, so that writing it back does not compete with the import's own fsyncs.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: input))
        try handle.synchronize()
        try handle.close()
        log("generated \(entries) records, \(lines.count / max(1, entries)) bytes each on average")

        let importLedger = try scratchLedger("import")
        let started = DispatchTime.now()
        let summary = try importLedger.importRecords(from: input)
        let importSeconds = seconds(since: started)
        guard summary.imported == entries else { throw LedgerError.corrupt("bench imported \(summary.imported) of \(entries)") }
        let ledgerBytes = importLedger.dataFileSize()
        log(String(format: "import: %.0f records/s", Double(entries) / importSeconds))
        try importLedger.signCheckpoint()
        if !keepInput { try FileManager.default.removeItem(atPath: input) }

        let keyless = try timedVerify(importLedger, deep: false)
        log(String(format: "keyless verify: %.0f entries/s", Double(entries) / keyless))
        let deep = try timedVerify(importLedger, deep: true)
        log(String(format: "deep verify: %.0f entries/s", Double(entries) / deep))
        importLedger.close()

        let appendLedger = try scratchLedger("append")
        var generator = SampleRecords(seed: 7)
        let records = try (0..<durableAppends).map { try RecordSchema.validate(generator.next(index: $0)) }
        let appendStart = DispatchTime.now()
        for record in records { _ = try appendLedger.append(record) }
        let appendSeconds = seconds(since: appendStart)
        log(String(format: "durable appends: %.0f/s", Double(durableAppends) / appendSeconds))

        return Result(entries: entries, inputBytes: lines.count, importSeconds: importSeconds,
                      importRecordsPerSecond: Double(entries) / importSeconds,
                      durableAppends: durableAppends, durableAppendsPerSecond: Double(durableAppends) / appendSeconds,
                      ledgerBytes: ledgerBytes, ledgerBytesPerEntry: Double(ledgerBytes) / Double(entries),
                      ledgerToInputRatio: Double(ledgerBytes) / Double(lines.count),
                      verifyEntriesPerSecond: Double(entries) / keyless, deepVerifyEntriesPerSecond: Double(entries) / deep,
                      verifyPeakRSSBytes: nil)
    }

    /// Seconds for one full verification; the ledger must come out intact.
    private func timedVerify(_ ledger: Ledger, deep: Bool) throws -> Double {
        let start = DispatchTime.now()
        let report = try ledger.verify(VerifyOptions(pinnedVerifierKey: ledger.storedVerifierKey, deep: deep))
        let elapsed = seconds(since: start)
        guard report.isIntact, report.entries == UInt64(entries) else {
            throw LedgerError.corrupt("bench ledger did not verify: \(report.violations.first.map(String.init(describing:)) ?? "wrong size")")
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
        let ledger = try Ledger.create(at: dir, origin: "bench.invalid/\(name)", masterKey: .keyFile(path: key, allowInsideLedger: false))
        try ledger.unlock(with: .keyFile(path: key))
        return ledger
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
