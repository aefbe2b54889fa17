import Dispatch
import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import Logging
import MerkleLog
import Sodium

extension Ledger {
    /// Entries and matter rows scanned between releases of the mapped pages (those of the matters index, the only
    /// rows the scan reads through the map; each 4 KiB page touched may map a large folio of up to 2 MiB).
    static let releaseInterval = 256

    /// The one pass over the entries: every entry checked on every core, folded in seq order into the chain, the
    /// tree and the checkpoints, then the indexes compared with what the entries imply. Returns when entry 0 was
    /// recorded (nil without a decodable entry 0).
    func scan(_ txn: ReadTransaction, entries: DatabaseScan, sources: DatabaseScan, tree treeScan: DatabaseScan,
              staged: DatabaseScan?, options: VerifyOptions, ring: KeyRing?, keyCheck: BackgroundKeyCheck?,
              pending: [PendingCheckpoint],
              into report: inout VerifyReport) throws -> Int64? {
        let context = try ScanContext(runKey: SecureRandom.bytes(PrefixedSHA256.prefixByteCount),
                                      keys: KeyDirectory(txn, keys: store.keys, matterKeys: store.matterKeys,
                                                         destroyed: try destroyedTags(txn), release: { pointer in
                                          self.store.environment.releaseMappedPages(containing: pointer)
                                      }),
                                      ledgerID: ledgerID, ring: ring, keyCheck: keyCheck)
        var chain = ChainFold(checkpoints: pending, storedTree: StoredTreeHashes(treeScan))
        chain.compareEmptyTreeCheckpoints(into: &report)
        let reader = ChunkReader(entries: entries, layout: store.entryLayout, sources: sources,
                                 matterRows: try IndexRows(txn, store.matters), chunkSize: options.chunkSize)
        var storedRows = try checkAndFold(reader, chain: &chain, context: context, into: &report)
        reader.groupViolations.forEach { report.add($0) }
        if let staged { storedRows.sources.add(try stagedRowsDigest(staged, context: context)) }
        report.bytesHashed += reader.bytesRead
        chain.finish(into: &report)
        Self.logger.debug("verify entries scanned",
                          metadata: ["hwm": "\((ProcessMemory.peakResidentBytes() ?? 0) >> 20)M"])
        try checkIndexCounts(txn, entries: Int(chain.tree.size), records: Int(chain.tree.size) - chain.eventCount,
                             sourced: chain.sourced, into: &report)
        try checkAccessRegistry(txn, expected: chain.access, into: &report)
        try checkRetentionRegistry(txn, expected: chain.access.retention, into: &report)
        report.shredded = chain.shreddedRanges
        try checkEventIndex(txn, expected: chain.eventSeqs, into: &report)
        try checkKeyRows(txn, mattersSeen: chain.mattersSeen, context: context, into: &report)
        let matters = storedRows.matters != chain.expectedMatterRows
        let sources = storedRows.sources != chain.expectedSourceRows
        if matters || sources { try locateIndexDamage(txn, matters: matters, sources: sources, into: &report) }
        return chain.firstRecordedAt
    }

    /// The keyed set digest of the staged source rows (format 2: seq → tag), as the (tag, seq) rows they stand for.
    /// Normally empty: an import moves them into `sources` when it ends.
    private func stagedRowsDigest(_ staged: DatabaseScan, context: ScanContext) throws -> IndexSetDigest {
        var digest = IndexSetDigest()
        let batch = RowBatch()
        while try staged.next(4096, into: batch) > 0 {
            for row in batch.rows {
                digest.add(context.rowDigest(domain: IndexSetDigest.sourceDomain, key: row.value, value: row.key,
                                             worker: 0))
            }
            batch.removeAll()
        }
        return digest
    }

    /// The pipeline: the workers check chunk k+1 while this thread folds chunk k (the fold is sequential); then this
    /// thread helps check chunk k+1 until it is done. Returns the keyed digests of the index rows stored.
    private func checkAndFold(_ reader: ChunkReader, chain: inout ChainFold, context: ScanContext,
                              into report: inout VerifyReport) throws -> (matters: IndexSetDigest,
                                                                          sources: IndexSetDigest) {
        var stored = (matters: IndexSetDigest(), sources: IndexSetDigest())
        var waitNanos: UInt64 = 0, foldNanos: UInt64 = 0  // "wait" = time the fold waited for the workers
        defer { Self.logger.debug("verify scan", metadata: ["wait": "\(waitNanos / 1_000_000)ms",
                                                             "fold": "\(foldNanos / 1_000_000)ms"]) }
        var scannedSinceRelease = 0
        var running = ChunkCheck.start(try reader.next(), ledger: self, context: context)
        // When reading or folding throws, the workers must be done with the chunk (views into the map, which the
        // caller may close) before the error leaves: the error thrown is the one to report.
        defer { _ = try? running?.finish() }
        while let check = running {
            let upcoming = try reader.next()
            let waitStart = DispatchTime.now().uptimeNanoseconds
            let (checked, lastValue) = try check.finish()
            stored.matters.add(checked.matterRows)
            stored.sources.add(checked.sourceRows)
            let foldStart = DispatchTime.now().uptimeNanoseconds
            waitNanos += foldStart - waitStart
            running = ChunkCheck.start(upcoming, ledger: self, context: context)
            scannedSinceRelease += checked.facts.count + checked.mappedRows
            if scannedSinceRelease >= Self.releaseInterval, let pointer = lastValue {
                store.environment.releaseMappedPages(containing: pointer)  // constant memory: no pile-up in RSS
                scannedSinceRelease = 0
            }
            try withExtendedLifetime(check) { try chain.fold(checked.facts, into: &report) }  // facts in its buffer
            foldNanos += DispatchTime.now().uptimeNanoseconds - foldStart
        }
        return stored
    }
}

/// Reads the scan's chunks: stored entries and source rows copied out of the file (never mapped: see
/// DatabaseScan) into two alternating batches, one being checked while the next is read, and the matter rows
/// (sorted duplicates, read with a cursor: views into the map, valid for the read transaction). The index rows
/// are read alongside the entries so that the same workers digest them while the entries are checked.
final class ChunkReader {
    private let entries: DatabaseScan
    private let groups: EntryGroupReader?
    private let sources: DatabaseScan
    private let matterRows: IndexRows
    private let chunkSize: Int
    private var batches = (RowBatch(), RowBatch())
    /// Bytes of stored entries read so far (all of them are hashed).
    private(set) var bytesRead = 0

    /// What the group structure of `entries` showed (storage format 3).
    var groupViolations: [Violation] { groups?.violations ?? [] }

    init(entries: DatabaseScan, layout: EntryLayout, sources: DatabaseScan, matterRows: IndexRows, chunkSize: Int) {
        self.entries = entries
        groups = layout == .grouped ? EntryGroupReader() : nil
        self.sources = sources
        self.matterRows = matterRows
        self.chunkSize = chunkSize
    }

    /// The next chunk; its copies stay valid until the chunk after next is read.
    func next() throws -> ScanChunk {
        batches = (batches.1, batches.0)  // the other batch's chunk has been checked
        batches.0.removeAll()
        var chunk = ScanChunk(batch: batches.0)
        let count: Int
        if let groups {
            // Room for the chunk once (a chunk ends within one group of `chunkSize` entries): growing the array group
            // by group reallocated it ~75 times a chunk, and glibc's heap grew with the ledger (verify's RSS at 3M
            // entries: 20.2 MiB anonymous against 13.9 with this).
            chunk.entries.reserveCapacity(chunkSize + EntryAppender.maxGroupEntries)
            count = try groups.read(entries, atLeast: chunkSize, into: batches.0, chunk: &chunk)
        } else {
            count = try entries.next(chunkSize, into: batches.0)
            chunk.entries.reserveCapacity(count)
            for row in batches.0.rows { chunk.entries.append((UInt64(bigEndianBytes: row.key), row.value)) }
        }
        for row in batches.0.rows { bytesRead += row.value.count }
        // The index rows keep pace with the entries (a format 3 chunk holds up to a group more than `chunkSize`):
        // otherwise the entries ran out first at 10M, and the last ~20 chunks of matter rows, mapped and never
        // released (no entries to count), put 45 MiB of the file into verify's RSS.
        let rows = count > 0 ? count : chunkSize
        _ = try sources.next(rows, into: batches.0)
        chunk.sourceRows = batches.0.rows[count...]
        chunk.matterRows = try matterRows.next(rows)
        return chunk
    }
}
