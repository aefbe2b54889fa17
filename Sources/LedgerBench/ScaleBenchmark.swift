import Foundation
import Ledger
import LedgerFormat
import RecordFormats

/// `ledger bench --scale N,M,…` and `--end-to-end`: for each size, a generated file of that many records imported
/// into a fresh ledger (in this process, or by a real `ledger import` process timed from start to exit), then
/// keyless and deep verification of the result, so that the rate at each size can be compared with the first.
public struct ScaleBenchmark {
    public struct Step: Sendable, Codable {
        public var entries: Int
        public var inputBytes: Int
        public var endToEnd: Bool
        public var importSeconds: Double
        public var importRecordsPerSecond: Double
        /// This size's import rate over the first size's, measured in the same run.
        public var importRateToFirst: Double
        /// CPU time (user + system, every thread) the import took per record, in microseconds: on a shared machine
        /// the wall-clock rate follows the neighbours' load, the CPU time much less.
        public var importCPUMicrosecondsPerRecord: Double
        public var ledgerBytes: Int
        public var ledgerToInputRatio: Double
        public var verifyEntriesPerSecond: Double
        public var deepVerifyEntriesPerSecond: Double
        /// Peak resident memory of a separate keyless `ledger verify` process (filled in by the caller's probe).
        public var verifyPeakRSSBytes: Int?
    }

    public var sizes: [Int]
    public var scratch: String
    /// Time the `ledger import` process (`executable import …`) from start to exit instead of the call.
    public var endToEnd = false
    /// The `ledger` binary for `endToEnd` (the running one, from the CLI).
    public var executable: String?
    /// Keep every size's generated file and ledger (`--keep-scratch`); otherwise each is removed once measured.
    public var keepFiles = false

    public init(sizes: [Int], scratch: String) {
        self.sizes = sizes
        self.scratch = scratch
    }

    /// Runs every size in turn; each size's input and ledger are removed before the next (10M entries are ~25 GB),
    /// unless `keepFiles`.
    /// `peakRSS(directory)` measures a verify process over a ledger.
    public func run(log: (String) -> Void, peakRSS: (String) throws -> Int?) throws -> [Step] {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var steps = [Step]()
        for size in sizes {
            var step = try measure(size, log: log)
            step.importRateToFirst = step.importRecordsPerSecond / (steps.first ?? step).importRecordsPerSecond
            step.verifyPeakRSSBytes = try peakRSS(path("ledger-\(size)"))
            if !keepFiles { try? FileManager.default.removeItem(atPath: path("ledger-\(size)")) }
            steps.append(step)
            log(String(format: "%d entries: import %.0f records/s (%.2fx the rate at %d), %.1f µs of CPU per record",
                       size, step.importRecordsPerSecond, step.importRateToFirst, steps[0].entries,
                       step.importCPUMicrosecondsPerRecord))
        }
        return steps
    }

    private func measure(_ size: Int, log: (String) -> Void) throws -> Step {
        let input = path("records-\(size).jsonl")
        let inputBytes = try Self.writeRecords(size, to: input)
        defer { if !keepFiles { try? FileManager.default.removeItem(atPath: input) } }
        log("generated \(size) records (\(inputBytes) bytes)")
        let directory = path("ledger-\(size)"), key = path("ledger-\(size).key")
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: key)
        let created = try Ledger.create(at: directory, origin: "bench.invalid/scale-\(size)",
                                        masterKey: .keyFile(path: key, allowInsideLedger: false))
        let importSeconds: Double
        let cpuBefore = Self.cpuSeconds(endToEnd ? RUSAGE_CHILDREN : RUSAGE_SELF)
        if endToEnd {
            created.close()
            importSeconds = try timedImportProcess(input, directory: directory, key: key)
        } else {
            try created.unlock(with: .keyFile(path: key))
            let started = DispatchTime.now()
            let summary = try created.importRecords(from: input)
            importSeconds = Self.seconds(since: started)
            guard summary.imported == size else { throw BenchError.importedFewer(summary.imported, of: size) }
            created.close()
        }
        let cpu = Self.cpuSeconds(endToEnd ? RUSAGE_CHILDREN : RUSAGE_SELF) - cpuBefore
        log(String(format: "%d entries: imported in %.2f s", size, importSeconds))
        let ledger = try Ledger.open(at: directory)
        defer { ledger.close() }
        try ledger.unlock(with: .keyFile(path: key))
        let keyless = try timedVerify(ledger, deep: false, size: size)
        let deep = try timedVerify(ledger, deep: true, size: size)
        let ledgerBytes = ledger.dataFileSize()
        return Step(entries: size, inputBytes: inputBytes, endToEnd: endToEnd, importSeconds: importSeconds,
                    importRecordsPerSecond: Double(size) / importSeconds, importRateToFirst: 1,
                    importCPUMicrosecondsPerRecord: cpu * 1e6 / Double(size),
                    ledgerBytes: ledgerBytes, ledgerToInputRatio: Double(ledgerBytes) / Double(inputBytes),
                    verifyEntriesPerSecond: Double(size) / keyless, deepVerifyEntriesPerSecond: Double(size) / deep,
                    verifyPeakRSSBytes: nil)
    }

    /// Seconds from starting `ledger import --ledger DIR --key-file KEY INPUT` to its exit (which must be 0).
    private func timedImportProcess(_ input: String, directory: String, key: String) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? "/proc/self/exe")
        process.arguments = ["import", "--ledger", directory, "--key-file", key, input]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let started = DispatchTime.now()
        try process.run()
        process.waitUntilExit()
        let elapsed = Self.seconds(since: started)
        guard process.terminationStatus == 0 else {
            throw BenchError.importProcessFailed(status: process.terminationStatus)
        }
        return elapsed
    }

    private func timedVerify(_ ledger: Ledger, deep: Bool, size: Int) throws -> Double {
        let started = DispatchTime.now()
        let report = try ledger.verify(VerifyOptions(pinnedVerifierKey: ledger.storedVerifierKey, deep: deep))
        let elapsed = Self.seconds(since: started)
        guard report.isIntact, report.entries >= UInt64(size) else {
            throw BenchError.didNotVerify(report.violations.first.map(String.init(describing:)) ?? "wrong size")
        }
        return elapsed
    }

    /// Writes `count` sample records as JSON lines, 50,000 at a time (10M records do not fit in memory), and
    /// flushes the file to disk so that the import does not pay for writing it back. Returns its size.
    static func writeRecords(_ count: Int, to path: String) throws -> Int {
        guard FileManager.default.createFile(atPath: path, contents: nil,
                                             attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var samples = SampleRecords()
        var buffer = [UInt8]()
        var written = 0
        for start in stride(from: 0, to: count, by: 50_000) {
            buffer.removeAll(keepingCapacity: true)
            for index in start..<min(count, start + 50_000) {
                JSONWriter.write(samples.next(index: index), into: &buffer)
                buffer.append(0x0a)
            }
            try handle.write(contentsOf: buffer)
            written += buffer.count
        }
        try handle.synchronize()
        return written
    }

    private func path(_ name: String) -> String { (scratch as NSString).appendingPathComponent(name) }

    /// User + system CPU seconds of this process (`RUSAGE_SELF`) or of its children that have exited.
    private static func cpuSeconds(_ who: __rusage_who) -> Double {
        let who = __rusage_who_t(who.rawValue)
        var usage = rusage()
        getrusage(who, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
