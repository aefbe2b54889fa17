import ArgumentParser
import Foundation
import Ledger
import LedgerBench

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure import, durable append and storage figures on synthetic ~1 KiB records (100 matters).")

    @Option(help: "Records to import.")
    var entries = 100_000

    @Option(help: "Single durable appends (one fsync each) to time.")
    var appends = 2_000

    @Option(help: ArgumentHelp("Scratch directory (removed afterwards); default under the temp directory.",
                               valueName: "dir"))
    var scratch: String?

    @Flag(help: ArgumentHelp("Keep the scratch directory (records.jsonl, the ledgers and their key files) "
                             + "for inspection or profiling; with --scale, every size's file and ledger."))
    var keepScratch = false

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Import files of each of these sizes into fresh ledgers, verify each, and print "
                               + "each size's rates and its import rate over the first size's (e.g. "
                               + "100000,1000000,10000000; 10M entries need ~25 GB of scratch).",
                               valueName: "n,n,…"))
    var scale: String?

    @Flag(help: ArgumentHelp("Time the real `ledger import` process (start to exit) on the generated file, as a "
                             + "user sees it; with --scale, at every size (alone: at --entries)."))
    var endToEnd = false

    func run() throws {
        guard entries > 0, appends > 0 else { throw ValidationError("--entries and --appends must be positive") }
        let dir = scratch ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("ledger-bench-\(getpid())")
        if scale != nil || endToEnd { return try runScale(sizes: try scaleSizes(), scratch: dir) }
        var bench = Benchmark(entries: entries, durableAppends: appends, scratch: dir)
        bench.keepInput = keepScratch
        defer { if !keepScratch { bench.cleanUp() } }
        var result = try bench.run { if !json { Terminal.note($0) } }
        if keepScratch { Terminal.note("scratch kept in \(dir)") }
        result.verifyPeakRSSBytes = try peakRSSOfVerify(bench.importedLedgerDirectory)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(String(format: "import:          %.0f records/s (%d records, %.2f s)",
                         result.importRecordsPerSecond, result.entries, result.importSeconds))
            print(String(format: "appender import: %.0f records/s (%.2fx the master-key import, same run)",
                         result.appenderImportRecordsPerSecond, result.appenderToMasterImportRatio))
            print(String(format: "recorded show:   %.2f ms (%.2f ms without its access entry)",
                         result.recordedShowMilliseconds, result.unrecordedShowMilliseconds))
            print(String(format: "durable append:  %.0f appends/s (%d appends, one fsync each)",
                         result.durableAppendsPerSecond, result.durableAppends))
            print(String(format: "storage:         %.0f bytes/entry, %.2fx the JSONL input",
                         result.ledgerBytesPerEntry, result.ledgerToInputRatio))
            print(String(format: "keyless verify:  %.0f entries/s", result.verifyEntriesPerSecond))
            print(String(format: "deep verify:     %.0f entries/s", result.deepVerifyEntriesPerSecond))
            if let rss = result.verifyPeakRSSBytes {
                print(String(format: "verify peak RSS: %.1f MiB (separate `ledger verify` process)",
                             Double(rss) / 1_048_576))
            }
        }
    }
}

extension Bench {
    /// The sizes of `--scale` (or `--entries` alone), each positive.
    func scaleSizes() throws -> [Int] {
        guard let scale else { return [entries] }
        let sizes = scale.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--scale takes positive entry counts separated by commas, e.g. 100000,1000000")
        }
        return sizes.compactMap { $0 }
    }

    func runScale(sizes: [Int], scratch dir: String) throws {
        var bench = ScaleBenchmark(sizes: sizes, scratch: dir)
        bench.endToEnd = endToEnd
        bench.keepFiles = keepScratch
        defer { if !keepScratch { try? FileManager.default.removeItem(atPath: dir) } }
        let steps = try bench.run(log: { if !json { Terminal.note($0) } }, peakRSS: peakRSSOfVerify)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(steps), as: UTF8.self))
            return
        }
        let how = endToEnd ? "`ledger import` process, start to exit" : "import call"
        for step in steps {
            print(String(format: "%10d entries: import %.0f records/s (%.2f s, %@; %.2fx the rate at %d; "
                         + "%.1f µs of CPU per record), keyless verify %.0f/s, deep verify %.0f/s, "
                         + "storage %.2fx the input, verify RSS %@",
                         step.entries, step.importRecordsPerSecond, step.importSeconds, how, step.importRateToFirst,
                         steps[0].entries, step.importCPUMicrosecondsPerRecord,
                         step.verifyEntriesPerSecond, step.deepVerifyEntriesPerSecond,
                         step.ledgerToInputRatio,
                         step.verifyPeakRSSBytes.map { String(format: "%.1f MiB", Double($0) / 1_048_576) } ?? "?"))
        }
    }
}

/// Runs `ledger verify` on `directory` as a child process and returns the peak resident memory it reports.
private func peakRSSOfVerify(_ directory: String) throws -> Int? {
    let process = Process()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
    process.arguments = ["verify", "--ledger", directory, "--verifier-key",
                         (directory as NSString).appendingPathComponent("verifier.key"), "--json"]
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchError.verifyProcessFailed(status: process.terminationStatus)
    }
    let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return (report?["peakResidentBytes"] as? NSNumber)?.intValue
}
