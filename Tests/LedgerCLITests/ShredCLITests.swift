import Foundation
import LMDB
import XCTest

/// `ledger hold`, `shred`, `rotate-master`, `compact` and `retention status` end to end, with the built binary.
final class ShredCLITests: CLITestCase {
    private var newKey: URL { temp.appendingPathComponent("keys/new.key") }

    /// 100,000 entries of 100 matters (M-000 … M-099), imported through the CLI; one reader of M-007 and M-008.
    private func bigLedger() throws {
        try initLedger()
        var lines = [String]()
        lines.reserveCapacity(100_000)
        for i in 0..<100_000 {
            lines.append(Sample.record(matter: String(format: "M-%03d", i % 100), sourceId: "pms-\(i)",
                                       occurredAt: String(format: "2026-%02d-%02dT10:00:00Z", 1 + i % 12, 1 + i % 28),
                                       subject: "Update \(i)"))
        }
        let input = try write("big.jsonl", lines.joined(separator: "\n") + "\n")
        let imported = try ledgerWithKey(["import", input])
        XCTAssertEqual(imported.status, 0, imported.summary)
        let grant = try ledgerWithKey(["grant", "p.jones", "--role", "reader", "--matter", "M-007", "--matter", "M-008",
                                       "-o", temp.appendingPathComponent("keys/pj.cred").path])
        XCTAssertEqual(grant.status, 0, grant.summary)
    }

    func testShredOneMatterOfA100kLedgerEndToEnd() throws {
        try bigLedger()
        let policy = try write("retention.json", #"{"closed":[{"matter":"M-007","closedAt":"2012-06-30"}]}"#)
        let backup = temp.appendingPathComponent("backup-before")
        try FileManager.default.copyItem(at: ledgerDir, to: backup)
        let before = try keyMaterial(backup.path)

        // A hold blocks shred whatever the flags; releasing it unblocks it.
        let hold = try ledgerWithKey(["hold", "--matter", "M-007", "--reason", "Smith v. Firm", "--by", "GC"])
        XCTAssertEqual(hold.status, 0, hold.summary)
        let shredArgs = ["shred", "--matter", "M-007", "--reason", "retention period over", "--by", "records manager",
                         "--new-key-file", newKey.path]
        for extra in [["--policy", policy], ["--policy", policy, "--before-retention-end"]] {
            let refused = try ledgerWithKey(shredArgs + extra)
            XCTAssertEqual(refused.status, 64, refused.summary)
            XCTAssertTrue(refused.stderr.contains("legal hold of entry \(hold.stdout.trimmingCharacters(in: .newlines))"),
                          refused.summary)
        }
        XCTAssertEqual(try ledgerWithKey(["hold", "--release", "--matter", "M-007", "--reason", "settled"]).status, 0)
        // Not closed under the default policy: refused without --before-retention-end.
        let early = try ledgerWithKey(shredArgs)
        XCTAssertEqual(early.status, 64, early.summary)
        XCTAssertTrue(early.stderr.contains("--before-retention-end"), early.summary)

        let shred = try ledgerWithKey(shredArgs + ["--policy", policy])
        XCTAssertEqual(shred.status, 0, shred.summary)
        XCTAssertTrue(shred.stdout.contains("destroyed matter M-007: 1000 entries, seq 7–99907"), shred.summary)
        XCTAssertTrue(shred.stdout.contains("none found"), shred.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: keyFile.path), "the old key file is destroyed")
        try assertGone(before: before, after: try keyMaterial(ledgerDir.path))

        let withNew = ["--ledger", ledgerDir.path, "--key-file", newKey.path]
        let keyless = try ledger(["verify", "--ledger", ledgerDir.path, "--json"])
        XCTAssertEqual(keyless.status, 0, keyless.summary)
        let json = try jsonObject(keyless.stdout)
        let shredded = try XCTUnwrap(json["shredded"] as? [[String: Any]])
        XCTAssertEqual(shredded.first?["entries"] as? Int, 1000)
        let deep = try ledger(["verify", "--deep"] + withNew)
        XCTAssertEqual(deep.status, 0, deep.summary)
        XCTAssertTrue(deep.stdout.contains("1000 entries shredded (seq 7–99907, destruction entry #100004)"), deep.summary)

        let show = try ledger(["show", "7"] + withNew)
        XCTAssertEqual(show.status, 0, show.summary)
        XCTAssertTrue(show.stdout.contains("destroyed on "), show.summary)
        XCTAssertTrue(show.stdout.contains("retention period over"), show.summary)
        let list = try ledger(["list", "--matter", "M-007"] + withNew)
        XCTAssertEqual(list.status, 0, list.summary)
        XCTAssertEqual(list.stdout.components(separatedBy: "destroyed on ").count - 1, 1000, "every entry says so")
        let other = try ledger(["show", "8"] + withNew)
        XCTAssertTrue(other.stdout.contains("M-008"), "another matter is untouched: \(other.summary)")
        let report = try ledger(["report", "--matter", "M-007"] + withNew)
        XCTAssertEqual(report.status, 0, report.summary)
        XCTAssertTrue(report.stdout.contains("DESTROYED MATTERS (1000 entries counted, not readable"), report.summary)

        // A metadata-only bundle of the destroyed matter: both verifiers check every proof offline.
        let bundle = temp.appendingPathComponent("m007.zip").path
        let export = try ledger(["export", "--matter", "M-007", "-o", bundle] + withNew)
        XCTAssertEqual(export.status, 0, export.summary)
        XCTAssertTrue(export.stderr.contains("1000 entries of destroyed matters"), export.summary)
        let verifierKey = ledgerDir.appendingPathComponent("verifier.key").path
        let checked = try ledger(["verify-bundle", bundle, "--verifier-key", verifierKey, "--json"])
        XCTAssertEqual(checked.status, 0, checked.summary)
        XCTAssertEqual(try jsonObject(checked.stdout)["destroyedEntries"] as? Int, 1000, checked.summary)
        let script = LedgerBinary.packageRoot.appendingPathComponent("tools/verify_bundle.py").path
        let python = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, bundle, "--verifier-key",
                                                                           verifierKey], environment: baseEnvironment(),
                                    scratch: temp)
        XCTAssertEqual(python.status, 0, python.summary)
        XCTAssertEqual(try ledger(["export", "--matter", "M-008", "-o", temp.appendingPathComponent("m8.zip").path]
                                  + withNew).status, 0, "another matter exports as before")

        // The backup from before: it verifies, but the new key does not open it (and the old key file is gone).
        let old = try ledger(["verify", "--ledger", backup.path])
        XCTAssertEqual(old.status, 0, old.summary)
        let oldWithNew = try ledger(["list", "--matter", "M-007", "--ledger", backup.path, "--key-file", newKey.path])
        XCTAssertEqual(oldWithNew.status, 77, oldWithNew.summary)
        XCTAssertTrue(oldWithNew.stderr.contains("does not unlock this ledger"), oldWithNew.summary)
        XCTAssertFalse(oldWithNew.stdout.contains("M-007"))

        let status = try ledger(["retention", "status", "--policy", policy, "--json"] + withNew)
        XCTAssertEqual(status.status, 0, status.summary)
        let rows = try status.stdout.split(separator: "\n").map { try jsonObject(String($0)) }
        XCTAssertEqual(rows.count, 100)
        XCTAssertEqual(rows.first { $0["matter"] as? String == "M-007" }?["state"] as? String, "destroyed")

        // Tampering: one byte of the hold entry's reason, and the destroy entry's count (1000 → 1001).
        try rewrite(seq: 100_001, replacing: "Smith v. Firm", with: "Smith v. Farm")
        try rewrite(seq: 100_004, replacing: "\"entries\":1000", with: "\"entries\":1001")
        let tampered = try ledger(["verify", "--ledger", ledgerDir.path, "--json"])
        XCTAssertEqual(tampered.status, 1, tampered.summary)
        let classes = Set(try XCTUnwrap(try jsonObject(tampered.stdout)["violations"] as? [[String: Any]])
            .compactMap { $0["class"] as? String })
        XCTAssertTrue(classes.isSuperset(of: ["hash-chain", "tree-hash", "checkpoint-root", "destroyed-matter"]),
                      "\(classes)")
    }

    /// Rewrites the stored entry `seq`, replacing one text by another of the same length.
    private func rewrite(seq: UInt64, replacing old: String, with new: String) throws {
        let env = try Environment(path: ledgerDir.path, maxDatabases: 16, mapSize: 1 << 32)
        defer { env.close() }
        let entries = try env.openDatabase("entries"), meta = try env.openDatabase("meta")
        try env.write { txn in
            try txn.editStoredEntry(entries, seq: seq, grouped: try txn.storesEntryGroups(meta)) { value in
                let needle = Array(old.utf8)
                let at = try XCTUnwrap((0...(value.count - needle.count)).first { Array(value[$0..<$0 + needle.count]) == needle })
                value.replaceSubrange(at..<at + needle.count, with: Array(new.utf8))
            }
        }
    }

    func testRotateMasterLeavesTheOldKeyOpeningNothing() throws {
        try initLedger()
        _ = try appendRecord(Sample.record())
        let kept = temp.appendingPathComponent("keys/kept-copy.key")
        try FileManager.default.copyItem(at: keyFile, to: kept)
        let rotate = try ledgerWithKey(["rotate-master", "--reason", "administrator left", "--new-key-file", newKey.path])
        XCTAssertEqual(rotate.status, 0, rotate.summary)
        XCTAssertTrue(rotate.stdout.contains("master key rotated to epoch 1"), rotate.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: keyFile.path))
        let refused = try ledger(["show", "0", "--ledger", ledgerDir.path, "--key-file", kept.path])
        XCTAssertEqual(refused.status, 77, refused.summary)
        XCTAssertTrue(refused.stderr.contains("rotated 1 time"), refused.summary)
        let shown = try ledger(["show", "0", "--ledger", ledgerDir.path, "--key-file", newKey.path])
        XCTAssertEqual(shown.status, 0, shown.summary)
        XCTAssertEqual(try ledger(["verify", "--deep", "--ledger", ledgerDir.path, "--key-file", newKey.path]).status, 0)
    }

    func testRetentionStatusAndCompactOnASmallLedger() throws {
        try initLedger()
        for matter in ["A-1", "B-2"] { _ = try appendRecord(Sample.record(matter: matter)) }
        let policy = try write("p.json", #"{"defaultRetention":{"years":6},"closed":[{"matter":"A-1","closedAt":"2015-01-31"}]}"#)
        let status = try ledgerWithKey(["retention", "status", "--policy", policy, "--fail-on-eligible"])
        XCTAssertEqual(status.status, 1, status.summary)
        XCTAssertTrue(status.stdout.contains("eligible"), status.summary)
        XCTAssertTrue(status.stdout.contains("2021-01-31"), "closedAt + 6 years: \(status.summary)")
        let bad = try ledgerWithKey(["retention", "status", "--policy", try write("bad.json", #"{"defaultRetention":{"weeks":2}}"#)])
        XCTAssertEqual(bad.status, 64, bad.summary)
        XCTAssertTrue(bad.stderr.contains("weeks"), bad.summary)
        let compact = try ledger(["compact", "--ledger", ledgerDir.path])
        XCTAssertEqual(compact.status, 0, compact.summary)
        XCTAssertEqual(try ledger(["verify", "--ledger", ledgerDir.path]).status, 0)
    }

    // MARK: - Helpers

    /// Every value of the keys database, of the access database and the sealed signing key.
    private func keyMaterial(_ directory: String) throws -> Set<[UInt8]> {
        let env = try Environment(path: directory, maxDatabases: 16, mapSize: 1 << 30, flags: [.readOnly])
        defer { env.close() }
        let dbs = [try env.openDatabase("keys"), try env.openDatabase("access")]
        let meta = try env.openDatabase("meta")
        return try env.read { txn in
            var out = Set<[UInt8]>()
            for db in dbs {
                let cursor = try txn.cursor(db)
                defer { cursor.close() }
                var row = try cursor.first()
                while let current = row {
                    out.insert(Array(current.value))
                    row = try cursor.next()
                }
            }
            if let seal = try txn.get(meta, key: Array("signingKey".utf8)) { out.insert(Array(seal)) }
            return out
        }
    }

    /// The stored key material that the shred replaced is in no file of the ledger directory.
    private func assertGone(before: Set<[UInt8]>, after: Set<[UInt8]>) throws {
        let gone = before.subtracting(after)
        XCTAssertGreaterThanOrEqual(gone.count, 100, "M-007's keys and wraps, and every other matter's old key pair seal")
        for name in try FileManager.default.contentsOfDirectory(atPath: ledgerDir.path) {
            let data = try Data(contentsOf: ledgerDir.appendingPathComponent(name))
            let found = gone.filter { data.range(of: Data($0)) != nil }
            XCTAssertTrue(found.isEmpty, "\(name) still holds \(found.count) destroyed wrapped key(s)")
        }
    }
}
