import Foundation
import XCTest

/// `ledger export --include-access-log`: access-log.jsonl holds the exported matters' access entries with inclusion
/// proofs, and both verifiers (`ledger verify-bundle`, tools/verify_bundle.py) check them.
final class ExportAccessLogTests: CLITestCase {
    private var verifierKeyPath: String { ledgerDir.appendingPathComponent("verifier.key").path }
    private var credentialPath: String { temp.appendingPathComponent("keys/p.jones.cred").path }
    /// The seq of the M-2 entry, read alone by the master key.
    private var otherSeq = ""

    /// M-1 (two entries) and M-2 (one); a reader granted M-1 reads it, the master key reads M-1, M-2 and everything;
    /// then a checkpoint is signed.
    private func ledgerWithReads() throws {
        try initLedger()
        let first = try appendRecord(Sample.record(matter: "M-1", sourceId: "a"))
        otherSeq = try appendRecord(Sample.record(matter: "M-2", sourceId: "b"))
        try appendRecord(Sample.record(matter: "M-1", sourceId: "c"))
        try run(["grant", "p.jones", "--role", "reader", "--matter", "M-1", "-o", credentialPath], master: true)
        try run(["show", first, "--reason", "file review"], master: false)
        try run(["list", "--matter", "M-1"], master: false)
        try run(["list", "--matter", "M-1"], master: true)
        try run(["show", otherSeq], master: true)
        try run(["list"], master: true)
        try run(["checkpoint"], master: true)
    }

    @discardableResult
    private func run(_ args: [String], master: Bool, expect status: Int32 = 0,
                     file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let r = master ? try ledgerWithKey(args)
            : try ledger(args + ["--ledger", ledgerDir.path, "--credential", credentialPath])
        XCTAssertEqual(r.status, status, r.summary, file: file, line: line)
        return r
    }

    private func export(_ extra: [String], to name: String) throws -> String {
        let out = temp.appendingPathComponent(name).path
        try run(["export", "-o", out] + extra, master: true)
        return out
    }

    private func python(_ args: [String]) throws -> CLIResult {
        let script = LedgerBinary.packageRoot.appendingPathComponent("tools/verify_bundle.py").path
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script] + args,
                              environment: baseEnvironment(), scratch: temp)
    }

    /// Both verifiers' exit statuses must be `status`; returns the check names each reported.
    @discardableResult
    private func verifyBoth(_ bundle: String, expect status: Int32, file: StaticString = #filePath,
                            line: UInt = #line) throws -> (swift: Set<String>, python: Set<String>) {
        let args = [bundle, "--json", "--verifier-key", verifierKeyPath]
        let s = try ledger(["verify-bundle"] + args), p = try python(args)
        XCTAssertEqual(s.status, status, "ledger verify-bundle: " + s.summary, file: file, line: line)
        XCTAssertEqual(p.status, status, "verify_bundle.py: " + p.summary, file: file, line: line)
        return (try checks(s), try checks(p))
    }

    private func checks(_ r: CLIResult) throws -> Set<String> {
        guard let line = r.stdoutLines.first else { return [] }
        return Set((try jsonObject(line)["violations"] as? [[String: Any]] ?? []).compactMap { $0["check"] as? String })
    }


    /// Rezips `files` with Python, the manifest's file hashes and counts recomputed but not signed (the tests do not
    /// hold the firm's key): the targeted check fails, and [manifest] (the signature does not verify).
    private func rezip(_ files: [String: Data]) throws -> String {
        let dir = temp.appendingPathComponent("rezip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
        let out = temp.appendingPathComponent("tampered-\(UUID().uuidString).zip").path
        let script = """
        import hashlib, json, os, sys, zipfile
        d, out = sys.argv[1], sys.argv[2]
        files = {n: open(os.path.join(d, n), "rb").read() for n in sorted(os.listdir(d))}
        \(Self.pythonManifestHelpers)
        m = load_manifest(files)
        entries = [json.loads(l) for l in files["entries.jsonl"].splitlines()]
        c = m["counts"]
        c["entries"] = len(entries)
        c["disclosedFields"] = sum(len(e["disclosures"]) for e in entries)
        c["redactedFields"] = c["privilegeLogRows"] = sum(len(e["redacted"]) for e in entries)
        if "access-log.jsonl" in files:
            c["accessEntries"] = len(files["access-log.jsonl"].splitlines())
        store_manifest(files, m)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for n, b in files.items():
                z.writestr(n, b)
        """
        let scriptPath = try write("rezip-\(UUID().uuidString).py", script)
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", scriptPath, dir.path, out],
                               environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(r.status, 0, r.summary)
        return out
    }

    private func lines(_ data: Data?) throws -> [[String: Any]] {
        try String(decoding: data ?? Data(), as: UTF8.self).split(separator: "\n").map { try jsonObject(String($0)) }
    }


    /// The checkpoint's tree size (checkpoint.txt's second line).
    private func treeSize(_ files: [String: Data]) throws -> Int {
        let lines = String(decoding: files["checkpoint.txt"]!, as: UTF8.self).split(separator: "\n")
        return try XCTUnwrap(Int(lines[1]))
    }

    /// A bundle of M-1 with its access log, and its files (made once per test: each test builds its own ledger).
    private func accessBundle() throws -> (path: String, files: [String: Data]) {
        let bundle = temp.appendingPathComponent("with-log.zip").path
        if !FileManager.default.fileExists(atPath: bundle) {
            try ledgerWithReads()
            _ = try export(["--matter", "M-1", "--include-access-log"], to: "with-log.zip")
        }
        return (bundle, try unzipWithPython(bundle))
    }

    // MARK: - The clean case

    func testAccessLogHoldsExactlyTheMattersAccessEntriesAndVerifies() throws {
        let (bundle, files) = try accessBundle()
        let (s, p) = try verifyBoth(bundle, expect: 0)
        XCTAssertEqual(s, [])
        XCTAssertEqual(p, [])
        let size = try treeSize(files)
        let log = try run(["access", "log", "--matter", "M-1", "--json"], master: true)
        let expected = try log.stdoutLines.map { try XCTUnwrap(jsonObject($0)["seq"] as? Int) }.filter { $0 < size }
        let found = try lines(files["access-log.jsonl"]).map { try XCTUnwrap($0["index"] as? Int) }
        XCTAssertEqual(found, expected)
        // The reader's two reads, the master's list of M-1, the master's list of everything, the export itself.
        XCTAssertEqual(found.count, 5, "\(found)")
        let all = try run(["access", "log", "--json"], master: true).stdoutLines.map { try jsonObject($0) }
        let otherRead = try XCTUnwrap(all.first { $0["command"] as? String == "show" && $0["credential"] as? String
                                                    == "master" }?["seq"] as? Int)
        XCTAssertFalse(found.contains(otherRead), "the master's read of M-2 alone is not M-1's")
        let manifest = try manifestObject(files)
        XCTAssertEqual((manifest["counts"] as? [String: Any])?["accessEntries"] as? Int, 5)
        let summary = try ledger(["verify-bundle", bundle, "--verifier-key", verifierKeyPath])
        XCTAssertTrue(summary.stdout.contains("access log:   5 access entries"), summary.summary)
        let py = try python([bundle, "--verifier-key", verifierKeyPath])
        XCTAssertTrue(py.stdout.contains("access log: 5 access entries"), py.summary)
    }

    func testWithoutTheFlagTheBundleHasNoAccessLog() throws {
        try ledgerWithReads()
        let files = try unzipWithPython(try export(["--matter", "M-1"], to: "plain.zip"))
        XCTAssertEqual(Set(files.keys), ["manifest.note", "checkpoint.txt", "verifier.key", "entries.jsonl",
                                         "privilege-log.csv", "report.html", "README.txt"])
        let manifest = String(decoding: files["manifest.note"]!, as: UTF8.self)
        let readme = String(decoding: files["README.txt"]!, as: UTF8.self)
        XCTAssertFalse(manifest.contains("accessEntries") || readme.contains("access-log"), manifest + readme)
    }

    func testOnlyTheMasterKeyExportsTheAccessLog() throws {
        try ledgerWithReads()
        let out = temp.appendingPathComponent("reader.zip").path
        let before = try run(["access", "log", "--json"], master: true).stdoutLines.count
        let r = try run(["export", "--matter", "M-1", "--include-access-log", "-o", out], master: false, expect: 77)
        XCTAssertTrue(r.stderr.contains("needs the master key"), r.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try run(["access", "log", "--json"], master: true).stdoutLines.count, before,
                       "a refused export records no read")
    }

    // MARK: - Tampering: both verifiers exit 1 and name the targeted check (and [manifest]: the rezip is unsigned)

    private func tamperedAccessLog(_ edit: (inout [[String: Any]]) throws -> Void) throws -> String {
        var files = try accessBundle().files
        var log = try lines(files["access-log.jsonl"])
        try edit(&log)
        files["access-log.jsonl"] = try jsonlData(log)
        return try rezip(files)
    }

    func testOneChangedByteOfAnAccessLeafFailsItsProof() throws {
        let bundle = try tamperedAccessLog { log in
            var leaf = try XCTUnwrap(Data(base64Encoded: log[0]["leaf"] as! String))
            leaf[30] ^= 0x01  // recordedAt: the leaf still decodes, only its hash changes
            log[0]["leaf"] = leaf.base64EncodedString()
        }
        let (s, p) = try verifyBoth(bundle, expect: 1)
        XCTAssertEqual(s, ["access-inclusion-proof", "manifest"])
        XCTAssertEqual(p, ["access-inclusion-proof", "manifest"])
    }

    func testDroppedProofHashFails() throws {
        let bundle = try tamperedAccessLog { log in
            var proof = try XCTUnwrap(log[1]["inclusionProof"] as? [String])
            proof.removeLast()
            log[1]["inclusionProof"] = proof
        }
        let (s, p) = try verifyBoth(bundle, expect: 1)
        XCTAssertEqual(s, ["access-inclusion-proof", "manifest"])
        XCTAssertEqual(p, ["access-inclusion-proof", "manifest"])
    }

    /// A bundle of M-1 and M-2 with its access log, M-2's entries then removed: the master's read of M-2 alone
    /// (a valid proof against the same checkpoint) no longer reads an exported matter.
    func testAccessEntryOfAnotherMatterOnlyFails() throws {
        try ledgerWithReads()
        var files = try unzipWithPython(try export(["--matter", "M-1", "--matter", "M-2", "--include-access-log"], to: "b.zip"))
        let other = Int(otherSeq)!
        files["entries.jsonl"] = try jsonlData(try lines(files["entries.jsonl"]).filter { $0["index"] as? Int != other })
        let log = String(decoding: files["privilege-log.csv"]!, as: UTF8.self).components(separatedBy: "\r\n")
        files["privilege-log.csv"] = Data(log.filter { !$0.hasPrefix("\(other),") }.joined(separator: "\r\n").utf8)
        let (s, p) = try verifyBoth(try rezip(files), expect: 1)
        XCTAssertEqual(s, ["access-matter", "manifest"])
        XCTAssertEqual(p, ["access-matter", "manifest"])
    }

    func testAccessEntriesOutOfOrderOrOfAnotherIndexFail() throws {
        let swapped = try tamperedAccessLog { log in log.swapAt(0, 1) }
        let (s, p) = try verifyBoth(swapped, expect: 1)
        XCTAssertTrue(s.contains("access-order") && p.contains("access-order"), "\(s) \(p)")
        let renumbered = try tamperedAccessLog { log in log[0]["index"] = (log[0]["index"] as! Int) + 1000 }
        let (s2, p2) = try verifyBoth(renumbered, expect: 1)
        XCTAssertTrue(s2.contains("access-index") && p2.contains("access-index"), "\(s2) \(p2)")
    }

    func testARecordLeafInTheAccessLogIsMalformed() throws {
        var files = try accessBundle().files
        let entry = try XCTUnwrap(try lines(files["entries.jsonl"]).first)
        var log = try lines(files["access-log.jsonl"])
        log.insert(["index": entry["index"]!, "leaf": entry["leaf"]!, "inclusionProof": entry["inclusionProof"]!],
                   at: 0)
        files["access-log.jsonl"] = try jsonlData(log)
        let (s, p) = try verifyBoth(try rezip(files), expect: 1)
        XCTAssertEqual(s, ["access-leaf-malformed", "manifest"])
        XCTAssertEqual(p, ["access-leaf-malformed", "manifest"])
    }
}
