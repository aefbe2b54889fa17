import Foundation
import LMDB
import XCTest

/// A ledger and a bundle written by the v1 build (Tests/Fixtures/v1-ledger, see its README.md) stay readable,
/// verifiable, exportable and appendable with this build. Every test works on a fresh copy of the fixture: the
/// ledger in `temp/ledger`, the master key in `temp/keys/master.key`, the other fixture files in `temp`.
final class FormatV1FixtureTests: CLITestCase {
    static let fixture = LedgerBinary.packageRoot.appendingPathComponent("Tests/Fixtures/v1-ledger")
    static let matter = "2026-0142"

    override func setUpWithError() throws {
        try super.setUpWithError()
        try copyFixture()
    }

    // MARK: - Verify

    func testVerifyAgainstTheCommittedCheckpointReportsItsRoot() throws {
        let checkpoint = try fixtureLines("checkpoint.txt")
        let r = try verify(["--trusted", fixtureFile("checkpoint.txt"), "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        let report = try jsonObject(r.stdout)
        XCTAssertEqual(report["ok"] as? Bool, true, r.summary)
        XCTAssertEqual(report["entries"] as? Int, 14, r.summary)
        XCTAssertEqual(report["violationCount"] as? Int, 0, r.summary)
        XCTAssertEqual(report["origin"] as? String, checkpoint[0], r.summary)
        XCTAssertEqual(report["trustedCheckpointSize"] as? Int, Int(checkpoint[1]), r.summary)
        XCTAssertEqual(report["root"] as? String, checkpoint[2], r.summary)
    }

    func testDeepVerifyDecryptsEveryOldEntry() throws {
        let r = try verify(["--deep", "--key-file", keyFile.path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.contains("deep (decrypted every entry)"), r.summary)
        XCTAssertTrue(r.stdout.contains("INTACT"), r.summary)
    }

    // MARK: - Read

    func testShowPrintsTheCommittedOutputForEverySeq() throws {
        try assertShowMatchesFixture()
    }

    func testListPrintsTheCommittedOutput() throws {
        let r = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdoutLines, try fixtureLines("list.jsonl"))
    }

    // MARK: - Bundles

    func testRequireSignedRefusesAV1BundleInBothVerifiers() throws {
        let args = [fixtureFile("bundle.zip"), "--verifier-key", verifierKeyPath]
        let swift = try ledger(["verify-bundle"] + args + ["--require-signed"])
        XCTAssertEqual(swift.status, 1, swift.summary)
        XCTAssertTrue(swift.stdout.contains("is not signed (bundle format 1)"), swift.summary)
        let python = try pythonVerifyBundle(args + ["--require-signed"])
        XCTAssertEqual(python.status, 1, python.summary)
        // Without the flag a v1 bundle still verifies, with a warning that it could be a downgraded v2 bundle.
        let warned = try ledger(["verify-bundle"] + args)
        XCTAssertEqual(warned.status, 0, warned.summary)
        XCTAssertTrue(warned.stderr.contains("--require-signed"), warned.summary)
        XCTAssertTrue(try pythonVerifyBundle(args).stderr.contains("--require-signed"))
    }

    func testCommittedBundleVerifiesWithLedgerAndPython() throws {
        let bundle = fixtureFile("bundle.zip")
        let trusted = ["--verifier-key", verifierKeyPath, "--trusted", fixtureFile("checkpoint.txt")]
        let swift = try ledger(["verify-bundle", bundle] + trusted)
        XCTAssertEqual(swift.status, 0, "ledger verify-bundle: " + swift.summary)
        let python = try pythonVerifyBundle([bundle] + trusted)
        XCTAssertEqual(python.status, 0, "verify_bundle.py: " + python.summary)
        // A v1 bundle's metadata is not signed: both verifiers say so, in text and JSON.
        let notice = "notice: bundle format 1: its metadata (reasons, profile, privilege log, report) is not signed"
        XCTAssertTrue(swift.stdout.contains(notice), swift.summary)
        XCTAssertTrue(python.stdout.contains(notice), python.summary)
        let json = try ledger(["verify-bundle", bundle, "--json"] + trusted)
        let pyJSON = try pythonVerifyBundle([bundle, "--json"] + trusted)
        for r in [json, pyJSON] {
            let report = try jsonObject(r.stdoutLines[0])
            XCTAssertEqual(report["formatVersion"] as? Int, 1, r.summary)
            XCTAssertEqual(report["notices"] as? [String], [String(notice.dropFirst("notice: ".count))], r.summary)
        }
    }

    func testFreshExportVerifiesAndReproducesTheCommittedEntries() throws {
        let out = temp.appendingPathComponent("fresh.zip").path
        let export = try ledgerWithKey(["export", "--matter", Self.matter, "-o", out])
        XCTAssertEqual(export.status, 0, export.summary)
        let verified = try ledger(["verify-bundle", out, "--verifier-key", verifierKeyPath])
        XCTAssertEqual(verified.status, 0, verified.summary)
        let fresh = try bundleEntries(out)
        let committed = try bundleEntries(fixtureFile("bundle.zip"))
        XCTAssertEqual(fresh.count, committed.count)
        XCTAssertEqual(fresh.count, try fixtureMatterCount())
        // The export recorded its access entry first, so its checkpoint covers one more entry and the proofs are
        // against a larger tree (verify-bundle checked them); everything else is the v1 bundle's, byte for byte.
        for (new, old) in zip(fresh, committed) {
            var new = new, old = old
            new["inclusionProof"] = nil
            old["inclusionProof"] = nil
            XCTAssertEqual(new as NSDictionary, old as NSDictionary, "entry \(old["index"] ?? "?") differs")
        }
    }

    // MARK: - Append

    func testAppendingToTheOldLedgerKeepsItVerifiableAndTheOldEntriesUnchanged() throws {
        let existing = Self.newRecord(matter: Self.matter, summary: "Appended to an old matter")
        let newMatter = Self.newRecord(matter: "2027-0001", summary: "Appended to a new matter")
        XCTAssertEqual(try appendRecord(existing), "14")
        XCTAssertEqual(try appendRecord(newMatter), "15")

        // keyless verify reads 16 entries; deep verify first records its access entry (a 17th)
        for (deep, entries) in [([], 16), (["--deep", "--key-file", keyFile.path], 17)] {
            let r = try verify(["--trusted", fixtureFile("checkpoint.txt"), "--json"] + deep)
            XCTAssertEqual(r.status, 0, r.summary)
            XCTAssertEqual(try jsonObject(r.stdout)["entries"] as? Int, entries, r.summary)
        }
        try assertShowMatchesFixture()
        try assertShows(seq: 14, matter: Self.matter, summary: "Appended to an old matter")
        try assertShows(seq: 15, matter: "2027-0001", summary: "Appended to a new matter")
        XCTAssertEqual(try listed(matter: Self.matter).count, try fixtureMatterCount() + 1)
        XCTAssertEqual(try listed(matter: "2027-0001").count, 1)
    }

    /// Importing into the storage-format-1 fixture keeps format 1's layout: source rows go straight into `sources`
    /// (no `sourcesStaged` database appears), the ledger verifies, and a second import finds every duplicate.
    func testImportingIntoTheOldLedgerKeepsStorageFormat1() throws {
        let lines = (0..<3).map { i in
            #"{"matter":"\#(Self.matter)","author":"a.okafor","channel":"email","direction":"outbound","#
                + #""occurredAt":"2026-02-0\#(i + 1)T09:00:00Z","sourceSystem":"pms","sourceId":"v1-import-\#(i)"}"#
        }
        let file = try write("in.jsonl", lines.joined(separator: "\n") + "\n")
        let first = try ledgerWithKey(["import", file])
        XCTAssertEqual(first.status, 0, first.summary)
        XCTAssertTrue(first.stdout.contains("imported 3"), first.summary)
        let again = try ledgerWithKey(["import", file])
        XCTAssertEqual(again.status, 0, again.summary)
        XCTAssertTrue((again.stdout + again.stderr).contains("3 duplicates") || again.stdout.contains("nothing new"),
                      again.summary)
        let r = try verify(["--trusted", fixtureFile("checkpoint.txt"), "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(try jsonObject(r.stdout)["entries"] as? Int, 17, r.summary)
        let env = try Environment(path: ledgerDir.path, maxDatabases: 16, mapSize: 0, flags: [.readOnly])
        defer { env.close() }
        XCTAssertThrowsError(try env.openDatabase("sourcesStaged"), "a format 1 ledger gets no staged source rows")
        let meta = try env.openDatabase("meta")
        let format = try env.read { txn in try txn.get(meta, key: Array("format".utf8)).map { Array($0) } }
        XCTAssertEqual(format, [0, 0, 0, 1])
    }

    // MARK: - Retention

    /// A v1 ledger (v1 matter keys, index key derived from the master key, no access or events database, no box key)
    /// shreds a matter: its v1 key goes, the other v1 keys are re-wrapped, the index key is sealed for the first time.
    func testShreddingAMatterOfTheOldLedger() throws {
        let newKey = temp.appendingPathComponent("keys/new.key").path
        let shred = try ledgerWithKey(["shred", "--matter", "2025-0931", "--reason", "client asked for erasure",
                                       "--before-retention-end", "--new-key-file", newKey, "--keep-old-key-file"])
        XCTAssertEqual(shred.status, 0, shred.summary)
        XCTAssertTrue(shred.stdout.contains("destroyed matter 2025-0931 BEFORE the end of its retention period"),
                      shred.summary)
        let withNew = ["--ledger", ledgerDir.path, "--key-file", newKey]
        let deep = try ledger(["verify", "--deep", "--trusted", fixtureFile("checkpoint.txt")] + withNew)
        XCTAssertEqual(deep.status, 0, deep.summary)
        XCTAssertTrue(deep.stdout.contains("3 entries shredded"), deep.summary)
        XCTAssertEqual(try ledger(["list", "--matter", Self.matter, "--json"] + withNew).stdout
                        .split(separator: "\n").count, try fixtureMatterCount(), "the other matters read as before")
        let old = try ledgerWithKey(["show", "0"])
        XCTAssertEqual(old.status, 77, "the fixture's own key opens nothing now: \(old.summary)")
        let append = try ledger(["append", try write("r.json", Self.newRecord(matter: Self.matter, summary: "after"))]
                                + withNew)
        XCTAssertEqual(append.status, 0, append.summary)
    }

    // MARK: - Tampering

    func testFlippedCiphertextInTheOldLedgerIsDetected() throws {
        // Stored entry v1 = u16 leaf length || leaf || ciphertext: the value's last byte is ciphertext.
        try flipLastByteOfEntry(seq: 13)
        let r = try verify(["--json"])
        XCTAssertEqual(r.status, 1, r.summary)
        let report = try jsonObject(r.stdout)
        XCTAssertEqual(report["ok"] as? Bool, false, r.summary)
        let violations = try XCTUnwrap(report["violations"] as? [[String: Any]], r.summary)
        XCTAssertTrue(violations.contains { $0["class"] as? String == "ciphertext-digest" && $0["seq"] as? Int == 13 },
                      "\(violations)")
    }

    // MARK: - Helpers

    private var verifierKeyPath: String { ledgerDir.appendingPathComponent("verifier.key").path }

    private func fixtureFile(_ name: String) -> String { temp.appendingPathComponent(name).path }

    /// The copy's lines of a fixture text file.
    private func fixtureLines(_ name: String) throws -> [String] {
        try String(contentsOfFile: fixtureFile(name), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// How many of the fixture's entries belong to `matter`, per list.jsonl.
    private func fixtureMatterCount() throws -> Int {
        try fixtureLines("list.jsonl").filter { line in
            let record = try jsonObject(line)["record"] as? [String: Any]
            return record?["matter"] as? String == Self.matter
        }.count
    }

    /// Copies the fixture into the test's directory and sets the modes git does not keep.
    private func copyFixture() throws {
        let fm = FileManager.default
        try fm.copyItem(at: Self.fixture.appendingPathComponent("ledger"), to: ledgerDir)
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: ledgerDir.path)
        try fm.copyItem(at: Self.fixture.appendingPathComponent("master.key"), to: keyFile)
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile.path)
        for name in ["checkpoint.txt", "bundle.zip", "show-all.jsonl", "list.jsonl"] {
            try fm.copyItem(at: Self.fixture.appendingPathComponent(name), to: temp.appendingPathComponent(name))
        }
    }

    /// `ledger verify --ledger DIR --verifier-key DIR/verifier.key ARGS`.
    private func verify(_ arguments: [String]) throws -> CLIResult {
        try ledger(["verify", "--ledger", ledgerDir.path, "--verifier-key", verifierKeyPath] + arguments)
    }

    /// `show --json SEQ` for seq 0 to 13 prints exactly the lines of show-all.jsonl.
    private func assertShowMatchesFixture(file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try fixtureLines("show-all.jsonl")
        XCTAssertEqual(expected.count, 14, file: file, line: line)
        for (seq, wanted) in expected.enumerated() {
            let r = try ledgerWithKey(["show", "--json", String(seq)])
            XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
            XCTAssertEqual(r.stdoutLines, [wanted], "seq \(seq)", file: file, line: line)
        }
    }

    private func assertShows(seq: Int, matter: String, summary: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try ledgerWithKey(["show", "--json", String(seq)])
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        let shown = try jsonObject(r.stdout)
        let record = try XCTUnwrap(shown["record"] as? [String: Any], r.summary, file: file, line: line)
        XCTAssertEqual(shown["seq"] as? Int, seq, r.summary, file: file, line: line)
        XCTAssertEqual(record["matter"] as? String, matter, r.summary, file: file, line: line)
        XCTAssertEqual(record["summary"] as? String, summary, r.summary, file: file, line: line)
    }

    private func listed(matter: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let r = try ledgerWithKey(["list", "--matter", matter, "--json"])
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        return r.stdoutLines
    }

    private static func newRecord(matter: String, summary: String) -> String {
        #"{"matter":"\#(matter)","author":"a.okafor","channel":"email","direction":"outbound","#
            + #""occurredAt":"2026-02-01T09:00:00Z","summary":"\#(summary)"}"#
    }

    private func pythonVerifyBundle(_ arguments: [String]) throws -> CLIResult {
        let script = LedgerBinary.packageRoot.appendingPathComponent("tools/verify_bundle.py").path
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script] + arguments,
                              environment: baseEnvironment(), scratch: temp)
    }

    /// entries.jsonl of a bundle as JSON objects, unzipped with Python's zipfile (independent of ZIPFoundation).
    private func bundleEntries(_ bundle: String) throws -> [[String: Any]] {
        let dir = temp.appendingPathComponent("unzip-\(UUID().uuidString)")
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                               ["python3", "-m", "zipfile", "-e", bundle, dir.path],
                               environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(r.status, 0, r.summary)
        let text = try String(contentsOf: dir.appendingPathComponent("entries.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try jsonObject(String($0)) }
    }

    /// Flips the low bit of the last byte of entry `seq`'s stored value, on the raw LMDB file of the copy.
    private func flipLastByteOfEntry(seq: UInt64) throws {
        let env = try Environment(path: ledgerDir.path, maxDatabases: 16, mapSize: 1 << 30)
        defer { env.close() }
        let entries = try env.openDatabase("entries")
        let key = (0..<8).map { UInt8(truncatingIfNeeded: seq >> (56 - 8 * $0)) }
        try env.write { txn in
            var value = try XCTUnwrap(try txn.get(entries, key: key).map { Array($0) }, "no entry \(seq)")
            value[value.count - 1] ^= 1
            try txn.put(entries, key: key, value: value)
        }
    }
}
