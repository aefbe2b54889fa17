import Foundation
@testable import Ledger
import LedgerFormat
import XCTest

/// retention.jsonl: `ledger export` of a destroyed matter gives a metadata-only bundle (its record leaves and proofs,
/// its hold, release and destroy events) and of a held matter shows its holds; both verifiers (`ledger verify-bundle`,
/// tools/verify_bundle.py) check it, and each tampering fails with exit 1 and the targeted check.
///
/// The engine's `shred` is not used: the hold, release and destroy events are appended with the internal
/// `commitEvents`, so the destroyed matter's keys are still there — the exporter must not use them anyway.
final class ExportRetentionTests: CLITestCase {
    private var verifierKeyPath: String { ledgerDir.appendingPathComponent("verifier.key").path }
    /// Seqs of the records of M-D (destroyed), M-L (live, held) and M-P (plain); and of the events appended.
    private var destroyedSeqs = [Int](), liveSeqs = [Int]()
    private var holdSeq = 0, releaseSeq = 0, liveHoldSeq = 0, destroySeq = 0
    /// A bundle of M-D exported before it was destroyed (its entries.jsonl line is a valid disclosure of the leaf).
    private var before = ""

    /// M-D: two entries, held, released, destroyed; M-L: two entries, held; M-P: one entry, no retention event.
    private func ledgerWithDestroyedMatter() throws {
        try initLedger()
        destroyedSeqs.append(Int(try appendRecord(Sample.record(matter: "M-D", sourceId: "d1")))!)
        liveSeqs.append(Int(try appendRecord(Sample.record(matter: "M-L", sourceId: "l1")))!)
        destroyedSeqs.append(Int(try appendRecord(Sample.record(matter: "M-D", sourceId: "d2")))!)
        liveSeqs.append(Int(try appendRecord(Sample.record(matter: "M-L", sourceId: "l2")))!)
        try appendRecord(Sample.record(matter: "M-P", sourceId: "p1"))
        before = try export(["--matter", "M-D"], to: "before.zip")
        let ledger = try Ledger.open(at: ledgerDir.path)
        defer { ledger.close() }
        try ledger.unlock(with: .keyFile(path: keyFile.path))
        let ring = try ledger.requireKeys()
        let (dead, live) = (ring.matterTag("M-D"), ring.matterTag("M-L"))
        let holds = [dead, live].map {
            AccessEvent.hold(.init(matter: $0, by: "r.manager", credential: "master", reason: "litigation pending"))
        }
        holdSeq = Int(try ledger.commitEvents(operation: "hold") { _ in [holds[0]] })
        liveHoldSeq = Int(try ledger.commitEvents(operation: "hold") { _ in [holds[1]] })
        releaseSeq = Int(try ledger.commitEvents(operation: "release") { _ in
            [.release(.init(matter: dead, hold: UInt64(self.holdSeq), by: "r.manager", credential: "master",
                            reason: "settled"))]
        })
        let range = UInt64(destroyedSeqs[0])...UInt64(destroyedSeqs[1])
        destroySeq = Int(try ledger.commitEvents(operation: "shred") { _ in
            [.destroy(.init(matter: dead, entries: 2, seqRange: range, keys: 1, keyEpoch: 0,
                            retainUntil: "2026-01-01T00:00:00Z", beforeRetentionEnd: false, by: "r.manager",
                            credential: "master", reason: "retention period over"))]
        })
    }

    private func export(_ extra: [String], to name: String, expect status: Int32 = 0,
                        file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let out = temp.appendingPathComponent(name).path
        let r = try ledgerWithKey(["export", "-o", out] + extra)
        XCTAssertEqual(r.status, status, r.summary, file: file, line: line)
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

    /// Both verifiers exit 1 and report exactly `expected`.
    private func assertFails(_ bundle: String, with expected: Set<String>, file: StaticString = #filePath,
                             line: UInt = #line) throws {
        // Every tampered bundle here is rezipped without the firm's key: the signed manifest names it too.
        let expected = expected.union(["manifest"])
        let (s, p) = try verifyBoth(bundle, expect: 1, file: file, line: line)
        XCTAssertEqual(s, expected, "ledger verify-bundle", file: file, line: line)
        XCTAssertEqual(p, expected, "verify_bundle.py", file: file, line: line)
    }

    private func checks(_ r: CLIResult) throws -> Set<String> {
        guard let line = r.stdoutLines.first else { return [] }
        return Set((try jsonObject(line)["violations"] as? [[String: Any]] ?? []).compactMap { $0["check"] as? String })
    }

    private func lines(_ data: Data?) throws -> [[String: Any]] {
        try String(decoding: data ?? Data(), as: UTF8.self).split(separator: "\n").map { try jsonObject(String($0)) }
    }

    private func manifestCounts(_ files: [String: Data]) throws -> [String: Any] {
        try XCTUnwrap(try manifestObject(files)["counts"]
            as? [String: Any])
    }

    /// Rezips `files` with Python, the manifest's file hashes and counts recomputed (the retention counts only when
    /// `fixRetentionCounts`), unsigned: the targeted check fails, and [manifest] (the signature does not verify).
    private func rezip(_ files: [String: Data], fixRetentionCounts: Bool = true) throws -> String {
        let dir = temp.appendingPathComponent("rezip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
        let out = temp.appendingPathComponent("tampered-\(UUID().uuidString).zip").path
        let script = """
        import base64, hashlib, json, os, sys, zipfile
        d, out, fix = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
        files = {n: open(os.path.join(d, n), "rb").read() for n in sorted(os.listdir(d))}
        \(Self.pythonManifestHelpers)
        m = load_manifest(files)
        entries = [json.loads(l) for l in files["entries.jsonl"].splitlines()]
        c = m["counts"]
        c["entries"] = len(entries)
        c["disclosedFields"] = sum(len(e["disclosures"]) for e in entries)
        c["redactedFields"] = c["privilegeLogRows"] = sum(len(e["redacted"]) for e in entries)
        if fix:
            c.pop("retentionEvents", None)
            c.pop("destroyedEntries", None)
            if "retention.jsonl" in files:
                kinds = [base64.b64decode(json.loads(l)["leaf"])[0] for l in files["retention.jsonl"].splitlines()]
                c["retentionEvents"] = sum(1 for k in kinds if k == 3)
                c["destroyedEntries"] = len(kinds) - c["retentionEvents"]
        store_manifest(files, m)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for n, b in files.items():
                z.writestr(n, b)
        """
        let scriptPath = try write("rezip-\(UUID().uuidString).py", script)
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                               ["python3", scriptPath, dir.path, out, fixRetentionCounts ? "1" : "0"],
                               environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(r.status, 0, r.summary)
        return out
    }

    /// The metadata-only bundle of M-D (made once per test: each test builds its own ledger).
    private func destroyedBundle() throws -> (path: String, files: [String: Data]) {
        let bundle = temp.appendingPathComponent("destroyed.zip").path
        if !FileManager.default.fileExists(atPath: bundle) {
            try ledgerWithDestroyedMatter()
            _ = try export(["--matter", "M-D"], to: "destroyed.zip")
        }
        return (bundle, try unzipWithPython(bundle))
    }

    /// The destroyed bundle with retention.jsonl's lines edited (counts recomputed unless told otherwise).
    private func tamperedRetention(fixCounts: Bool = true, _ edit: (inout [[String: Any]]) throws -> Void) throws
        -> String {
        var files = try destroyedBundle().files
        var log = try lines(files["retention.jsonl"])
        try edit(&log)
        files["retention.jsonl"] = try jsonlData(log)
        return try rezip(files, fixRetentionCounts: fixCounts)
    }

    private func line(_ log: [[String: Any]], index: Int) throws -> Int {
        try XCTUnwrap(log.firstIndex { $0["index"] as? Int == index }, "no line of index \(index)")
    }

    // MARK: - Clean bundles

    func testDestroyedMatterExportsAMetadataOnlyBundleBothVerifiersAccept() throws {
        let (bundle, files) = try destroyedBundle()
        let (s, p) = try verifyBoth(bundle, expect: 0)
        XCTAssertEqual(s, [])
        XCTAssertEqual(p, [])
        XCTAssertEqual(files["entries.jsonl"], Data(), "nothing of a destroyed matter is disclosed")
        let privilegeLog = String(decoding: files["privilege-log.csv"]!, as: UTF8.self)
        XCTAssertEqual(privilegeLog.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count, 1, privilegeLog)
        let log = try lines(files["retention.jsonl"])
        XCTAssertEqual(log.compactMap { $0["index"] as? Int },
                       [destroyedSeqs[0], destroyedSeqs[1], holdSeq, releaseSeq, destroySeq],
                       "M-D's records and events, not M-L's hold")
        XCTAssertEqual(Set(log[0].keys), ["index", "leaf", "inclusionProof"])
        let counts = try manifestCounts(files)
        XCTAssertEqual(counts["retentionEvents"] as? Int, 3)
        XCTAssertEqual(counts["destroyedEntries"] as? Int, 2)
        XCTAssertEqual(counts["entries"] as? Int, 0)
        let report = String(decoding: files["report.html"]!, as: UTF8.self)
        XCTAssertTrue(report.contains("Destroyed matters") && report.contains("at entry #\(destroySeq)")
                      && report.contains("retention period over") && report.contains("contents unrecoverable"),
                      report)
        XCTAssertFalse(report.contains("Acme Holdings") || report.contains("landlord"), "no content leaks")
        let readme = String(decoding: files["README.txt"]!, as: UTF8.self)
        XCTAssertTrue(readme.contains("\nretention.jsonl    ") && readme.contains("\n7. retention.jsonl: "), readme)
        let summary = try ledger(["verify-bundle", bundle, "--verifier-key", verifierKeyPath])
        XCTAssertTrue(summary.stdout.contains("retention:    3 events, 2 destroyed entries"), summary.summary)
        let py = try python([bundle, "--verifier-key", verifierKeyPath])
        XCTAssertTrue(py.stdout.contains("retention:  3 events, 2 destroyed entries"), py.summary)
    }

    /// occurredAt is encrypted: --from/--to cannot exclude a destroyed matter's entries (so they were not decrypted).
    func testDateFiltersDoNotApplyToDestroyedEntries() throws {
        try ledgerWithDestroyedMatter()
        let bundle = try export(["--matter", "M-D", "--from", "2030-01-01"], to: "later.zip")
        XCTAssertEqual(try manifestCounts(try unzipWithPython(bundle))["destroyedEntries"] as? Int, 2)
        try verifyBoth(bundle, expect: 0)
    }

    func testLiveAndDestroyedMattersTogetherWithAccessLog() throws {
        try ledgerWithDestroyedMatter()
        let bundle = try export(["--matter", "M-L", "--matter", "M-D", "--include-access-log"], to: "both.zip")
        let files = try unzipWithPython(bundle)
        let (s, p) = try verifyBoth(bundle, expect: 0)
        XCTAssertEqual(s, [])
        XCTAssertEqual(p, [])
        XCTAssertEqual(try lines(files["entries.jsonl"]).compactMap { $0["index"] as? Int }, liveSeqs)
        XCTAssertEqual(try lines(files["retention.jsonl"]).compactMap { $0["index"] as? Int },
                       [destroyedSeqs[0], destroyedSeqs[1], holdSeq, liveHoldSeq, releaseSeq, destroySeq])
        // The export of M-D before its destruction read it: that read belongs to this bundle's access log.
        XCTAssertFalse(try lines(files["access-log.jsonl"]).isEmpty)
    }

    func testAMatterWithoutRetentionEventsHasNoRetentionMember() throws {
        try ledgerWithDestroyedMatter()
        let files = try unzipWithPython(try export(["--matter", "M-P"], to: "plain.zip"))
        XCTAssertNil(files["retention.jsonl"])
        XCTAssertFalse(String(decoding: files["manifest.note"]!, as: UTF8.self).contains("retentionEvents"))
        let held = try unzipWithPython(try export(["--matter", "M-L"], to: "held.zip"))
        XCTAssertEqual(try lines(held["retention.jsonl"]).compactMap { $0["index"] as? Int }, [liveHoldSeq])
        XCTAssertEqual(try manifestCounts(held)["destroyedEntries"] as? Int, 0)
    }

    /// A reader exports only what it may read: a destroyed matter it was not granted is refused as any other, and a
    /// granted matter's bundle shows that matter's hold only.
    func testAReaderGetsOnlyTheMattersItMayRead() throws {
        try ledgerWithDestroyedMatter()
        let credential = temp.appendingPathComponent("keys/p.jones.cred").path
        XCTAssertEqual(try ledgerWithKey(["grant", "p.jones", "--role", "reader", "--matter", "M-L", "-o", credential])
            .status, 0)
        XCTAssertEqual(try ledgerWithKey(["checkpoint"]).status, 0)  // a reader proves against the newest stored one
        func readerExport(_ matter: String, _ name: String) throws -> CLIResult {
            try ledger(["export", "--matter", matter, "-o", temp.appendingPathComponent(name).path,
                        "--ledger", ledgerDir.path, "--credential", credential])
        }
        let refused = try readerExport("M-D", "refused.zip")
        XCTAssertEqual(refused.status, 77, refused.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp.appendingPathComponent("refused.zip").path))
        XCTAssertEqual(try readerExport("M-L", "reader.zip").status, 0)
        let bundle = temp.appendingPathComponent("reader.zip").path
        let files = try unzipWithPython(bundle)
        XCTAssertEqual(try lines(files["retention.jsonl"]).compactMap { $0["index"] as? Int }, [liveHoldSeq])
        try verifyBoth(bundle, expect: 0)
        // A reader holds no signing key: its bundle is v1 (unsigned manifest.json), verified with the notice.
        XCTAssertNotNil(files["manifest.json"])
        XCTAssertNil(files["manifest.note"])
        let text = try ledger(["verify-bundle", bundle, "--verifier-key", verifierKeyPath])
        XCTAssertTrue(text.stdout.contains("notice: " + "bundle format 1: its metadata (reasons, profile, privilege "
                                           + "log, report) is not signed"), text.summary)
    }

    // MARK: - Tampering: both verifiers exit 1 and name the targeted check (and [manifest]: the rezip is unsigned)

    func testOneChangedByteOfADestroyedLeafFailsItsProof() throws {
        let bundle = try tamperedRetention { log in
            var leaf = try XCTUnwrap(Data(base64Encoded: log[0]["leaf"] as! String))
            leaf[30] ^= 0x01  // recordedAt: the leaf still decodes, only its hash changes
            log[0]["leaf"] = leaf.base64EncodedString()
        }
        try assertFails(bundle, with: ["retention-inclusion-proof"])
    }

    func testAChangedProofHashFails() throws {
        let bundle = try tamperedRetention { log in
            var proof = try XCTUnwrap(log[1]["inclusionProof"] as? [String])
            proof[0] = Data(repeating: 7, count: 32).base64EncodedString()
            log[1]["inclusionProof"] = proof
        }
        try assertFails(bundle, with: ["retention-inclusion-proof"])
    }

    func testAWithheldDestroyedEntryFailsCompleteness() throws {
        let bundle = try tamperedRetention { log in log.remove(at: 0) }
        try assertFails(bundle, with: ["retention-completeness"])
    }

    func testAWrongManifestCountFails() throws {
        var files = try destroyedBundle().files
        // Rewritten without the firm's key: the counts check and the signature check both name [manifest].
        let text = String(decoding: files["manifest.note"]!, as: UTF8.self)
        files["manifest.note"] = Data(text.replacingOccurrences(of: #""destroyedEntries":2"#,
                                                                with: #""destroyedEntries":3"#).utf8)
        XCTAssertNotEqual(files["manifest.note"], Data(text.utf8))
        try assertFails(try rezip(files, fixRetentionCounts: false), with: ["manifest"])
    }

    /// The destroy event's body re-encoded with a space: valid JSON, not canonical. Its leaf no longer decodes as a
    /// retention event, so its records are left without a destroy event, and the matter's hold and release are of a
    /// matter neither exported nor destroyed.
    func testANonCanonicalEventBodyIsMalformed() throws {
        let bundle = try tamperedRetention { log in
            let i = try line(log, index: destroySeq)
            let bytes = try XCTUnwrap(Data(base64Encoded: log[i]["leaf"] as! String))
            var leaf = try [UInt8](bytes).withUnsafeBytes { try EventLeaf.decode($0) }
            leaf.body.insert(0x20, at: 1)
            log[i]["leaf"] = Data(leaf.encoded()).base64EncodedString()
        }
        try assertFails(bundle, with: ["retention-leaf-malformed", "retention-destroyed", "retention-matter"])
    }

    func testAReleaseOfAHoldNotInTheFileFails() throws {
        let bundle = try tamperedRetention { log in log.remove(at: try line(log, index: holdSeq)) }
        try assertFails(bundle, with: ["retention-hold"])
    }

    func testADestroyedMattersEntryInEntriesFails() throws {
        var files = try destroyedBundle().files
        // M-D's first entry as disclosed before the destruction, with its proof against this bundle's checkpoint.
        let old = try unzipWithPython(before)
        var entry = try XCTUnwrap(try lines(old["entries.jsonl"]).first { $0["index"] as? Int == destroyedSeqs[0] })
        let record = try XCTUnwrap(try lines(files["retention.jsonl"])
            .first { $0["index"] as? Int == destroyedSeqs[0] })
        entry["inclusionProof"] = record["inclusionProof"]
        files["entries.jsonl"] = try jsonlData([entry])
        let rows = String(decoding: old["privilege-log.csv"]!, as: UTF8.self).components(separatedBy: "\r\n")
        let kept = [rows[0]] + rows.filter { $0.hasPrefix("\(destroyedSeqs[0]),") } + [""]
        files["privilege-log.csv"] = Data(kept.joined(separator: "\r\n").utf8)
        try assertFails(try rezip(files), with: ["retention-disclosed"])
    }

    func testEmptyEntriesWithoutRetentionIsStillNoEntries() throws {
        var files = try destroyedBundle().files
        files["retention.jsonl"] = nil
        try assertFails(try rezip(files), with: ["entries"])
    }

    func testARecordLeafAfterItsDestroyEventFails() throws {
        // The record line moved to an index past the destroy event: its leaf then names another seq and it is no
        // longer covered, and the destroy event's own records are incomplete.
        let bundle = try tamperedRetention { log in
            var moved = log.remove(at: 0)
            moved["index"] = destroySeq + 1
            log.append(moved)
        }
        let (s, p) = try verifyBoth(bundle, expect: 1)
        for found in [s, p] {
            XCTAssertTrue(found.isSuperset(of: ["retention-index", "retention-destroyed", "retention-completeness"]),
                          "\(found)")
        }
        XCTAssertEqual(s, p)
    }
}
