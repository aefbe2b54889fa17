import Foundation
import Ledger
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SIGKILL `ledger import` and `ledger append` at arbitrary points: every commit the tool reported survives,
/// nothing half-written is visible, `verify` stays clean, and re-running the import completes it without duplicates.
final class CrashTests: CLITestCase {
    static let recordCount = 30_000
    static let batchSize = 500

    /// A child `ledger` process with stdout and stderr going to files.
    private struct Child {
        let process: Process
        let stdout: URL
        let stderr: URL
        var output: String { (try? String(contentsOf: stdout, encoding: .utf8)) ?? "" }
        var errors: String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }
    }

    private func spawn(_ arguments: [String]) throws -> Child {
        let id = UUID().uuidString
        let out = temp.appendingPathComponent("child-\(id).out")
        let err = temp.appendingPathComponent("child-\(id).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = LedgerBinary.url!
        process.arguments = arguments + ["--ledger", ledgerDir.path, "--key-file", keyFile.path]
        process.environment = baseEnvironment()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return Child(process: process, stdout: out, stderr: err)
    }

    private func killHard(_ child: Child) {
        kill(child.process.processIdentifier, SIGKILL)
        child.process.waitUntilExit()
    }

    /// Committed entries, read directly (keyless, read-only) while a child may be writing.
    private func committedEntries() throws -> Int {
        let ledger = try Ledger.open(at: ledgerDir.path, readOnly: true)
        defer { ledger.close() }
        return Int(try ledger.size())
    }

    /// A decrypting command run on a fresh backup of the ledger: reads record an access entry, and the kills must
    /// find the ledger holding import batches only.
    private func readCopy(_ arguments: [String]) throws -> CLIResult {
        let copy = temp.appendingPathComponent("copy-\(UUID().uuidString)").path
        let backup = try ledger(["backup", "--ledger", ledgerDir.path, "--to", copy])
        XCTAssertEqual(backup.status, 0, backup.summary)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        return try ledger(arguments + ["--ledger", copy, "--key-file", keyFile.path])
    }

    /// `ledger verify` (keyless, pinned key) must exit 0; returns the entry count it saw.
    private func assertVerifies(_ pinned: String, _ context: String,
                                file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let r = try ledger(["verify", "--ledger", ledgerDir.path, "--verifier-key", pinned, "--json"])
        XCTAssertEqual(r.status, 0, "verify after \(context): \(r.summary)", file: file, line: line)
        return (try jsonObject(r.stdout, file: file, line: line)["entries"] as? Int) ?? -1
    }

    private func sourceIds(_ r: CLIResult) throws -> [String] {
        try r.stdoutLines.map { line in
            ((try jsonObject(line))["record"] as? [String: Any])?["sourceId"] as? String ?? "?"
        }
    }

    /// Records with unique sourceIds (c-0 …), dates spread over 2025–2026.
    private func importFile() throws -> String {
        var text = ""
        text.reserveCapacity(Self.recordCount * 330)
        for i in 0..<Self.recordCount {
            let month = 1 + (i / 28) % 12, day = 1 + i % 28, year = 2025 + (i / 336) % 2
            text += Sample.record(matter: "M-\(1000 + i % 37)", sourceId: "c-\(i)",
                                  occurredAt: String(format: "%04d-%02d-%02dT%02d:%02d:00Z",
                                                     year, month, day, i % 24, i % 60),
                                  subject: "Crash test record \(i)") + "\n"
        }
        return try write("big.jsonl", text)
    }

    /// When to SIGKILL a running import.
    private enum KillPoint {
        /// After a fixed delay (with 30k records these land in the validation pass: nothing may be written yet).
        case after(Double)
        /// As soon as at least `more` entries beyond those before the run are committed (mid-append).
        case whenCommitted(more: Int)
    }

    func testKilledImportLosesNothingCommittedAndResumes() throws {
        let started = Date()
        let pinned = try write("pinned.key", try initLedger() + "\n")
        let input = try importFile()
        let importArguments = ["import", input, "--batch-size", String(Self.batchSize)]
        var committed = 0
        var kills = [String]()

        for point in [KillPoint.after(0.2), .after(0.5), .after(1.0),
                      .whenCommitted(more: 1), .whenCommitted(more: 4000)] {
            let before = committed
            let child = try spawn(importArguments)
            let context: String
            switch point {
            case .after(let delay):
                context = "a kill after \(delay) s"
                Thread.sleep(forTimeInterval: delay)
            case .whenCommitted(let more):
                context = "a kill once \(more) more entries were committed"
                let deadline = Date().addingTimeInterval(40)
                while child.process.isRunning, try committedEntries() < before + more, Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.002)
                }
            }
            let finished = !child.process.isRunning
            killHard(child)
            if finished {
                // The import won the race: it must have completed cleanly.
                XCTAssertEqual(child.process.terminationStatus, 0, "\(context): \(child.errors)")
            } else {
                XCTAssertEqual(child.process.terminationReason, .uncaughtSignal, context)
            }
            XCTAssertEqual(child.output, "", "\(context): a killed import reported a result")
            committed = try assertVerifies(pinned, context)
            kills.append("\(context): \(committed) entries")
            XCTAssertGreaterThanOrEqual(committed, before, "\(context): committed entries vanished")
            XCTAssertTrue(committed % Self.batchSize == 0 || committed == Self.recordCount,
                          "\(context): \(committed) entries is not a whole number of batches")
            guard case .whenCommitted(let more) = point else { continue }
            XCTAssertGreaterThanOrEqual(committed, before + more,
                                        "\(context): the poll saw entries that verify does not")
            XCTAssertLessThan(committed, Self.recordCount, "\(context): the kill came too late to interrupt the import")
            if before == 0 {
                // The committed prefix is exactly the first records of the file, in order.
                let list = try readCopy(["list", "--json"])
                XCTAssertEqual(list.status, 0, list.summary)
                XCTAssertEqual(try sourceIds(list), (0..<committed).map { "c-\($0)" }, context)
            } else {
                for seq in [0, before, committed - 1] {
                    let shown = try readCopy(["show", String(seq), "--json"])
                    XCTAssertEqual(shown.status, 0, shown.summary)
                    XCTAssertEqual(try sourceIds(shown), ["c-\(seq)"], context)
                }
            }
        }
        XCTAssertGreaterThan(committed, 0)

        // Re-running the same import completes it: only what is missing is appended.
        let rerun = try ledgerWithKey(importArguments)
        XCTAssertEqual(rerun.status, 0, rerun.summary)
        let counts = try importCounts(rerun)
        XCTAssertEqual(counts.imported + counts.skipped, Self.recordCount, rerun.stdout)
        XCTAssertEqual(counts.skipped, committed,
                       "duplicates skipped should be exactly the entries committed before: \(rerun.stdout)")
        XCTAssertEqual(try assertVerifies(pinned, "the completed import"), Self.recordCount)

        // No duplicates: once more, every one of the 30000 sourceIds is already present (so 30000 entries hold
        // 30000 distinct sourceIds) — checked through the source index, which verify proved agrees with the leaves.
        let again = try ledgerWithKey(importArguments)
        XCTAssertEqual(again.status, 0, again.summary)
        XCTAssertEqual(try importCounts(again).imported, 0)
        XCTAssertEqual(try importCounts(again).skipped, Self.recordCount)
        // And in decrypted form, for one matter (decrypting all 30000 takes ~20 s in a debug build):
        // every record of that matter exactly once, in file order.
        let matter = try ledgerWithKey(["list", "--json", "--matter", "M-1005"])
        XCTAssertEqual(matter.status, 0, matter.summary)
        XCTAssertEqual(try sourceIds(matter), stride(from: 5, to: Self.recordCount, by: 37).map { "c-\($0)" })
        let first = try ledgerWithKey(["show", "0", "--json"]),
            last = try ledgerWithKey(["show", String(Self.recordCount - 1), "--json"])
        XCTAssertEqual(try sourceIds(first) + sourceIds(last), ["c-0", "c-\(Self.recordCount - 1)"])
        print("CrashTests import: \(kills.joined(separator: "; ")); "
              + "completed with \(rerun.stdout.trimmingCharacters(in: .newlines)); "
              + "total \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    private func importCounts(_ r: CLIResult, file: StaticString = #filePath,
                              line: UInt = #line) throws -> (imported: Int, skipped: Int) {
        let text = r.stdout.trimmingCharacters(in: .newlines)
        let pattern = try NSRegularExpression(pattern: #"^imported (\d+), skipped (\d+) duplicates, rejected 0$"#)
        guard let match = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let x = Int(text[Range(match.range(at: 1), in: text)!]),
              let y = Int(text[Range(match.range(at: 2), in: text)!]) else {
            XCTFail("unexpected import output: \(r.summary)", file: file, line: line)
            return (-1, -1)
        }
        return (x, y)
    }

    func testKilledAppendsLoseNothingReported() throws {
        let started = Date()
        let pinned = try write("pinned.key", try initLedger() + "\n")
        let loop = AppendLoop()
        let ledgerDir = self.ledgerDir, keyFile = self.keyFile, temp = self.temp!
        let environment = baseEnvironment()
        let worker = Thread {
            var i = 0
            while !loop.stopped {
                let id = "a-\(i)"
                i += 1
                let recordURL = temp.appendingPathComponent("append-\(id).json")
                let out = temp.appendingPathComponent("append-\(id).out")
                do {
                    try Data(Sample.record(sourceId: id, subject: "Append \(id)").utf8).write(to: recordURL)
                    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
                    let process = Process()
                    process.executableURL = LedgerBinary.url!
                    process.arguments = ["append", recordURL.path, "--ledger", ledgerDir.path,
                                         "--key-file", keyFile.path]
                    process.environment = environment
                    process.standardInput = FileHandle.nullDevice
                    process.standardOutput = try FileHandle(forWritingTo: out)
                    process.standardError = FileHandle.nullDevice
                    guard loop.start(process) else { break }
                    process.waitUntilExit()
                    loop.finished(process)
                    // Whatever it printed before it ended (even if killed) counts as reported.
                    let printed = try String(contentsOf: out, encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                    if let seq = Int(printed) { loop.reported(seq: seq, sourceId: id) }
                    if process.terminationReason == .exit && process.terminationStatus != 0 {
                        loop.failed(id, process.terminationStatus)
                    }
                } catch {
                    loop.failed(id, -1)
                    break
                }
            }
            loop.done()
        }
        worker.start()
        var landed = 0
        for round in 0..<8 {
            Thread.sleep(forTimeInterval: 0.15 + 0.07 * Double(round % 4))
            if loop.killCurrent() { landed += 1 }
        }
        loop.stop()
        while !loop.isDone { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertGreaterThan(landed, 0, "no kill landed on a running append")
        XCTAssertEqual(loop.failures, [], "appends failed (other than by being killed)")

        let entries = try assertVerifies(pinned, "killed appends")
        let reportedList = loop.reportedList
        let reported = Dictionary(reportedList, uniquingKeysWith: { first, _ in first })
        XCTAssertGreaterThan(reported.count, 0)
        XCTAssertEqual(reported.count, reportedList.count, "two appends reported the same seq")
        // Every printed seq is committed and holds the record that was appended; nothing beyond what was started.
        XCTAssertGreaterThanOrEqual(entries, reported.count)
        XCTAssertLessThanOrEqual(entries, loop.startedCount)
        let list = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(list.status, 0, list.summary)
        let ids = try sourceIds(list)
        XCTAssertEqual(ids.count, entries)
        XCTAssertEqual(Set(ids).count, ids.count, "an append was recorded twice")
        for (seq, id) in reported.sorted(by: { $0.key < $1.key }) {
            XCTAssertLessThan(seq, entries, "reported seq \(seq) is missing")
            guard seq < ids.count else { continue }
            XCTAssertEqual(ids[seq], id, "seq \(seq)")
        }
        // `show` returns a few of them, including the last one reported.
        for seq in [reported.keys.min()!, reported.keys.max()!] {
            let shown = try ledgerWithKey(["show", String(seq), "--json"])
            XCTAssertEqual(shown.status, 0, shown.summary)
            XCTAssertEqual(try sourceIds(shown), [reported[seq]!])
        }
        print("CrashTests append: \(loop.startedCount) started, \(reported.count) reported, "
              + "\(landed) kills landed, \(entries) entries; "
              + "\(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}

/// State shared between the append loop thread and the test.
private final class AppendLoop: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Process?
    private var _stopped = false
    private var _done = false
    private var _started = 0
    private var _reported = [(seq: Int, sourceId: String)]()
    private var _failures = [String]()

    var stopped: Bool { lock.withLock { _stopped } }
    var isDone: Bool { lock.withLock { _done } }
    var startedCount: Int { lock.withLock { _started } }
    var reportedList: [(seq: Int, sourceId: String)] { lock.withLock { _reported } }
    var failures: [String] { lock.withLock { _failures } }

    /// Runs the process unless the loop was stopped; it stays killable until `finished`.
    func start(_ process: Process) -> Bool {
        lock.withLock {
            guard !_stopped, (try? process.run()) != nil else { return false }
            current = process
            _started += 1
            return true
        }
    }

    func finished(_ process: Process) { lock.withLock { if current === process { current = nil } } }

    /// SIGKILLs the running append, if one is running; true when a kill was sent.
    func killCurrent() -> Bool {
        lock.withLock {
            guard let current, current.isRunning else { return false }
            kill(current.processIdentifier, SIGKILL)
            return true
        }
    }

    func reported(seq: Int, sourceId: String) { lock.withLock { _reported.append((seq, sourceId)) } }
    func failed(_ id: String, _ status: Int32) { lock.withLock { _failures.append("\(id): exit \(status)") } }
    func stop() { lock.withLock { _stopped = true } }
    func done() { lock.withLock { _done = true } }
}
