import Foundation
import LMDB
import XCTest

/// `ledger verify` as an operator and a monitoring system see it: exit codes, messages, JSON, Prometheus textfile,
/// trusted checkpoints. Tampering is done on the raw LMDB files between runs of the binary.
final class VerifyCLITests: CLITestCase {
    /// The verifier key printed by `init`, kept outside the ledger.
    var pinnedKey: URL { temp.appendingPathComponent("keys/verifier.key") }

    /// Creates the ledger, imports `count` records over two matters (all with sourceIds), signs a checkpoint.
    @discardableResult
    func makeLedger(count: Int = 40, storageFormat: Int? = nil, file: StaticString = #filePath,
                    line: UInt = #line) throws -> String {
        let key = try initLedger(storageFormat: storageFormat, file: file, line: line)
        try (key + "\n").write(to: pinnedKey, atomically: true, encoding: .utf8)
        try importRecords(0..<count, file: file, line: line)
        let checkpoint = try ledgerWithKey(["checkpoint"])
        XCTAssertEqual(checkpoint.status, 0, checkpoint.summary, file: file, line: line)
        let clean = try verify()
        XCTAssertEqual(clean.status, 0, "the clean ledger must verify: \(clean.summary)", file: file, line: line)
        return checkpoint.stdout
    }

    func importRecords(_ range: Range<Int>, file: StaticString = #filePath, line: UInt = #line) throws {
        let lines = range.map { i in
            Sample.record(matter: i % 2 == 0 ? "M-2026-001" : "M-2026-002", sourceId: "src-\(i)",
                          occurredAt: String(format: "2026-03-%02dT10:%02d:00Z", 1 + i / 60 % 28, i % 60),
                          subject: "Update \(i)")
        }
        let path = try write("import-\(range.lowerBound).jsonl", lines.joined(separator: "\n") + "\n")
        let r = try ledgerWithKey(["import", path])
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
    }

    /// `ledger verify --ledger DIR --verifier-key PINNED ARGS` (no master key).
    func verify(_ arguments: [String] = [], pinned: Bool = true) throws -> CLIResult {
        try ledger(["verify", "--ledger", ledgerDir.path] + (pinned ? ["--verifier-key", pinnedKey.path] : [])
                   + arguments)
    }

    /// Runs `body` in one write transaction on the raw LMDB environment of the (closed) ledger.
    func editRaw(_ body: (WriteTransaction, (String) throws -> Database) throws -> Void) throws {
        let env = try Environment(path: ledgerDir.path, maxDatabases: 16, mapSize: 1 << 30)
        defer { env.close() }
        var databases = [String: Database]()
        for name in ["meta", "entries", "tree", "checkpoints", "keys", "matterKeys", "matters", "sources"] {
            databases[name] = try env.openDatabase(name, flags: name == "matters" ? [.dupSort, .dupFixed] : [])
        }
        try env.write { txn in
            try body(txn) { name in try XCTUnwrap(databases[name], "no database \(name)") }
        }
    }

    /// Flips a bit of the value under `key`; in `entries`, of the stored entry whose seq `key` is (format 3: inside
    /// its group).
    func flip(_ db: String, key: [UInt8], byte: (Int) -> Int, bit: Int = 0) throws {
        try editRaw { txn, open in
            let database = try open(db)
            if db == "entries" {
                let seq = try XCTUnwrap(key.withUnsafeBytes { UInt64(bigEndianBytes: $0) })
                return try txn.editStoredEntry(database, seq: seq, grouped: try txn.storesEntryGroups(try open("meta"))) {
                    $0[byte($0.count)] ^= UInt8(1 << bit)
                }
            }
            var value = try XCTUnwrap(try txn.get(database, key: key).map { Array($0) })
            value[byte(value.count)] ^= UInt8(1 << bit)
            try txn.put(database, key: key, value: value)
        }
    }

    static func be(_ n: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: n >> (56 - 8 * $0)) } }

    func assertViolationExit(_ r: CLIResult, seq: UInt64?, kind: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.summary, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("VIOLATION"), r.summary, file: file, line: line)
        let wanted = (seq.map { "seq \($0): " } ?? "") + "[\(kind)]"
        XCTAssertTrue(r.stdoutLines.contains { $0.hasPrefix("violation: ") && $0.contains(wanted) },
                      "no line with \(wanted): \(r.summary)", file: file, line: line)
        XCTAssertFalse(r.stdout.contains("INTACT"), file: file, line: line)
    }

    // MARK: - Clean

    func testCleanLedgerExitsZeroAndPrintsIntact() throws {
        try makeLedger()
        let r = try verify()
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.contains("result:       INTACT"), r.summary)
        XCTAssertTrue(r.stdout.contains("entries:      40"), r.summary)
        XCTAssertTrue(r.stdout.contains("pinned verifier key"), r.summary)
        XCTAssertFalse(r.stderr.contains("warning"), "a pinned key needs no warning: \(r.summary)")
    }

    func testWithoutAVerifierKeyWarnsAboutTheStoredKey() throws {
        try makeLedger()
        let r = try verify(pinned: false)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stderr.contains("warning"), r.summary)
        XCTAssertTrue(r.stderr.contains("--verifier-key"), r.summary)
        XCTAssertTrue(r.stderr.contains("stored inside the ledger"), r.summary)
        XCTAssertTrue(r.stdout.contains("ledger's own verifier key"), r.summary)
    }

    // MARK: - Tampering: exit 1, seq and class named

    func testFlippedCiphertextExitsOneNamingSeqAndClass() throws {
        try makeLedger()
        try flip("entries", key: Self.be(13), byte: { $0 - 20 }, bit: 2)
        assertViolationExit(try verify(), seq: 13, kind: "ciphertext-digest")
    }

    func testDeletedEntryExitsOneNamingSeqAndClass() throws {
        try makeLedger(storageFormat: 2)  // a row of `entries` deleted: one entry per row (format 3: EntryGroupTamperTests)
        try editRaw { txn, open in XCTAssertTrue(try txn.delete(try open("entries"), key: Self.be(20))) }
        let r = try verify()
        assertViolationExit(r, seq: 20, kind: "missing-entry")
        assertViolationExit(r, seq: 21, kind: "hash-chain")
    }

    func testATrailingByteAfterAnEntryGroupExitsOneNamingTheClass() throws {
        try makeLedger()  // storage format 3: the 40 entries are one group, under key 0
        try editRaw { txn, open in
            let entries = try open("entries"), grouped = try txn.storesEntryGroups(try open("meta"))
            XCTAssertTrue(grouped)
            let value = try XCTUnwrap(try txn.get(entries, key: Self.be(0)).map { Array($0) })
            try txn.put(entries, key: Self.be(0), value: value + [0])
        }
        let r = try verify()
        assertViolationExit(r, seq: 0, kind: "entry-group")
        XCTAssertTrue(r.stdout.contains("1 trailing"), r.summary)
    }

    func testSwappedEntriesExitOneNamingSeqAndClass() throws {
        try makeLedger()
        try editRaw { txn, open in
            let entries = try open("entries"), grouped = try txn.storesEntryGroups(try open("meta"))
            var a = [UInt8](), b = [UInt8]()
            try txn.editStoredEntry(entries, seq: 6, grouped: grouped) { b = $0 }
            try txn.editStoredEntry(entries, seq: 5, grouped: grouped) { a = $0; $0 = b }
            try txn.editStoredEntry(entries, seq: 6, grouped: grouped) { $0 = a }
        }
        let r = try verify()
        assertViolationExit(r, seq: 5, kind: "leaf-seq")
        assertViolationExit(r, seq: 6, kind: "hash-chain")
    }

    func testFlippedTreeHashExitsOneNamingSeqAndClass() throws {
        try makeLedger()
        try flip("tree", key: Self.be(0), byte: { _ in 7 })  // stored-hash index 0: record 0's hash
        assertViolationExit(try verify(), seq: 0, kind: "tree-hash")
    }

    func testFlippedCheckpointExitsOneNamingClass() throws {
        try makeLedger()
        try flip("checkpoints", key: Self.be(40), byte: { $0 - 10 }, bit: 1)
        assertViolationExit(try verify(), seq: nil, kind: "checkpoint-signature")
    }

    func testFlippedSourceIndexExitsOneNamingSeqAndClass() throws {
        try makeLedger()
        var seq: UInt64 = 0
        try editRaw { txn, open in
            // any row of the sources index: point it one entry further
            let sources = try open("sources")
            let cursor = try txn.cursor(sources)
            let first = try XCTUnwrap(try cursor.first())
            let key = Array(first.key)
            var value = Array(first.value)
            cursor.close()
            seq = value.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            value[7] ^= 0x01
            try txn.put(sources, key: key, value: value)
        }
        assertViolationExit(try verify(), seq: seq, kind: "source-index")
    }

    // MARK: - JSON

    func testJSONReportOfATamperedLedger() throws {
        try makeLedger()
        try flip("entries", key: Self.be(13), byte: { $0 - 20 }, bit: 2)
        let r = try verify(["--json"])
        XCTAssertEqual(r.status, 1, r.summary)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdoutBytes) as? [String: Any], r.summary)
        XCTAssertEqual(object["ok"] as? Bool, false)
        XCTAssertGreaterThan(try XCTUnwrap(object["violationCount"] as? Int), 0)
        XCTAssertEqual(object["entries"] as? Int, 40)
        XCTAssertEqual(object["verifierKeyPinned"] as? Bool, true)
        let violations = try XCTUnwrap(object["violations"] as? [[String: Any]])
        XCTAssertTrue(violations.contains { $0["class"] as? String == "ciphertext-digest" && $0["seq"] as? Int == 13 },
                      "\(violations)")
        XCTAssertTrue(violations.allSatisfy { $0["class"] is String && $0["detail"] is String })
    }

    func testJSONReportOfACleanLedger() throws {
        try makeLedger()
        let r = try verify(["--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdoutBytes) as? [String: Any], r.summary)
        XCTAssertEqual(object["ok"] as? Bool, true)
        XCTAssertEqual(object["violationCount"] as? Int, 0)
        XCTAssertEqual((object["violations"] as? [Any])?.count, 0)
        XCTAssertEqual(object["checkpointsChecked"] as? Int, 1)
        XCTAssertEqual(object["origin"] as? String, Self.origin)
    }

    // MARK: - Metrics

    /// `name{…} value` lines of a Prometheus textfile.
    func metricValues(_ path: String) throws -> [String: Double] {
        var values = [String: Double]()
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let name = parts[0].split(separator: "{").first else { continue }
            values[String(name)] = Double(parts[1])
        }
        return values
    }

    /// A metrics file that cannot be written is an I/O failure (74), never an integrity verdict (0 or 1).
    func testUnwritableMetricsFileIsAnIOError() throws {
        try makeLedger()
        let r = try verify(["--metrics", temp.appendingPathComponent("no-such-dir/ledger.prom").path])
        XCTAssertEqual(r.status, 74, r.summary)
        XCTAssertTrue(r.stderr.contains("no-such-dir/ledger.prom"), r.summary)
    }

    func testMetricsTextfile() throws {
        try makeLedger()
        let metricsDir = temp.appendingPathComponent("textfiles")
        try FileManager.default.createDirectory(at: metricsDir, withIntermediateDirectories: true)
        let metrics = metricsDir.appendingPathComponent("ledger.prom").path
        let before = Date().timeIntervalSince1970
        let ok = try verify(["--metrics", metrics])
        XCTAssertEqual(ok.status, 0, ok.summary)
        let first = try metricValues(metrics)
        XCTAssertEqual(first["ledger_verify_ok"], 1)
        XCTAssertEqual(first["ledger_verify_entries"], 40)
        XCTAssertEqual(first["ledger_verify_violations"], 0)
        XCTAssertNotNil(first["ledger_verify_duration_seconds"])
        let lastSuccess = try XCTUnwrap(first["ledger_verify_last_success_timestamp_seconds"])
        XCTAssertGreaterThanOrEqual(lastSuccess, before.rounded(.down) - 1)
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        XCTAssertTrue(text.contains("# TYPE ledger_verify_ok gauge"), text)
        XCTAssertTrue(text.contains("origin=\"\(Self.origin)\""), text)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: metricsDir.path), ["ledger.prom"],
                       "no temp file left behind")

        try flip("entries", key: Self.be(3), byte: { $0 - 1 })
        let bad = try verify(["--metrics", metrics])
        XCTAssertEqual(bad.status, 1, bad.summary)
        let second = try metricValues(metrics)
        XCTAssertEqual(second["ledger_verify_ok"], 0)
        XCTAssertGreaterThan(try XCTUnwrap(second["ledger_verify_violations"]), 0)
        XCTAssertEqual(second["ledger_verify_entries"], 40)
        XCTAssertEqual(second["ledger_verify_last_success_timestamp_seconds"], lastSuccess,
                       "the last success is kept on failure")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: metricsDir.path), ["ledger.prom"],
                       "no temp file left behind")
    }

    func testMetricsOfAFirstRunThatFails() throws {
        try makeLedger()
        try flip("entries", key: Self.be(3), byte: { $0 - 1 })
        let metrics = temp.appendingPathComponent("fresh.prom").path
        XCTAssertEqual(try verify(["--metrics", metrics]).status, 1)
        let values = try metricValues(metrics)
        XCTAssertEqual(values["ledger_verify_ok"], 0)
        XCTAssertEqual(values["ledger_verify_last_success_timestamp_seconds"], 0, "never succeeded")
    }

    /// A run that cannot finish (damaged storage) must not leave the last run's `ledger_verify_ok 1` in place.
    func testMetricsAfterARunThatCannotFinish() throws {
        try makeLedger()
        let metrics = temp.appendingPathComponent("ledger.prom").path
        XCTAssertEqual(try verify(["--metrics", metrics]).status, 0)
        let lastSuccess = try XCTUnwrap(try metricValues(metrics)["ledger_verify_last_success_timestamp_seconds"])
        let data = ledgerDir.appendingPathComponent("data.mdb")
        let handle = try FileHandle(forUpdating: data)
        try handle.truncate(atOffset: 8192)
        try handle.close()
        let r = try verify(["--metrics", metrics])
        assertStorageFailure(r)
        let values = try metricValues(metrics)
        XCTAssertEqual(values["ledger_verify_ok"], 0, "monitoring must see the failure")
        XCTAssertEqual(values["ledger_verify_last_success_timestamp_seconds"], lastSuccess)
    }

    // MARK: - Trusted checkpoints

    func testUpdateTrustedReplacesTheFileOnlyAfterACleanRun() throws {
        let old = try makeLedger(count: 20)
        let trusted = try write("trusted.txt", old)
        try importRecords(20..<40)
        let newer = try ledgerWithKey(["checkpoint"])
        XCTAssertEqual(newer.status, 0, newer.summary)
        XCTAssertNotEqual(newer.stdout, old)

        let clean = try verify(["--trusted", trusted, "--update-trusted"])
        XCTAssertEqual(clean.status, 0, clean.summary)
        XCTAssertTrue(clean.stdout.contains("trusted checkpoint at size 20 checked"), clean.summary)
        XCTAssertEqual(try String(contentsOfFile: trusted, encoding: .utf8), newer.stdout,
                       "replaced by the newest verified checkpoint")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temp.path).filter { $0.contains("trusted") },
                       ["trusted.txt"], "no temp file left behind")

        try flip("entries", key: Self.be(30), byte: { $0 - 1 })
        let after = try String(contentsOfFile: trusted, encoding: .utf8)
        let bad = try verify(["--trusted", trusted, "--update-trusted"])
        XCTAssertEqual(bad.status, 1, bad.summary)
        XCTAssertEqual(try String(contentsOfFile: trusted, encoding: .utf8), after,
                       "a failing run leaves the trusted file alone")
    }

    func testUpdateTrustedNeedsTrusted() throws {
        try makeLedger(count: 3)
        let r = try verify(["--update-trusted"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertNotEqual(r.status, 1, "a usage error is not an integrity violation: \(r.summary)")
    }

    func testOlderCopySwappedInFailsAgainstTheTrustedCheckpoint() throws {
        try makeLedger(count: 20)
        let old = temp.appendingPathComponent("old-copy")
        try FileManager.default.copyItem(at: ledgerDir, to: old)
        try importRecords(20..<40)
        let newest = try ledgerWithKey(["checkpoint"])
        let trusted = try write("trusted.txt", newest.stdout)
        XCTAssertEqual(try verify(["--trusted", trusted]).status, 0)
        try FileManager.default.removeItem(at: ledgerDir)
        try FileManager.default.moveItem(at: old, to: ledgerDir)
        XCTAssertEqual(try verify().status, 0, "the older copy is consistent in itself")
        let r = try verify(["--trusted", trusted])
        assertViolationExit(r, seq: nil, kind: "trusted-checkpoint")
        XCTAssertTrue(r.stdout.contains("names 40 entries but the ledger holds 20"), r.summary)
    }

    func testUnreadableTrustedFileIsNotAnIntegrityViolation() throws {
        try makeLedger(count: 3)
        let r = try verify(["--trusted", temp.appendingPathComponent("nope.txt").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertNotEqual(r.status, 1, r.summary)
    }

    func testReplacedVerifierKeyFileFailsWhenPinned() throws {
        try makeLedger(count: 5)
        // a different (well-formed) key in DIR/verifier.key: ledger metadata and file disagree
        let other = temp.appendingPathComponent("other")
        let otherKey = try ledger(["init", "--ledger", other.path, "--origin", Self.origin, "--key-file",
                                   temp.appendingPathComponent("keys/other.key").path]).stdout
        try otherKey.write(to: ledgerDir.appendingPathComponent("verifier.key"), atomically: true, encoding: .utf8)
        assertViolationExit(try verify(), seq: nil, kind: "verifier-key")
        let mismatched = try write("other.pub", otherKey)
        let r = try ledger(["verify", "--ledger", ledgerDir.path, "--verifier-key", mismatched])
        assertViolationExit(r, seq: nil, kind: "verifier-key")
        assertViolationExit(r, seq: nil, kind: "checkpoint-signature")
    }

    // MARK: - Deep

    func testDeepNeedsTheMasterKey() throws {
        try makeLedger(count: 5)
        let r = try verify(["--deep"])
        XCTAssertEqual(r.status, 77, r.summary)
        XCTAssertTrue(r.stderr.contains("--key-file"), r.summary)
        let deep = try ledger(["verify", "--ledger", ledgerDir.path, "--verifier-key", pinnedKey.path,
                               "--deep", "--key-file", keyFile.path])
        XCTAssertEqual(deep.status, 0, deep.summary)
        XCTAssertTrue(deep.stdout.contains("deep (decrypted every entry)"), deep.summary)
    }

    func testDeepFindsACorruptedMatterKey() throws {
        try makeLedger(count: 6)
        try flip("keys", key: [0, 0, 0, 1], byte: { $0 - 3 })
        XCTAssertEqual(try verify().status, 0, "keyless verify does not open matter keys")
        let deep = try ledger(["verify", "--ledger", ledgerDir.path, "--verifier-key", pinnedKey.path,
                               "--deep", "--key-file", keyFile.path])
        assertViolationExit(deep, seq: nil, kind: "matter-key")
    }

    // MARK: - Damaged or missing storage: never exit 1, never a crash

    func assertStorageFailure(_ r: CLIResult, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, r.summary, file: file, line: line)
        XCTAssertNotEqual(r.status, 1, "exit 1 means an integrity violation only: \(r.summary)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("ledger: error: "), "a clear message, not a crash: \(r.summary)",
                      file: file, line: line)
        XCTAssertTrue(r.stdout.isEmpty, r.summary, file: file, line: line)
    }

    func testTruncatedDataFile() throws {
        try makeLedger()
        let data = ledgerDir.appendingPathComponent("data.mdb")
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: data.path)[.size] as? NSNumber)
            .uint64Value
        let handle = try FileHandle(forUpdating: data)
        try handle.truncate(atOffset: size / 2)
        try handle.close()
        let r = try verify()
        assertStorageFailure(r)
        XCTAssertEqual(r.status, 74, r.summary)
        XCTAssertTrue(r.stderr.contains("truncated or damaged"), r.summary)
    }

    func testGarbageDataFile() throws {
        try makeLedger()
        let data = ledgerDir.appendingPathComponent("data.mdb")
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: data.path)[.size] as? NSNumber)
            .intValue
        var generator = SystemRandomNumberGenerator()
        try Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: data)
        let r = try verify()
        assertStorageFailure(r)
        XCTAssertEqual(r.status, 74, r.summary)
    }

    func testGarbageInEntryPagesIsAStorageErrorNotACrash() throws {
        try makeLedger(count: 300, storageFormat: 2)  // leaf pages of entries (format 3's groups are overflow pages)
        let data = ledgerDir.appendingPathComponent("data.mdb")
        var bytes = [UInt8](try Data(contentsOf: data))
        var damaged = 0
        for page in 2..<(bytes.count / 4096) {
            let p = page * 4096
            func u16(_ o: Int) -> Int { Int(bytes[p + o]) | Int(bytes[p + o + 1]) << 8 }
            guard u16(10) == 0x02, u16(12) > 16 else { continue }  // a plain leaf page with nodes
            let node = u16(16)
            guard node >= 18, node + 8 <= 4096, u16(node + 6) == 8,
                  u16(node) | u16(node + 2) << 16 > 200 else { continue }
            for o in (p + 16)..<(p + 4096) { bytes[o] = 0xA5 }  // an entries leaf page: scribble over its nodes
            damaged += 1
        }
        XCTAssertGreaterThan(damaged, 3)
        try Data(bytes).write(to: data)
        let r = try verify()
        assertStorageFailure(r)
        XCTAssertTrue(r.stderr.contains("damaged"), r.summary)
    }

    func testEmptyDirectoryIsNoLedger() throws {
        let empty = temp.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let r = try ledger(["verify", "--ledger", empty.path])
        // A directory without data.mdb holds no ledger: 66, like a missing directory (never 0 or 1).
        XCTAssertEqual(r.status, 66, r.summary)
        XCTAssertTrue(r.stderr.contains("no ledger at"), r.summary)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty.path), [],
                       "verify must not create anything")
    }

    func testMissingDirectoryIsNoLedger() throws {
        let r = try ledger(["verify", "--ledger", temp.appendingPathComponent("nowhere").path])
        XCTAssertEqual(r.status, 66, r.summary)
        XCTAssertTrue(r.stderr.contains("no ledger at"), r.summary)
    }
}
