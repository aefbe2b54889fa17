import Foundation
@testable import Ledger
import LedgerFormat
import MerkleLog
import RecordFormats
import XCTest

final class BackupTests: XCTestCase {
    private func records(_ count: Int, prefix: String) throws -> [ValidatedRecord] {
        try (0..<count).map { i in
            try validRecord(["sourceSystem": "pms", "sourceId": .string("\(prefix)-\(i)"),
                             "subject": .string("update \(i)")],
                            matter: i % 3 == 0 ? "M-1" : "M-2")
        }
    }

    func testBackupVerifiesAndHasTheSameRoot() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(records(300, prefix: "a"))
        try t.ledger.signCheckpoint()
        _ = try t.ledger.append(records(20, prefix: "b"))
        let target = t.temp.file("backups/one")
        let summary = try t.ledger.backup(to: target)
        XCTAssertEqual(summary.entries, 320)
        XCTAssertEqual(summary.root, try t.ledger.rootHash())
        XCTAssertEqual(summary.checkpointsChecked, 1)
        XCTAssertGreaterThan(summary.bytes, 0)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: target)), ["data.mdb", "verifier.key"])
        XCTAssertEqual(try String(contentsOfFile: target + "/verifier.key", encoding: .utf8),
                       try String(contentsOfFile: t.directory + "/verifier.key", encoding: .utf8))
        let mode = (try FileManager.default.attributesOfItem(atPath: target + "/data.mdb")[.posixPermissions]
                    as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o600)

        // Independently: the copy opens and verifies, pinned to the source's key.
        let copy = try Ledger.open(at: target)
        defer { copy.close() }
        let report = try copy.verify(VerifyOptions(pinnedVerifierKey: t.ledger.storedVerifierKey))
        XCTAssertTrue(report.isIntact, "\(report.violations)")
        XCTAssertEqual(report.entries, 320)
        XCTAssertEqual(report.root, try t.ledger.rootHash())
        XCTAssertEqual(copy.ledgerID, t.ledger.ledgerID)
        XCTAssertEqual(try copy.latestCheckpoint(), try t.ledger.latestCheckpoint())
    }

    func testBackupOfAnEmptyLedger() throws {
        let t = try TestLedger()
        let summary = try t.ledger.backup(to: t.temp.file("empty-backup"))
        XCTAssertEqual(summary.entries, 0)
        XCTAssertEqual(summary.root, Hash.emptyTree)
    }

    func testBackupUnlocksWithTheSameKeyAndDecrypts() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(records(50, prefix: "k"))
        let target = t.temp.file("backup")
        _ = try t.ledger.backup(to: target)
        let copy = try Ledger.open(at: target)
        defer { copy.close() }
        try copy.unlock(with: .keyFile(path: t.keyPath))
        let original = try allEntries(t.ledger)
        let restored = try allEntries(copy)
        XCTAssertEqual(restored.count, 50)
        XCTAssertEqual(restored.map(\.record), original.map(\.record))
        XCTAssertEqual(restored.map(\.leafHash), original.map(\.leafHash))
        XCTAssertEqual(restored[7].string("sourceId"), "k-7")
        // Deep verification of the copy: every ciphertext opens with the same master key.
        XCTAssertTrue(try copy.verify(VerifyOptions(deep: true)).isIntact)
        // The copy is a working ledger: idempotence carries over, appends continue the chain.
        XCTAssertEqual(try copy.append(validRecord(["sourceSystem": "pms", "sourceId": "k-3"])), .duplicate(of: 3))
        XCTAssertEqual(try copy.append(validRecord()), .appended(seq: 50))
    }

    func testBackupIsRefusedForANonEmptyTarget() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(records(3, prefix: "r"))
        let target = t.temp.file("occupied")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let keep = try t.temp.write("occupied/keep.txt", "do not touch")
        assertLedgerError(try t.ledger.backup(to: target)) {
            if case .backupTargetNotEmpty = $0 { return true }
            return false
        }
        XCTAssertEqual(try String(contentsOfFile: keep, encoding: .utf8), "do not touch")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), ["keep.txt"])
        // A file in the way is refused too; an existing empty directory is fine.
        let file = try t.temp.write("a-file", "x")
        assertLedgerError(try t.ledger.backup(to: file)) {
            if case .backupTargetNotEmpty = $0 { return true }
            return false
        }
        let empty = t.temp.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        XCTAssertEqual(try t.ledger.backup(to: empty).entries, 3)
        // Not into the ledger itself.
        assertLedgerError(try t.ledger.backup(to: t.directory + "/inside")) {
            if case .invalidArgument = $0 { return true }
            return false
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.directory + "/inside"))
    }

    func testBackupWithAWrongPinnedKeyIsRemoved() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(records(5, prefix: "p"))
        try t.ledger.signCheckpoint()
        let other = try TestLedger(origin: "other.invalid/ledger")
        let target = t.temp.file("pinned")
        assertLedgerError(try t.ledger.backup(to: target, pinnedVerifierKey: other.ledger.storedVerifierKey)) {
            if case .corrupt = $0 { return true }
            return false
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target), "an unverified backup was left behind")
    }

    func testHotBackupWhileAnotherThreadAppends() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(records(4000, prefix: "base"))
        let ledger = t.ledger
        let writer = BackgroundAppender(ledger, prefix: "hot")
        // Let the writer get going, then back up while it runs.
        writer.waitFor(batches: 3)
        let before = writer.batches
        let summaries = try (0..<3).map { try ledger.backup(to: t.temp.file("hot-\($0)")) }
        let appendedDuringBackups = writer.batches
        XCTAssertNil(writer.stop(), "the writer failed")
        XCTAssertGreaterThan(appendedDuringBackups, before, "the writer made no progress during the backups")

        let finalSize = try ledger.size()
        for summary in summaries {
            XCTAssertGreaterThan(summary.entries, 4000)
            XCTAssertLessThanOrEqual(summary.entries, finalSize)
            XCTAssertEqual((summary.entries - 4000) % UInt64(BackgroundAppender.batchSize), 0,
                           "a backup holds part of a batch")
            XCTAssertEqual(summary.root, try ledger.rootHash(size: summary.entries),
                           "the copy is not a prefix of the source")
            let copy = try Ledger.open(at: summary.directory)
            let report = try copy.verify(VerifyOptions(pinnedVerifierKey: ledger.storedVerifierKey))
            copy.close()
            XCTAssertTrue(report.isIntact, "\(report.violations)")
            XCTAssertEqual(report.entries, summary.entries)
        }
        XCTAssertTrue(try ledger.verify().isIntact)
    }
}
