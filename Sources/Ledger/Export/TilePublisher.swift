import Foundation
import LMDB
import LedgerSupport
import MerkleLog
import SignedNote

extension Ledger {
    /// Publishes the newest stored checkpoint as a c2sp.org/tlog-tiles log in `options.directory`: hash tiles, entry
    /// bundles if asked, then the checkpoint, last. Needs no key: the checkpoint is verified with the verifier key
    /// and against the stored tree before anything is written. Incremental: a directory that already publishes this
    /// log gets only the tiles its checkpoint lacks; full tiles are never rewritten.
    public func publishTiles(_ options: PublishOptions) throws -> PublishReport {
        let started = Date()
        let key = try publishKey(options.pinnedVerifierKey)
        guard let note = try latestCheckpoint() else { throw PublishError.noCheckpoint }
        let target = try TileDirectory(path: options.directory, ledgerDirectory: directory)
        var report = try LedgerError.wrap("publish tiles") {
            try store.environment.read { txn in
                var run = try TilePublication(ledger: self, txn: txn, key: key, target: target, note: note)
                return try run.publish(withLeaves: options.withLeaves)
            }
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    private func publishKey(_ pinned: String?) throws -> NoteVerifierKey {
        do {
            let text = pinned ?? storedVerifierKey
            return try NoteVerifierKey(text: text.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw LedgerError.invalidArgument("the verifier key is malformed: \(error)")
        }
    }
}

/// One publish: a consistent snapshot of the ledger (one read transaction) written into one tile directory.
private struct TilePublication {
    let ledger: Ledger
    let txn: ReadTransaction
    let key: NoteVerifierKey
    var target: TileDirectory
    let note: String
    let source: TileSource
    let head: (size: UInt64, root: Hash)
    let hashes: TreeHashReader

    init(ledger: Ledger, txn: ReadTransaction, key: NoteVerifierKey, target: TileDirectory, note: String) throws {
        self.ledger = ledger
        self.txn = txn
        self.key = key
        self.target = target
        self.note = note
        source = try TileSource(txn, ledger.store)
        hashes = TreeHashReader(transaction: txn, store: ledger.store)
        head = try Self.verifiedHead(note, ledger: ledger, key: key, txn: txn, hashes: hashes)
    }

    /// The newest stored checkpoint, opened with the verifier key; its root must be the stored tree's at its size.
    private static func verifiedHead(_ note: String, ledger: Ledger, key: NoteVerifierKey, txn: ReadTransaction,
                                     hashes: TreeHashReader) throws -> (size: UInt64, root: Hash) {
        let head: (size: UInt64, root: Hash)
        do {
            head = try ledger.openCheckpoint(note, key: key)
        } catch {
            throw LedgerError.corrupt("the newest stored checkpoint does not verify with the verifier key: \(error)")
        }
        let entries = try txn.entryCount(ledger.store)
        guard head.size <= entries else {
            throw LedgerError.corrupt("the newest checkpoint names \(head.size) entries; the ledger has \(entries)")
        }
        guard try treeHash(size: Int64(head.size), reader: hashes) == head.root else {
            throw LedgerError.corrupt("the newest checkpoint's root is not the stored tree's at size \(head.size)")
        }
        return head
    }

    mutating func publish(withLeaves: Bool) throws -> PublishReport {
        let previous = try previousSize()
        var report = PublishReport(directory: target.path, origin: ledger.origin, size: head.size, root: head.root,
                                   ledgerSize: try txn.entryCount(ledger.store), previousSize: previous)
        let fresh = Set(Tile.newTiles(from: Int64(previous ?? 0), to: Int64(head.size)))
        let firstFresh = (Int64(previous ?? 0) >> Tile.height) << Tile.height
        let prefetch = StoredHashPrefetch(store: ledger.store, range: storedHashIndex(level: 0, n: firstFresh)
                                              ..< storedHashCount(Int64(head.size)))
        defer { prefetch.finish() }
        do {
            try placeTiles(fresh: fresh, mustMatch: previous != nil, withLeaves: withLeaves, into: &report)
        } catch {
            try? target.finishWrites()  // what was queued is this log's: let it land, then report the failure
            throw error
        }
        try target.finishWrites()
        report.checkpointWritten = try writeCheckpoint()
        report.bytesWritten += report.checkpointWritten ? note.utf8.count : 0
        for tile in fresh where tile.isFull {
            report.partialsRemoved += target.removePartials(of: tile.path)
            if tile.level == 0 { report.partialsRemoved += target.removePartials(of: tile.entriesPath) }
        }
        report.bundlesLeftBehind = !withLeaves && target.exists(directory: "tile/entries")
        return report
    }

    /// Queues every tile (and bundle) of the checkpoint's tree that the directory lacks; `fresh` are those the
    /// directory's own checkpoint does not cover.
    private mutating func placeTiles(fresh: Set<Tile>, mustMatch: Bool, withLeaves: Bool,
                                     into report: inout PublishReport) throws {
        let all = Tile.tiles(treeSize: Int64(head.size)), source = self.source
        for tile in all {
            let bytes = try place(tile.path, known: !fresh.contains(tile), mustMatch: mustMatch) {
                try source.tileBytes(tile)
            }
            report.tilesWritten += bytes == nil ? 0 : 1
            report.tilesSkipped += bytes == nil ? 1 : 0
            report.bytesWritten += bytes ?? 0
        }
        for tile in all where withLeaves && tile.level == 0 {
            let bytes = try place(tile.entriesPath, known: !fresh.contains(tile), mustMatch: mustMatch) {
                try source.bundleBytes(tile)
            }
            report.bundlesWritten += bytes == nil ? 0 : 1
            report.bundlesSkipped += bytes == nil ? 1 : 0
            report.bytesWritten += bytes ?? 0
        }
    }

    /// The size of the directory's checkpoint, once shown to be this log's and consistent with the ledger; nil when
    /// there is none.
    private func previousSize() throws -> UInt64? {
        guard let bytes = target.contents(TileDirectory.checkpointName) else { return nil }
        let old: (size: UInt64, root: Hash)
        do {
            old = try ledger.openCheckpoint(String(decoding: bytes, as: UTF8.self), key: key)
        } catch {
            throw PublishError.otherLog(path: target.path, reason: "its checkpoint is not this log's (\(error))")
        }
        guard old.size <= head.size else {
            throw PublishError.wouldRollBack(path: target.path, published: old.size, newest: head.size)
        }
        // The ledger must contain the published tree: same root at that size (else a fork or a rewritten ledger).
        let root = try treeHash(size: Int64(old.size), reader: hashes)
        guard root == old.root else {
            throw PublishError.inconsistent(path: target.path,
                                            reason: "its checkpoint of size \(old.size) has root \(old.root.base64); "
                                                + "the ledger's tree of that size has \(root.base64)")
        }
        return old.size
    }

    /// Writes the file at `relative` unless it is there already. A file of the published tree (`known`) is trusted
    /// once it exists; any other existing file must hold exactly the ledger's bytes. Returns the bytes written
    /// (nil: none).
    private mutating func place(_ relative: String, known: Bool, mustMatch: Bool,
                                _ bytes: () throws -> [UInt8]) throws -> Int? {
        if known && target.exists(relative) { return nil }
        let existing = known ? nil : target.contents(relative)
        let expected = try bytes()
        if let existing {
            guard existing != expected else { return nil }
            let reason = "\(relative) differs from the ledger's"
            throw mustMatch ? PublishError.inconsistent(path: target.path, reason: reason)
                            : PublishError.otherLog(path: target.path, reason: reason)
        }
        try target.write(expected, to: relative)
        return expected.count
    }

    /// The checkpoint goes last: a reader never sees a checkpoint whose tiles are missing. Returns whether it wrote.
    private mutating func writeCheckpoint() throws -> Bool {
        let bytes = Array(note.utf8)
        if target.contents(TileDirectory.checkpointName) == bytes { return false }
        try AtomicFile.write(bytes: bytes, to: target.file(TileDirectory.checkpointName), mode: TileDirectory.fileMode)
        return true
    }
}
