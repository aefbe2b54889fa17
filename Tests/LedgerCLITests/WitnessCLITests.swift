import Foundation
import XCTest

/// `ledger witness serve` processes on loopback and the ledger's `witness add`, `checkpoint --witness` and
/// `verify --policy` against them. Every server is stopped (SIGTERM) in teardown.
final class WitnessCLITests: CLITestCase {
    private var servers: [Process] = []

    override func tearDownWithError() throws {
        for server in servers where server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
        servers = []
        try super.tearDownWithError()
    }

    private static let record = #"{"matter":"M-1","author":"a@firm.example","channel":"email","direction":"outbound","#
        + #""kind":"update","occurredAt":"2026-03-01T14:30:00Z","summary":"S"}"#

    private func path(_ name: String) -> String { temp.appendingPathComponent(name).path }

    /// A witness key (`witness keygen`): its vkey.
    private func keygen(_ name: String) throws -> String {
        let r = try ledger(["witness", "keygen", "--name", name, "--key-file", path("\(name).key")])
        XCTAssertEqual(r.status, 0, r.summary)
        return r.stdout.trimmingCharacters(in: .newlines)
    }

    /// Starts `ledger witness serve` on 127.0.0.1:0 and returns the process and its base URL.
    private func serve(_ name: String, logKey: String) throws -> (Process, String) {
        let out = temp.appendingPathComponent("\(name)-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: temp.appendingPathComponent("\(name).err").path, contents: nil)
        let process = Process()
        process.executableURL = LedgerBinary.url!
        process.arguments = ["witness", "serve", "--listen", "127.0.0.1:0", "--state", path("\(name)-state"),
                             "--key-file", path("\(name).key"), "--log", logKey]
        var environment = baseEnvironment()
        environment["LEDGER_LOG_LEVEL"] = "info"
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: temp.appendingPathComponent("\(name).err"))
        try process.run()
        servers.append(process)
        // Wait for its "listening on HOST:PORT" line (bounded; not a timing assertion).
        for _ in 0..<1200 {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                return (process, "http://" + line.dropFirst("listening on ".count))
            }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        throw CLIError(description: "witness \(name) did not start: "
                       + ((try? String(contentsOf: temp.appendingPathComponent("\(name).err"), encoding: .utf8)) ?? ""))
    }

    private func stop(_ process: Process) {
        process.terminate()
        process.waitUntilExit()
    }

    private func witnessCheckpoint(_ dir: URL, _ extra: [String] = []) throws -> CLIResult {
        try ledger(["checkpoint", "--witness", "--witness-timeout", "20", "--ledger", dir.path,
                    "--key-file", keyFile.path] + extra)
    }

    private func append(_ dir: URL, _ summary: String) throws {
        let file = try write("r-\(UUID().uuidString).json", Self.record.replacingOccurrences(of: "\"S\"", with: "\"\(summary)\""))
        let r = try ledger(["append", file, "--ledger", dir.path, "--key-file", keyFile.path])
        XCTAssertEqual(r.status, 0, r.summary)
    }

    private func verifyPolicy(_ dir: URL, json: Bool = false) throws -> CLIResult {
        try ledger(["verify", "--ledger", dir.path, "--policy", dir.appendingPathComponent("witnesses.policy").path]
                   + (json ? ["--json"] : []))
    }

    func testTwoWitnessesQuorumDownWitnessAndPythonCheck() throws {
        let logKey = try initLedger()
        try append(ledgerDir, "one")
        let (a, b) = (try keygen("a.witness.example"), try keygen("b.witness.example"))
        let (_, urlA) = try serve("a.witness.example", logKey: logKey)
        let (serverB, urlB) = try serve("b.witness.example", logKey: logKey)
        for (name, vkey, url) in [("a.witness.example", a, urlA), ("b.witness.example", b, urlB)] {
            let r = try ledger(["witness", "add", name, vkey, url, "--ledger", ledgerDir.path, "--quorum", "all"])
            XCTAssertEqual(r.status, 0, r.summary)
        }
        let list = try ledger(["witness", "list", "--json", "--ledger", ledgerDir.path])
        XCTAssertTrue(list.stdout.contains(#""quorum":"all""#), list.summary)

        let ok = try witnessCheckpoint(ledgerDir, ["--json"])
        XCTAssertEqual(ok.status, 0, ok.summary)
        XCTAssertTrue(ok.stdout.contains(#""quorumMet":true"#), ok.summary)
        let clean = try verifyPolicy(ledgerDir, json: true)
        XCTAssertEqual(clean.status, 0, clean.summary)
        XCTAssertTrue(clean.stdout.contains(#""witnessedBy":["a.witness.example","b.witness.example"]"#), clean.summary)

        // Python `cryptography` checks witness a's cosignature over the exact cosignature/v1 message.
        let noteFile = try write("cosigned.note", try storedNote(ok.stdout))
        let script = LedgerBinary.packageRoot.appendingPathComponent("tools/interop/cosig_check.py").path
        let python = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, a, noteFile],
                                    environment: baseEnvironment(), scratch: temp)
        if python.status == 2, python.stderr.contains("No module named") {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail(python.summary) }
            throw XCTSkip("Python `cryptography` is missing: run `bash tools/install-deps.sh`")
        }
        XCTAssertEqual(python.status, 0, python.summary)
        XCTAssertTrue(python.stdout.contains("valid cosignature/v1 by a.witness.example"), python.summary)

        // Witness b goes down: quorum all fails naming it; quorum any passes.
        stop(serverB)
        try append(ledgerDir, "two")
        let down = try witnessCheckpoint(ledgerDir)
        XCTAssertEqual(down.status, 69, down.summary)
        XCTAssertTrue(down.stderr.contains("witness b.witness.example: unavailable"), down.summary)
        XCTAssertEqual(try verifyPolicy(ledgerDir).status, 1, "the newest checkpoint lacks b's cosignature")
        XCTAssertEqual(try ledger(["witness", "quorum", "any", "--ledger", ledgerDir.path]).status, 0)
        let any = try witnessCheckpoint(ledgerDir)
        XCTAssertEqual(any.status, 0, any.summary)
        let passes = try verifyPolicy(ledgerDir)
        XCTAssertEqual(passes.status, 0, passes.summary)
    }

    /// A ledger holding `records`, with one witness (a.witness.example) serving it on loopback and added to its
    /// policy, and a copy of the ledger as it is now (the same key and origin) that never asked the witness.
    private func witnessedLedgerAndCopy(_ records: [String]) throws -> URL {
        let logKey = try initLedger()
        for record in records { try append(ledgerDir, record) }
        let a = try keygen("a.witness.example")
        let (_, url) = try serve("a.witness.example", logKey: logKey)
        XCTAssertEqual(try ledger(["witness", "add", "a.witness.example", a, url, "--ledger", ledgerDir.path]).status, 0)
        let copy = temp.appendingPathComponent("copy")
        try FileManager.default.copyItem(at: ledgerDir, to: copy)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("lock.mdb"))
        return copy
    }

    func testConflictResendRollbackAndForkCaughtByVerifyPolicy() throws {
        // The copy stays at size 2.
        let copy = try witnessedLedgerAndCopy(["one", "two"])

        try append(ledgerDir, "three")
        let first = try witnessCheckpoint(ledgerDir)
        XCTAssertEqual(first.status, 0, first.summary)

        // Rollback: the copy holds 2 entries, the witness cosigned 3.
        let rollback = try witnessCheckpoint(copy)
        XCTAssertEqual(rollback.status, 1, rollback.summary)
        XCTAssertTrue(rollback.stderr.contains("it reports having cosigned size 3 > ledger size 2 (rollback"), rollback.summary)

        // Fork: the copy's third entry differs; same size 3, another root.
        try append(copy, "another three")
        let fork = try witnessCheckpoint(copy, ["--json"])
        XCTAssertEqual(fork.status, 1, fork.summary)
        XCTAssertTrue(fork.stdout.contains(#""status":"fork""#), fork.summary)
        let caught = try verifyPolicy(copy, json: true)
        XCTAssertEqual(caught.status, 1, caught.summary)
        XCTAssertTrue(caught.stdout.contains(#""class":"witness-refusal""#), caught.summary)
        let text = try verifyPolicy(copy)
        XCTAssertTrue(text.stdout.contains(
            "witness a.witness.example refused checkpoint size 3: it reports holding size 3 with another root (fork"),
            text.summary)

        // The original grows: the witness is at 3, so it answers the copy... and cosigns the original from 3.
        try append(ledgerDir, "four")
        let grown = try witnessCheckpoint(ledgerDir)
        XCTAssertEqual(grown.status, 0, grown.summary)
        let clean = try verifyPolicy(ledgerDir)
        XCTAssertEqual(clean.status, 0, clean.summary)
    }

    func testConflictAnswerIsFollowedFromTheWitnessSize() throws {
        let copy = try witnessedLedgerAndCopy(["one"])
        XCTAssertEqual(try witnessCheckpoint(ledgerDir).status, 0)
        // The copy has no record of the witness: it sends old 0, gets 409 with size 1, resends from 1.
        try append(copy, "two")
        let resent = try witnessCheckpoint(copy, ["--json"])
        XCTAssertEqual(resent.status, 0, resent.summary)
        XCTAssertTrue(resent.stdout.contains(#""status":"cosigned""#), resent.summary)
        let log = try String(contentsOf: temp.appendingPathComponent("a.witness.example.err"), encoding: .utf8)
        XCTAssertTrue(log.contains("409"), log)
    }

    func testKeyFilesAreGuarded() throws {
        let logKey = try initLedger()
        _ = try keygen("w.example")
        let again = try ledger(["witness", "keygen", "--name", "w.example", "--key-file", path("w.example.key")])
        XCTAssertEqual(again.status, 77, again.summary)
        chmod(path("w.example.key"), 0o644)
        let open = try ledger(["witness", "serve", "--listen", "127.0.0.1:0", "--state", path("s"),
                               "--key-file", path("w.example.key"), "--log", logKey])
        XCTAssertEqual(open.status, 77, open.summary)
        XCTAssertFalse(open.stderr.contains("PRIVATE"), open.summary)
    }

    /// The cosigned note in `checkpoint --witness --json` output.
    private func storedNote(_ json: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return try XCTUnwrap(object?["note"] as? String)
    }
}
