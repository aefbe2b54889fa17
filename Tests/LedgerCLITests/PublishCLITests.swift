import Foundation
import XCTest

/// `ledger publish --tiles DIR`, read back by an independent reader: Go's tlog.TileHashReader in
/// tools/interop/notecheck (`notecheck tiles`), which authenticates every tile against the checkpoint.
final class PublishCLITests: CLITestCase {
    private func readTiles(_ dir: URL, _ extra: [String] = []) throws -> CLIResult {
        try notecheck(["tiles", verifierKeyPath, dir.path] + extra)
    }

    private var verifierKeyPath: String { ledgerDir.appendingPathComponent("verifier.key").path }
    private var tilesDir: URL { temp.appendingPathComponent("public") }

    /// Imports `count` records (sourceIds from `first`) and signs a checkpoint; returns the checkpoint's path.
    @discardableResult
    private func grow(_ count: Int, from first: Int = 0) throws -> String {
        let lines = (first..<(first + count)).map { i in
            Sample.record(matter: "M-\(i % 3)", sourceId: "s-\(i)", subject: "Update \(i)")
        }
        let input = try write("records-\(first).jsonl", lines.joined(separator: "\n") + "\n")
        let imported = try ledgerWithKey(["import", input])
        XCTAssertEqual(imported.status, 0, imported.summary)
        let r = try ledgerWithKey(["checkpoint"])
        XCTAssertEqual(r.status, 0, r.summary)
        return try write("checkpoint-\(first + count).txt", r.stdoutBytes)
    }

    private func publish(_ extra: [String] = []) throws -> CLIResult {
        try ledger(["publish", "--ledger", ledgerDir.path, "--tiles", tilesDir.path] + extra)
    }

    private func publishJSON(_ extra: [String] = []) throws -> [String: Any] {
        let r = try publish(extra + ["--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        return try jsonObject(r.stdout)
    }

    func testGoReadsProofsFromThePublishedTiles() throws {
        _ = try notecheckBinary()
        try initLedger()
        try grow(600)
        let first = try publishJSON(["--with-leaves"])
        XCTAssertEqual(first["size"] as? Int, 600)
        XCTAssertEqual(first["tilesWritten"] as? Int, 4, "tile/0/000, 001, 002.p/88, tile/1/000.p/2")
        XCTAssertEqual(first["bundlesWritten"] as? Int, 3)
        let r = try readTiles(tilesDir, ["all"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.hasPrefix("ok origin=\(Self.origin) size=600 ") && r.stdout.contains("records=600 bundles=3"),
                      r.summary)
    }

    /// A second publish writes only what the grown tree adds; full tiles keep their inode and mtime; Go proves the
    /// new checkpoint consistent with the old one from the tiles.
    func testIncrementalPublishAndConsistencyProof() throws {
        _ = try notecheckBinary()
        try initLedger()
        let old = try grow(300)
        XCTAssertEqual(try publish().status, 0)
        let full = tilesDir.appendingPathComponent("tile/0/000").path
        let before = try FileManager.default.attributesOfItem(atPath: full)
        try grow(500, from: 300)
        let second = try publishJSON()
        XCTAssertEqual(second["previousSize"] as? Int, 300)
        XCTAssertEqual(second["size"] as? Int, 800)
        // 300 → 800: tile/0/001, 002, 003.p/32 and tile/1/000.p/3 (tile/0/000 is unchanged).
        XCTAssertEqual(second["tilesWritten"] as? Int, 4)
        XCTAssertEqual(second["tilesUnchanged"] as? Int, 1)
        XCTAssertEqual(second["partialsRemoved"] as? Int, 1, "tile/0/001.p/44, now full")
        let after = try FileManager.default.attributesOfItem(atPath: full)
        XCTAssertEqual(after[.systemFileNumber] as? Int, before[.systemFileNumber] as? Int)
        XCTAssertEqual(after[.modificationDate] as? Date, before[.modificationDate] as? Date)
        let r = try readTiles(tilesDir, ["--old", old, "0", "299", "300", "799"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.contains("size=800 ") && r.stdout.hasSuffix("consistent-with=300\n"), r.summary)
        let text = try ledger(["publish", "--ledger", ledgerDir.path, "--tiles", tilesDir.path])
        XCTAssertEqual(text.status, 0, text.summary)
        XCTAssertTrue(text.stdout.contains("tiles:        0 written, 5 unchanged"), text.summary)
    }

    func testTheReaderCatchesAFlippedByte() throws {
        _ = try notecheckBinary()
        try initLedger()
        try grow(600)
        XCTAssertEqual(try publish(["--with-leaves"]).status, 0)
        for (path, index) in [("tile/0/001", "300"), ("tile/0/002.p/88", "590"), ("tile/1/000.p/2", "10"),
                              ("tile/entries/001", "300")] {
            let url = tilesDir.appendingPathComponent(path)
            let original = try Data(contentsOf: url)
            var tampered = original
            tampered[tampered.count / 2] ^= 0x01
            try tampered.write(to: url)
            let r = try readTiles(tilesDir, [index])
            XCTAssertEqual(r.status, 1, "\(path): \(r.summary)")
            try original.write(to: url)
        }
        XCTAssertEqual(try readTiles(tilesDir, ["all"]).status, 0, "every byte restored")
    }

    func testPublishRefusals() throws {
        try initLedger()
        try appendRecord(Sample.record())
        let none = try publish()
        XCTAssertEqual(none.status, 66, none.summary)
        XCTAssertTrue(none.stderr.contains("ledger checkpoint"), none.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tilesDir.appendingPathComponent("checkpoint").path))

        XCTAssertEqual(try ledgerWithKey(["checkpoint"]).status, 0)
        let inside = try ledger(["publish", "--ledger", ledgerDir.path, "--tiles", ledgerDir.appendingPathComponent("t").path])
        XCTAssertEqual(inside.status, 73, inside.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledgerDir.appendingPathComponent("t").path))

        // Another ledger's published directory.
        let other = temp.appendingPathComponent("other")
        XCTAssertEqual(try ledger(["init", "--ledger", other.path, "--origin", "other.example/log",
                                   "--key-file", temp.appendingPathComponent("keys/other.key").path]).status, 0)
        XCTAssertEqual(try ledger(["checkpoint", "--ledger", other.path,
                                   "--key-file", temp.appendingPathComponent("keys/other.key").path]).status, 0)
        XCTAssertEqual(try ledger(["publish", "--ledger", other.path, "--tiles", tilesDir.path]).status, 0)
        let foreign = try publish()
        XCTAssertEqual(foreign.status, 73, foreign.summary)
        XCTAssertTrue(foreign.stderr.contains("another log"), foreign.summary)
    }

    func testHelpWarnsThatEntryBundlesRevealMetadata() throws {
        let r = try ledger(["publish", "--help"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.contains("USAGE: ledger publish"), r.summary)
        XCTAssertTrue(r.stdout.contains("--with-leaves") && r.stdout.contains("metadata"), r.summary)
    }
}
