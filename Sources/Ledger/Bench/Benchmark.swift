import Foundation
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
    }

    public var entries = 100_000
    public var durableAppends = 2_000
    public var scratch: String

    public init(entries: Int, durableAppends: Int, scratch: String) {
        self.entries = entries
        self.durableAppends = durableAppends
        self.scratch = scratch
    }

    public func run(log: (String) -> Void) throws -> Result {
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? fm.removeItem(atPath: scratch) }
        let input = (scratch as NSString).appendingPathComponent("records.jsonl")
        var samples = SampleRecords()
        let lines = samples.jsonLines(count: entries)
        try Data(lines).write(to: URL(fileURLWithPath: input))
        log("generated \(entries) records, \(lines.count / max(1, entries)) bytes each on average")

        let importLedger = try scratchLedger("import")
        let started = DispatchTime.now()
        let summary = try importLedger.importRecords(from: input)
        let importSeconds = seconds(since: started)
        guard summary.imported == entries else { throw LedgerError.corrupt("bench imported \(summary.imported) of \(entries)") }
        let ledgerBytes = try dataFileSize(importLedger.directory)
        log(String(format: "import: %.0f records/s", Double(entries) / importSeconds))

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
                      ledgerToInputRatio: Double(ledgerBytes) / Double(lines.count))
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

    func dataFileSize(_ directory: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent("data.mdb"))
        return (attributes[.size] as? NSNumber)?.intValue ?? 0
    }
}
