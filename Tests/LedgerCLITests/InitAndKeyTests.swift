import Foundation
import XCTest

/// `ledger init` and how every command treats the master key file.
final class InitAndKeyTests: CLITestCase {
    func testInitPrintsVerifierKeyAndWritesVerifierKeyFile() throws {
        let printed = try initLedger()
        // <name>+<8 hex key id>+<base64(0x01 || 32-byte Ed25519 key)>
        let parts = printed.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(parts.count, 3, "verifier key: \(printed)")
        XCTAssertEqual(parts[0], Self.origin)
        XCTAssertEqual(parts[1].count, 8)
        XCTAssertTrue(parts[1].allSatisfy { $0.isHexDigit && !$0.isUppercase },
                      "key id is not 8 lowercase hex digits: \(parts[1])")
        let key = try XCTUnwrap(Data(base64Encoded: parts[2]), "key is not base64: \(parts[2])")
        XCTAssertEqual(key.count, 33)
        XCTAssertEqual(key.first, 0x01, "algorithm byte must be 1 (Ed25519)")

        let stored = try String(contentsOf: ledgerDir.appendingPathComponent("verifier.key"), encoding: .utf8)
        XCTAssertEqual(stored, printed + "\n")

        let mode = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600, "a new master key file must be mode 0600")
        XCTAssertFalse(try String(contentsOf: keyFile, encoding: .utf8).isEmpty)
    }

    /// One-character relative paths (`--key-file k`): Foundation's deletingLastPathComponent traps on them, and
    /// `init` once crashed with SIGILL after creating the key file.
    func testInitWithOneCharacterRelativePathsInTheWorkingDirectory() throws {
        let r = try ledger(["init", "--ledger", "l", "--origin", Self.origin, "--key-file", "k"], directory: temp)
        XCTAssertEqual(r.status, 0, r.summary)
        let record = try write("r.json", Sample.record())
        XCTAssertEqual(try ledger(["append", "--ledger", "l", "--key-file", "k", record], directory: temp).status, 0)
        let verify = try ledger(["verify", "--ledger", "l"], directory: temp)
        XCTAssertEqual(verify.status, 0, verify.summary)
    }

    func testInitTakesKeyFileFromEnvironment() throws {
        let r = try ledger(["init", "--ledger", ledgerDir.path, "--origin", Self.origin],
                           env: ["LEDGER_KEY_FILE": keyFile.path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: keyFile.path))
    }

    func testInitRefusesNonEmptyDirectory() throws {
        try FileManager.default.createDirectory(at: ledgerDir, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: ledgerDir.appendingPathComponent("notes.txt"))
        let r = try ledger(["init", "--ledger", ledgerDir.path, "--origin", Self.origin, "--key-file", keyFile.path])
        XCTAssertEqual(r.status, 73, r.summary)
        XCTAssertTrue(r.stderr.contains("not empty"), r.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: keyFile.path), "no key may be left behind")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: ledgerDir.path), ["notes.txt"])
    }

    func testInitRefusesExistingKeyFile() throws {
        let existing = Data("do not overwrite\n".utf8)
        try existing.write(to: keyFile)
        let r = try ledger(["init", "--ledger", ledgerDir.path, "--origin", Self.origin, "--key-file", keyFile.path])
        XCTAssertEqual(r.status, 73, r.summary)
        XCTAssertTrue(r.stderr.contains("already exists"), r.summary)
        XCTAssertEqual(try Data(contentsOf: keyFile), existing)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledgerDir.appendingPathComponent("data.mdb").path))
    }

    func testInitRefusesKeyInsideLedgerUnlessAllowed() throws {
        let inside = ledgerDir.appendingPathComponent("master.key").path
        let refused = try ledger(["init", "--ledger", ledgerDir.path, "--origin", Self.origin, "--key-file", inside])
        XCTAssertEqual(refused.status, 73, refused.summary)
        XCTAssertTrue(refused.stderr.contains("--allow-key-inside"), refused.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: inside))

        let allowed = try ledger(["init", "--ledger", ledgerDir.path, "--origin", Self.origin, "--key-file", inside,
                                  "--allow-key-inside"])
        XCTAssertEqual(allowed.status, 0, allowed.summary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: inside))
        let append = try ledger(["append", try write("r.json", Sample.record()),
                                 "--ledger", ledgerDir.path, "--key-file", inside])
        XCTAssertEqual(append.status, 0, append.summary)
        XCTAssertEqual(append.stdout, "0\n")
    }

    func testInitWithoutKeyIsAUsageError() throws {
        let r = try ledger(["init", "--ledger", ledgerDir.path, "--origin", Self.origin])
        XCTAssertEqual(r.status, 64, r.summary)
        XCTAssertTrue(r.stderr.contains("--key-file"), r.summary)
    }

    func testInitRejectsBadOrigin() throws {
        let r = try ledger(["init", "--ledger", ledgerDir.path, "--origin", "has space", "--key-file", keyFile.path])
        XCTAssertEqual(r.status, 64, r.summary)
        XCTAssertTrue(r.stderr.contains("origin"), r.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: keyFile.path))
    }

    func testKeyFileReadableByOthersIsRefused() throws {
        try initLedger()
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile.path)
        let r = try ledgerWithKey(["list"])
        XCTAssertEqual(r.status, 77, r.summary)
        XCTAssertTrue(r.stderr.contains("chmod 600"), r.summary)
        XCTAssertTrue(r.stdout.isEmpty, r.summary)
    }

    func testKeyFromEnvironmentVariable() throws {
        try initLedger()
        let path = try write("r.json", Sample.record())
        let r = try ledger(["append", path, "--ledger", ledgerDir.path], env: ["LEDGER_KEY_FILE": keyFile.path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "0\n")
        let viaDirEnv = try ledger(["show", "0"], env: ["LEDGER_DIR": ledgerDir.path, "LEDGER_KEY_FILE": keyFile.path])
        XCTAssertEqual(viaDirEnv.status, 0, viaDirEnv.summary)
    }

    func testNoKeyNamesBothWaysToGiveIt() throws {
        try initLedger()
        for command in [["list"], ["show", "0"], ["checkpoint"], ["append", try write("r.json", Sample.record())]] {
            let r = try ledger(command + ["--ledger", ledgerDir.path])
            XCTAssertEqual(r.status, 77, "\(command): \(r.summary)")
            XCTAssertTrue(r.stderr.contains("--key-file") && r.stderr.contains("LEDGER_KEY_FILE"),
                          "\(command): \(r.summary)")
        }
    }

    func testAnotherLedgersKeyIsRefused() throws {
        try initLedger()
        let otherDir = temp.appendingPathComponent("other")
        let otherKey = temp.appendingPathComponent("keys/other.key")
        let made = try ledger(["init", "--ledger", otherDir.path, "--origin", Self.origin, "--key-file", otherKey.path])
        XCTAssertEqual(made.status, 0, made.summary)
        for command in [["list"], ["checkpoint"]] {
            let r = try ledger(command + ["--ledger", ledgerDir.path, "--key-file", otherKey.path])
            XCTAssertEqual(r.status, 77, "\(command): \(r.summary)")
            XCTAssertTrue(r.stderr.contains("does not unlock"), r.summary)
        }
    }

    func testMalformedKeyFileIsRefused() throws {
        try initLedger()
        let bad = temp.appendingPathComponent("keys/bad.key")
        _ = FileManager.default.createFile(atPath: bad.path, contents: Data("not a key\n".utf8),
                                           attributes: [.posixPermissions: 0o600])
        let r = try ledger(["list", "--ledger", ledgerDir.path, "--key-file", bad.path])
        XCTAssertEqual(r.status, 77, r.summary)
    }

    func testMissingKeyFile() throws {
        try initLedger()
        let missing = temp.appendingPathComponent("keys/missing.key").path
        let r = try ledger(["list", "--ledger", ledgerDir.path, "--key-file", missing])
        // A missing key file is a key problem: 77, like every other key error.
        XCTAssertEqual(r.status, 77, r.summary)
        XCTAssertTrue(r.stderr.contains("does not exist"), r.summary)
    }

    func testNoLedgerIsNotFound() throws {
        try initLedger()
        let nowhere = temp.appendingPathComponent("nowhere").path
        for command in [["list"], ["show", "0"], ["checkpoint"], ["append", try write("r.json", Sample.record())],
                        ["import", try write("r.jsonl", Sample.jsonl(count: 1))]] {
            let r = try ledger(command + ["--ledger", nowhere, "--key-file", keyFile.path])
            XCTAssertEqual(r.status, 66, "\(command): \(r.summary)")
            XCTAssertTrue(r.stderr.contains("no ledger at"), "\(command): \(r.summary)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: nowhere), "a read must not create a ledger directory")
    }

    func testNoLedgerGivenIsAUsageError() throws {
        let r = try ledger(["list", "--key-file", keyFile.path])
        XCTAssertEqual(r.status, 64, r.summary)
        XCTAssertTrue(r.stderr.contains("LEDGER_DIR"), r.summary)
    }
}
