import Foundation
@testable import Ledger
import LedgerFormat
import MerkleLog
import XCTest

/// `Ledger.publishTiles`: the c2sp.org/tlog-tiles files it writes, incremental runs, and what it refuses.
final class TilePublishTests: XCTestCase {
    /// Appends `count` records (in batches) and signs a checkpoint.
    private func grow(_ ledger: Ledger, by count: Int, matter: String = "M-1") throws {
        var left = count
        while left > 0 {
            let batch = min(left, 200)
            _ = try ledger.append((0..<batch).map { _ in try validRecord(matter: matter) })
            left -= batch
        }
        try ledger.signCheckpoint()
    }

    private func publish(_ ledger: Ledger, to dir: String, withLeaves: Bool = false) throws -> PublishReport {
        var options = PublishOptions(directory: dir)
        options.withLeaves = withLeaves
        return try ledger.publishTiles(options)
    }

    /// Every leaf's bytes, read from the `entries` database (not from anything the publisher wrote).
    private func leaves(_ ledger: Ledger) throws -> [[UInt8]] {
        try ledger.store.environment.read { txn in
            try (0..<txn.entryCount(ledger.store)).map { seq in Array(try XCTUnwrap(txn.storedEntry(ledger.store, seq)).leaf) }
        }
    }

    /// Every regular file under `dir`, relative, sorted.
    private func files(_ dir: String) -> [String] {
        let walker = FileManager.default.enumerator(atPath: dir)
        var out: [String] = []
        while let name = walker?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(name)
            }
        }
        return out.sorted()
    }

    private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// The tiles of sizes that cross tile boundaries hold MTH of the records they span, recomputed from the leaves.
    func testPublishedTilesHoldTheSubtreeHashesOfTheLeaves() throws {
        let t = try TestLedger()
        var total = 0
        for size in [1, 255, 256, 257, 513, 600] {
            try grow(t.ledger, by: size - total)
            total = size
            let dir = t.temp.file("tiles-\(size)")
            let report = try publish(t.ledger, to: dir)
            XCTAssertEqual(report.size, UInt64(size))
            XCTAssertNil(report.previousSize)
            let tiles = Tile.tiles(treeSize: Int64(size))
            XCTAssertEqual(files(dir), (tiles.map(\.path) + ["checkpoint"]).sorted(), "size \(size)")
            XCTAssertEqual(report.tilesWritten, tiles.count)
            XCTAssertEqual(try bytes(dir + "/checkpoint"), Array(try XCTUnwrap(t.ledger.latestCheckpoint()).utf8))
            let hashes = try leaves(t.ledger).map(recordHash)
            for tile in tiles {
                XCTAssertEqual(try bytes(dir + "/" + tile.path), expectedTile(tile, hashes), "\(tile) at size \(size)")
            }
        }
    }

    private func expectedTile(_ tile: Tile, _ leafHashes: [Hash]) -> [UInt8] {
        let span = 1 << (Tile.height * tile.level)
        return (0..<tile.width).flatMap { i -> [UInt8] in
            let start = Int(tile.recordRange.lowerBound) + i * span
            var builder = TreeBuilder()
            for h in leafHashes[start..<(start + span)] { builder.append(h) }
            return builder.rootHash().bytes
        }
    }

    func testFilesArePublicAndTheDirectoryIsCreated() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 3)
        let dir = t.temp.file("deep/tiles")
        _ = try publish(t.ledger, to: dir)
        for (path, mode) in [(dir, 0o755), (dir + "/tile/0", 0o755), (dir + "/tile/0/000.p/3", 0o644),
                             (dir + "/checkpoint", 0o644)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, mode, path)
        }
    }

    /// A second run writes only what the larger tree adds, never touches a full tile, and removes the partial tiles
    /// whose full tile now exists (keeping those still needed by an older checkpoint).
    func testSecondPublishWritesOnlyNewTiles() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 600)
        let dir = t.temp.file("tiles")
        _ = try publish(t.ledger, to: dir, withLeaves: true)
        let before = try identity(dir + "/tile/0/000")
        try grow(t.ledger, by: 100)
        let report = try publish(t.ledger, to: dir, withLeaves: true)
        XCTAssertEqual(report.previousSize, 600)
        XCTAssertEqual(report.size, 700)
        // 700 = 2·256 + 188: only the level-0 partial tile grows.
        let added = Tile.newTiles(from: 600, to: 700)
        XCTAssertEqual(added.map(\.path), ["tile/0/002.p/188"], "level 1 still holds 2 hashes")
        XCTAssertEqual(report.tilesWritten, 1)
        XCTAssertEqual(report.tilesSkipped, Tile.tiles(treeSize: 700).count - 1)
        XCTAssertEqual(report.bundlesWritten, 1)
        XCTAssertEqual(try identity(dir + "/tile/0/000"), before, "a full tile is never rewritten")
        XCTAssertTrue(files(dir).contains("tile/0/002.p/88"), "its full tile does not exist yet: kept")

        try grow(t.ledger, by: 100)
        let third = try publish(t.ledger, to: dir, withLeaves: true)
        XCTAssertEqual(third.tilesWritten, Tile.newTiles(from: 700, to: 800).count)
        XCTAssertEqual(third.partialsRemoved, 4, "002.p/88 and 002.p/188, tile and bundle")
        XCTAssertFalse(files(dir).contains { $0.hasPrefix("tile/0/002.p") || $0.hasPrefix("tile/entries/002.p") })
        XCTAssertTrue(files(dir).contains("tile/1/000.p/2"), "level 1 is still partial: older widths kept")

        let again = try publish(t.ledger, to: dir, withLeaves: true)
        XCTAssertEqual(again.tilesWritten + again.bundlesWritten, 0)
        XCTAssertFalse(again.checkpointWritten)
    }

    /// A run that stopped after its tiles but before its checkpoint: the next run finds the new tiles in place,
    /// checks their bytes, writes none of them again, and then the checkpoint.
    func testARunInterruptedBeforeItsCheckpointIsCompleted() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 300)
        let dir = t.temp.file("tiles")
        _ = try publish(t.ledger, to: dir)
        let old = try bytes(dir + "/checkpoint")
        try grow(t.ledger, by: 300)
        _ = try publish(t.ledger, to: dir)
        try Data(old).write(to: URL(fileURLWithPath: dir + "/checkpoint"))
        let report = try publish(t.ledger, to: dir)
        XCTAssertEqual(report.previousSize, 300)
        XCTAssertEqual(report.tilesWritten, 0, "every new tile was there, with the ledger's bytes")
        XCTAssertEqual(report.tilesSkipped, Tile.tiles(treeSize: 600).count)
        XCTAssertTrue(report.checkpointWritten)
    }

    private func identity(_ path: String) throws -> [String] {
        let a = try FileManager.default.attributesOfItem(atPath: path)
        return ["\(a[.systemFileNumber] ?? "")", "\(a[.modificationDate] ?? "")"]
    }

    func testEntryBundlesHashToTheLevelZeroTiles() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 300)
        let dir = t.temp.file("tiles")
        let report = try publish(t.ledger, to: dir, withLeaves: true)
        XCTAssertEqual(report.bundlesWritten, 2)
        let leafBytes = try leaves(t.ledger)
        for tile in Tile.tiles(treeSize: 300) where tile.level == 0 {
            let entries = try splitBundle(try bytes(dir + "/" + tile.entriesPath))
            XCTAssertEqual(entries, Array(leafBytes[Int(tile.recordRange.lowerBound)..<Int(tile.recordRange.upperBound)]))
            let tileBytes = try bytes(dir + "/" + tile.path)
            XCTAssertEqual(entries.flatMap { recordHash($0).bytes }, tileBytes, tile.entriesPath)
        }
    }

    /// Big-endian u16 length-prefixed entries (tlog-tiles "Log entries").
    private func splitBundle(_ data: [UInt8]) throws -> [[UInt8]] {
        var out: [[UInt8]] = [], i = 0
        while i < data.count {
            let n = Int(data[i]) << 8 | Int(data[i + 1])
            out.append(Array(data[(i + 2)..<(i + 2 + n)]))
            i += 2 + n
        }
        XCTAssertEqual(i, data.count)
        return out
    }

    func testEntriesAfterTheNewestCheckpointAreNotPublished() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 10)
        _ = try t.ledger.append(try validRecord())
        let report = try publish(t.ledger, to: t.temp.file("tiles"))
        XCTAssertEqual(report.size, 10)
        XCTAssertEqual(report.ledgerSize, 11)
    }

    func testNoCheckpointIsRefused() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(try validRecord())
        XCTAssertThrowsError(try publish(t.ledger, to: t.temp.file("tiles"))) {
            guard case PublishError.noCheckpoint = $0 else { return XCTFail("\($0)") }
        }
    }

    func testDirectoriesThatAreNotATiledLogAreRefused() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 3)
        for dir in [t.directory, t.directory + "/tiles", t.temp.path] {
            XCTAssertThrowsError(try publish(t.ledger, to: dir), dir) {
                guard case PublishError.directoryInsideLedger = $0 else { return XCTFail("\(dir): \($0)") }
            }
        }
        let other = t.temp.file("other")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        _ = try t.temp.write("other/index.html", "<html>")
        XCTAssertThrowsError(try publish(t.ledger, to: other)) {
            guard case PublishError.foreignFiles = $0 else { return XCTFail("\($0)") }
        }
    }

    /// Another log's directory: its checkpoint does not verify with this key; or it has no checkpoint but tiles
    /// that differ from this ledger's.
    func testAnotherLogsTilesAreRefused() throws {
        let a = try TestLedger(origin: "a.example/log"), b = try TestLedger(origin: "b.example/log")
        try grow(a.ledger, by: 300)
        try grow(b.ledger, by: 300)
        let dir = a.temp.file("tiles")
        _ = try publish(b.ledger, to: dir)
        XCTAssertThrowsError(try publish(a.ledger, to: dir)) {
            guard case PublishError.otherLog = $0 else { return XCTFail("\($0)") }
        }
        try FileManager.default.removeItem(atPath: dir + "/checkpoint")
        XCTAssertThrowsError(try publish(a.ledger, to: dir)) {
            guard case PublishError.otherLog(_, let reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("tile/0/000"), reason)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/checkpoint"), "nothing published over it")
    }

    /// The same log, forked (a copy grown differently), and an older copy: both refused.
    func testForkAndRollbackAreRefused() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 300)
        t.ledger.close()
        let copy = t.temp.file("copy")
        try FileManager.default.copyItem(atPath: t.directory, toPath: copy)
        let ledger = try t.reopen()
        defer { ledger.close() }
        try grow(ledger, by: 10, matter: "M-original")
        let dir = t.temp.file("tiles")
        _ = try publish(ledger, to: dir)

        let fork = try Ledger.open(at: copy)
        defer { fork.close() }
        XCTAssertThrowsError(try publish(fork, to: dir)) {
            guard case PublishError.wouldRollBack(_, 310, 300) = $0 else { return XCTFail("\($0)") }
        }
        try fork.unlock(with: .keyFile(path: t.keyPath))
        try grow(fork, by: 20, matter: "M-fork")
        XCTAssertThrowsError(try publish(fork, to: dir)) {
            guard case PublishError.inconsistent = $0 else { return XCTFail("\($0)") }
        }
    }

    /// A tile the directory should not yet hold, with other bytes than the ledger's, is a fork: refused.
    func testAMismatchedTileIsRefused() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 100)
        let dir = t.temp.file("tiles")
        _ = try publish(t.ledger, to: dir)
        try grow(t.ledger, by: 200)
        try FileManager.default.createDirectory(atPath: dir + "/tile/0", withIntermediateDirectories: true)
        _ = try t.temp.write("tiles/tile/0/000", bytes: [UInt8](repeating: 7, count: 8192))
        XCTAssertThrowsError(try publish(t.ledger, to: dir)) {
            guard case PublishError.inconsistent(_, let reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("tile/0/000"), reason)
        }
    }
}

/// Symlinks below the tile directory are never followed (a shared web root must not let a publish write or delete
/// outside it), and two publishes into one directory cannot run at once.
final class TileDirectorySafetyTests: XCTestCase {
    private func grow(_ ledger: Ledger, by count: Int) throws {
        _ = try ledger.append((0..<count).map { _ in try validRecord() })
        try ledger.signCheckpoint()
    }

    func testASymlinkedPartialDirectoryIsNotEmptied() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 20)
        let dir = t.temp.file("tiles")
        _ = try t.ledger.publishTiles(PublishOptions(directory: dir))
        let victim = t.temp.file("victim")
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        _ = try t.temp.write("victim/important", "keep me")
        try FileManager.default.removeItem(atPath: dir + "/tile/0/000.p")
        try FileManager.default.createSymbolicLink(atPath: dir + "/tile/0/000.p", withDestinationPath: victim)
        try grow(t.ledger, by: 300)
        _ = try? t.ledger.publishTiles(PublishOptions(directory: dir))
        XCTAssertTrue(FileManager.default.fileExists(atPath: victim + "/important"), "a symlinked .p was emptied")
    }

    func testASymlinkedTileDirectoryIsRefused() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 5)
        let dir = t.temp.file("tiles"), elsewhere = t.temp.file("elsewhere")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/tile", withDestinationPath: elsewhere)
        XCTAssertThrowsError(try t.ledger.publishTiles(PublishOptions(directory: dir))) { error in
            XCTAssertTrue("\(error)".contains("symbolic link"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/checkpoint"))
    }

    func testTwoPublishesIntoOneDirectoryDoNotRunAtOnce() throws {
        let t = try TestLedger()
        try grow(t.ledger, by: 5)
        let dir = t.temp.file("tiles")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let held = try PublishLock(directory: dir)
        XCTAssertThrowsError(try t.ledger.publishTiles(PublishOptions(directory: dir))) { error in
            XCTAssertTrue("\(error)".contains("another `ledger publish`"), "\(error)")
        }
        _ = held
    }
}
