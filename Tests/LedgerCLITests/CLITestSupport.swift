import Foundation
import XCTest

/// What one run of the `ledger` binary did.
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
    let stdoutBytes: Data

    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    /// A one-line description for assertion messages.
    var summary: String { "exit \(status)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
}

/// Finds the built `ledger` executable: next to the test bundle (same build configuration), then
/// `.build/{debug,release}/ledger` under the package root. `LEDGER_BINARY` overrides both.
enum LedgerBinary {
    static let url: URL? = locate()

    static func locate() -> URL? {
        let fm = FileManager.default
        var candidates = [URL]()
        if let explicit = ProcessInfo.processInfo.environment["LEDGER_BINARY"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        // The xctest bundle lives in .build/<triple>/<config>/; so does the `ledger` product.
        for bundle in [Bundle(for: Marker.self), Bundle.main] {
            var dir = bundle.bundleURL
            for _ in 0..<3 {
                candidates.append(dir.appendingPathComponent("ledger"))
                dir = dir.deletingLastPathComponent()
            }
        }
        // #filePath: <root>/Tests/LedgerCLITests/CLITestSupport.swift
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/ledger"))
        candidates.append(root.appendingPathComponent(".build/release/ledger"))
        return candidates.first { url in
            var isDirectory: ObjCBool = false
            return fm.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && fm.isExecutableFile(atPath: url.path)
        }
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    private final class Marker {}
}

/// Runs a program with its own environment, stdin from bytes (or /dev/null), stdout and stderr captured via files
/// (no pipe can fill up and deadlock).
func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String], stdin: Data? = nil,
                scratch: URL, directory: URL? = nil) throws -> CLIResult {
    let id = UUID().uuidString
    let outURL = scratch.appendingPathComponent("stdout-\(id)")
    let errURL = scratch.appendingPathComponent("stderr-\(id)")
    let inURL = scratch.appendingPathComponent("stdin-\(id)")
    defer {
        for url in [outURL, errURL, inURL] { try? FileManager.default.removeItem(at: url) }
    }
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment
    if let directory { process.currentDirectoryURL = directory }
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    defer {
        try? out.close()
        try? err.close()
    }
    process.standardOutput = out
    process.standardError = err
    if let stdin {
        try stdin.write(to: inURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    process.waitUntilExit()
    let stdoutData = try Data(contentsOf: outURL)
    let stderrData = try Data(contentsOf: errURL)
    return CLIResult(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                     stderr: String(decoding: stderrData, as: UTF8.self), stdoutBytes: stdoutData)
}

/// Base class: a fresh temp directory per test, a ledger location inside it, helpers to run `ledger`.
class CLITestCase: XCTestCase {
    /// The test's own directory; removed afterwards.
    var temp: URL!
    /// Where `init` creates the ledger (does not exist until then).
    var ledgerDir: URL { temp.appendingPathComponent("ledger") }
    /// The master key file `init` creates, outside the ledger directory.
    var keyFile: URL { temp.appendingPathComponent("keys/master.key") }

    static let origin = "example-firm.com/client-ledger"

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard LedgerBinary.url != nil else {
            XCTFail("the `ledger` binary was not found next to the test bundle nor in .build/{debug,release}; "
                    + "run `swift build` (or set LEDGER_BINARY)")
            throw CLIError(description: "ledger binary missing")
        }
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-cli-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp.appendingPathComponent("keys"),
                                                withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let temp {
            // A key file may have been chmod-ed; removal only needs the directory to be writable.
            try? FileManager.default.removeItem(at: temp)
        }
        try super.tearDownWithError()
    }

    /// The environment every run starts from: the test's own, minus anything that would pick a ledger or key for us.
    func baseEnvironment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for name in ["LEDGER_DIR", "LEDGER_KEY_FILE", "LEDGER_PASSPHRASE_FILE", "LEDGER_LOG_LEVEL"] { env[name] = nil }
        return env
    }

    /// Runs `ledger ARGS`. Keys are passed by path (`--key-file`) or in `env`; never a secret in argv.
    /// `directory`: the working directory (relative paths in `arguments`); the test's own otherwise.
    @discardableResult
    func ledger(_ arguments: [String], env: [String: String] = [:], stdin: Data? = nil,
                directory: URL? = nil) throws -> CLIResult {
        var environment = baseEnvironment()
        for (k, v) in env { environment[k] = v }
        return try runProcess(LedgerBinary.url!, arguments, environment: environment, stdin: stdin, scratch: temp,
                              directory: directory)
    }

    /// `ledger ARGS --ledger DIR --key-file KEY` for the test's ledger.
    @discardableResult
    func ledgerWithKey(_ arguments: [String], stdin: Data? = nil) throws -> CLIResult {
        try ledger(arguments + ["--ledger", ledgerDir.path, "--key-file", keyFile.path], stdin: stdin)
    }

    /// Creates the test's ledger and returns the printed verifier key.
    @discardableResult
    /// `ledger init`; `storageFormat` pins an older storage format (tests of rows of `entries`: format 2).
    func initLedger(storageFormat: Int? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try ledger(["init", "--ledger", ledgerDir.path, "--origin", Self.origin, "--key-file", keyFile.path]
                           + (storageFormat.map { ["--storage-format", String($0)] } ?? []))
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        return r.stdout.trimmingCharacters(in: .newlines)
    }

    /// Writes `contents` to a file in the test directory and returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        try write(name, Data(contents.utf8))
    }

    @discardableResult
    func write(_ name: String, _ contents: Data) throws -> String {
        let url = temp.appendingPathComponent(name)
        try contents.write(to: url)
        return url.path
    }

    /// Appends a record from a file and returns the printed seq.
    @discardableResult
    func appendRecord(_ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = try write("record-\(UUID().uuidString).json", json)
        let r = try ledgerWithKey(["append", path])
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        return r.stdout.trimmingCharacters(in: .newlines)
    }

    /// The bytes of every file in the ledger directory that holds data (lock.mdb only holds reader slots).
    func ledgerSnapshot() throws -> [String: Data] {
        var snapshot = [String: Data]()
        for name in try FileManager.default.contentsOfDirectory(atPath: ledgerDir.path) where name != "lock.mdb" {
            snapshot[name] = try Data(contentsOf: ledgerDir.appendingPathComponent(name))
        }
        XCTAssertNotNil(snapshot["data.mdb"], "the ledger has no data.mdb")
        return snapshot
    }

    /// Asserts that the ledger's files are byte-identical to `before`.
    func assertUnchanged(_ before: [String: Data], _ message: String,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let after = try ledgerSnapshot()
        XCTAssertEqual(Set(before.keys), Set(after.keys), "files appeared or vanished: \(message)",
                       file: file, line: line)
        for (name, data) in before {
            XCTAssertTrue(after[name] == data, "\(name) changed: \(message)", file: file, line: line)
        }
    }

    /// The number of entries, via `list --json`.
    /// JSON lines of `objects`, keys sorted: how a test rewrites a bundle's entries.jsonl or access-log.jsonl.
    /// Python helpers for the rezip scripts: `load_manifest(files)` is the manifest's JSON (manifest.note's second
    /// line, or v1's manifest.json) as a dict; `store_manifest(files, m)` writes it back canonically. A v2 manifest
    /// keeps its old signature block: the tests cannot sign with the firm's key, so a re-hash is an attacker's and
    /// the verifiers name it [manifest] ("the signature does not verify").
    static let pythonManifestHelpers = """
    def load_manifest(files):
        if "manifest.note" in files:
            return json.loads(files["manifest.note"].decode().split("\\n")[1])
        return json.loads(files["manifest.json"])

    def store_manifest(files, m):
        own = "manifest.note" if "manifest.note" in files else "manifest.json"
        m["files"] = {n: hashlib.sha256(b).hexdigest() for n, b in files.items() if n != own}
        line = json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if own == "manifest.json":
            files[own] = (line + "\\n").encode()
        else:
            text = files[own].decode()
            block = text[text.rfind("\\n\\n") + 2:]
            files[own] = ("client-ledger export manifest v2\\n" + line + "\\n\\n" + block).encode()

    """

    /// The manifest's JSON object, from manifest.note (v2) or manifest.json (v1).
    func manifestObject(_ files: [String: Data]) throws -> [String: Any] {
        if let note = files["manifest.note"] {
            let lines = String(decoding: note, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            return try jsonObject(String(lines[1]))
        }
        return try jsonObject(String(decoding: try XCTUnwrap(files["manifest.json"]), as: UTF8.self))
    }

    func jsonlData(_ objects: [[String: Any]]) throws -> Data {
        var out = Data()
        for object in objects {
            out.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            out.append(0x0a)
        }
        return out
    }

    /// Every file of a bundle (zip), extracted by Python's zipfile: independent of the product's zip code.
    func unzipWithPython(_ bundle: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Data] {
        let dir = temp.appendingPathComponent("unzip-\(UUID().uuidString)")
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-m", "zipfile", "-e", bundle, dir.path],
                               environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        var files = [String: Data]()
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            files[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return files
    }

    func entryCount(file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let r = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        return r.stdoutLines.count
    }

    func jsonObject(_ line: String, file: StaticString = #filePath,
                    line sourceLine: UInt = #line) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(line.utf8))
        guard let object = value as? [String: Any] else {
            XCTFail("not a JSON object: \(line)", file: file, line: sourceLine)
            return [:]
        }
        return object
    }
}

/// Sample records (JSON text). Values are fictitious.
enum Sample {
    static func record(matter: String = "M-2026-001", sourceId: String? = nil,
                       occurredAt: String = "2026-03-01T14:30:00+01:00",
                       subject: String = "Status of the lease dispute", extra: String = "") -> String {
        var fields = [
            #""matter":"\#(matter)""#,
            #""client":"Acme Holdings""#,
            #""author":"J. Rivera""#,
            #""channel":"email""#,
            #""direction":"outbound""#,
            #""kind":"update""#,
            #""occurredAt":"\#(occurredAt)""#,
            #""subject":"\#(subject)""#,
            #""summary":"Explained the landlord's offer; client will decide by Friday.""#,
        ]
        if let sourceId { fields.append(#""sourceSystem":"pms","sourceId":"\#(sourceId)""#) }
        if !extra.isEmpty { fields.append(extra) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// `count` JSON lines with distinct sourceIds, two matters, one per day from 2026-03-01.
    static func jsonl(count: Int, prefix: String = "src") -> String {
        (0..<count).map { i in
            record(matter: i % 2 == 0 ? "M-2026-001" : "M-2026-002", sourceId: "\(prefix)-\(i)",
                   occurredAt: String(format: "2026-03-%02dT10:00:00Z", i + 1), subject: "Update \(i)")
        }.joined(separator: "\n") + "\n"
    }
}
