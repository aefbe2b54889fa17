import Foundation
import XCTest

final class BackupCLITests: CLITestCase {
    var backupDir: URL { temp.appendingPathComponent("backups/nightly") }

    func testBackupVerifiesAndRestoresWithTheSameKey() throws {
        let verifierKey = try initLedger()
        let pinned = try write("pinned.key", verifierKey + "\n")
        let imported = try ledgerWithKey(["import", try write("in.jsonl", Sample.jsonl(count: 25))])
        XCTAssertEqual(imported.status, 0, imported.summary)
        let checkpoint = try ledgerWithKey(["checkpoint"])
        XCTAssertEqual(checkpoint.status, 0, checkpoint.summary)
        let trusted = try write("trusted.checkpoint", checkpoint.stdout)

        // No key needed; JSON summary.
        let r = try ledger(["backup", "--ledger", ledgerDir.path, "--to", backupDir.path,
                            "--verifier-key", pinned, "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        let summary = try jsonObject(r.stdout.trimmingCharacters(in: .newlines))
        XCTAssertEqual(summary["ok"] as? Bool, true)
        XCTAssertEqual(summary["entries"] as? Int, 25)
        XCTAssertEqual(summary["checkpointsChecked"] as? Int, 1)
        XCTAssertGreaterThan(summary["bytes"] as? Int ?? 0, 0)

        // The source and the copy report the same root.
        let source = try ledger(["verify", "--ledger", ledgerDir.path, "--verifier-key", pinned, "--json"])
        XCTAssertEqual(source.status, 0, source.summary)
        XCTAssertEqual(try jsonObject(source.stdout)["root"] as? String, summary["root"] as? String)

        // The copy verifies on its own against the trusted checkpoint, and opens with the same master key.
        let copy = try ledger(["verify", "--ledger", backupDir.path, "--verifier-key", pinned,
                               "--trusted", trusted, "--json"])
        XCTAssertEqual(copy.status, 0, copy.summary)
        XCTAssertEqual(try jsonObject(copy.stdout)["root"] as? String, summary["root"] as? String)
        let shown = try ledger(["show", "12", "--json", "--ledger", backupDir.path, "--key-file", keyFile.path])
        XCTAssertEqual(shown.status, 0, shown.summary)
        let original = try ledgerWithKey(["show", "12", "--json"])
        XCTAssertEqual(shown.stdout, original.stdout)
        XCTAssertEqual(((try jsonObject(shown.stdout))["record"] as? [String: Any])?["sourceId"] as? String, "src-12")
    }

    func testBackupTextOutput() throws {
        try initLedger()
        try appendRecord(Sample.record())
        let r = try ledger(["backup", "--to", backupDir.path], env: ["LEDGER_DIR": ledgerDir.path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.contains("entries:      1\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("result:       VERIFIED"), r.stdout)
    }

    func testBackupRefusesNonEmptyTarget() throws {
        try initLedger()
        try appendRecord(Sample.record())
        try FileManager.default.createDirectory(at: backupDir, withIntermediateDirectories: true)
        let keep = backupDir.appendingPathComponent("older-backup.txt")
        try Data("keep".utf8).write(to: keep)
        let r = try ledger(["backup", "--ledger", ledgerDir.path, "--to", backupDir.path])
        XCTAssertEqual(r.status, 73, r.summary)
        XCTAssertTrue(r.stderr.contains("not an empty directory"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: backupDir.path), ["older-backup.txt"])
    }

    func testBackupUsageErrors() throws {
        try initLedger()
        XCTAssertEqual(try ledger(["backup", "--ledger", ledgerDir.path]).status, 64, "--to is required")
        let missing = try ledger(["backup", "--ledger", temp.appendingPathComponent("nope").path,
                                  "--to", backupDir.path])
        XCTAssertEqual(missing.status, 66, missing.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: backupDir.path))
    }
}
