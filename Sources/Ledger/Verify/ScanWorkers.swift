import Dispatch
import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import RecordFormats
import SignedNote
import Sodium

/// Per-run state shared by the scan's workers (read-only, except what each worker index owns).
final class ScanContext: @unchecked Sendable {
    // @unchecked: immutable after init; the per-participant arrays are indexed only by their own participant.
    let keys: KeyDirectory
    let ledgerID: [UInt8]
    /// Deep only: one scratch per participant of a `ChunkCheck` (the workers, then the scanning thread).
    let scratches: [DeepScratch]
    /// SHA-256 with the run key absorbed, one per participant.
    private let keyed: [PrefixedSHA256]

    /// `runKey`: fresh random bytes per run, chosen after the files are fixed, so nobody can build index rows
    /// that collide.
    init(runKey: [UInt8], keys: KeyDirectory, ledgerID: [UInt8], deep: Bool) {
        self.keys = keys
        self.ledgerID = ledgerID
        scratches = deep ? (0...availableCores).map { _ in DeepScratch(ledgerID: ledgerID) } : []
        keyed = (0...availableCores).map { _ in runKey.withUnsafeBytes { PrefixedSHA256(prefix: $0) } }
    }

    /// SHA-256(run key || domain || key || value): a PRF of one index row (fixed-length inputs). The run key fills
    /// the first block, absorbed once per run; the rest is assembled on the stack.
    func rowDigest(domain: UInt8, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, worker: Int) -> Hash {
        withUnsafeTemporaryAllocation(byteCount: 1 + key.count + value.count, alignment: 8) { message in
            message[0] = domain
            if let base = key.baseAddress { (message.baseAddress! + 1).copyMemory(from: base, byteCount: key.count) }
            if let base = value.baseAddress {
                (message.baseAddress! + 1 + key.count).copyMemory(from: base, byteCount: value.count)
            }
            return keyed[worker].hash(UnsafeRawBufferPointer(message))
        }
    }

    /// The row digest of (tag, big-endian seq): the row a leaf implies in the matters or sources index.
    func rowDigest(domain: UInt8, key: Hash, seq: UInt64, worker: Int) -> Hash {
        withUnsafeBytes(of: seq.bigEndian) { value in
            key.withUnsafeBytes { rowDigest(domain: domain, key: $0, value: value, worker: worker) }
        }
    }
}

/// XOR of keyed row digests: equal for two sets of unique rows only if the sets are equal (except with
/// probability 2^-256), because every row's digest is unpredictable without the run key. Lets the verifier
/// compare an index with the leaves by two sequential scans instead of one random lookup per entry.
struct IndexSetDigest: Equatable {
    static let matterDomain: UInt8 = 0x4d  // "M"
    static let sourceDomain: UInt8 = 0x53  // "S"

    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    mutating func add(_ hash: Hash) {
        hash.withUnsafeBytes { raw in
            words.0 ^= raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            words.1 ^= raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            words.2 ^= raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            words.3 ^= raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        }
    }

    /// Adds every row of another digest (the union of disjoint row sets).
    mutating func add(_ other: IndexSetDigest) {
        words.0 ^= other.words.0
        words.1 ^= other.words.1
        words.2 ^= other.words.2
        words.3 ^= other.words.3
    }

    static func == (a: IndexSetDigest, b: IndexSetDigest) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }
}

/// Stored entries (copies, in `batch`) and index rows (views into the map) read together, checked by the
/// workers as one piece of work.
struct ScanChunk {
    /// Holds the entries' bytes until the chunk has been checked.
    let batch: RowBatch
    var entries: [(seq: UInt64?, value: UnsafeRawBufferPointer)] = []
    var matterRows: [Cursor.Pair] = []
    var sourceRows: ArraySlice<RowBatch.Row> = []

    init(batch: RowBatch) { self.batch = batch }

    var isEmpty: Bool { entries.isEmpty && matterRows.isEmpty && sourceRows.isEmpty }
    /// A pointer into the map, to release the pages read so far.
    var lastMappedValue: UnsafeRawPointer? {
        matterRows.last?.value.baseAddress
    }
}

/// What the workers found in one chunk: its entries' facts (in seq order) and its index rows' keyed digests.
struct CheckedChunk {
    var facts: [EntryFacts]
    var matterRows = IndexSetDigest()
    var sourceRows = IndexSetDigest()
}

/// One chunk being checked (`SharedBatches`): by the worker threads while the scanning thread folds the previous
/// chunk, then by the scanning thread too. Entries go out 8 at a time, index rows 64 at a time.
final class ChunkCheck: @unchecked Sendable {
    // @unchecked: result slot i is written only by the participant that took item i, digest slot p only by
    // participant p, and both are read only after `SharedBatches.finish` has waited for every participant.
    private let chunk: ScanChunk
    private let ledger: Ledger
    private let ring: KeyRing?
    private let context: ScanContext
    private let results: UnsafeMutableBufferPointer<EntryFacts>
    /// Each participant's keyed digests of the index rows it hashed.
    private let digests: UnsafeMutableBufferPointer<(IndexSetDigest, IndexSetDigest)>
    private var batches: SharedBatches?
    private static let entryBatch = 8, rowBatch = 64

    private init(_ chunk: ScanChunk, ledger: Ledger, ring: KeyRing?, context: ScanContext) {
        self.chunk = chunk
        self.ledger = ledger
        self.ring = ring
        self.context = context
        results = .allocate(capacity: chunk.entries.count)
        results.initialize(repeating: EntryFacts(seq: 0))
        digests = .allocate(capacity: SharedBatches.participants)
        digests.initialize(repeating: (IndexSetDigest(), IndexSetDigest()))
    }

    deinit {
        results.deinitialize()
        results.deallocate()
        digests.deinitialize()
        digests.deallocate()
    }

    /// Starts the workers on `chunk` (nil when it is empty). Items: entries, then matter rows, then source rows.
    static func start(_ chunk: ScanChunk, ledger: Ledger, ring: KeyRing?, context: ScanContext) -> ChunkCheck? {
        guard !chunk.isEmpty else { return nil }
        let check = ChunkCheck(chunk, ledger: ledger, ring: ring, context: context)
        let entries = chunk.entries.count
        let total = entries + chunk.matterRows.count + chunk.sourceRows.count
        check.batches = SharedBatches(count: total, nextBatch: { next in
            next < entries ? next..<min(entries, next + entryBatch) : next..<(next + rowBatch)
        }, work: { [weak check] participant, items in  // weak: the batches must not keep their owner alive
            try check?.check(items, participant: participant)
        })
        return check
    }

    /// Helps until every item is taken, waits for the workers, and returns the chunk's findings (facts in seq
    /// order) and a pointer into the map.
    func finish() throws -> (CheckedChunk, UnsafeRawPointer?) {
        try batches!.finish()
        var checked = CheckedChunk(facts: Array(results))
        for (matters, sources) in digests {
            checked.matterRows.add(matters)
            checked.sourceRows.add(sources)
        }
        return (checked, chunk.lastMappedValue)
    }

    /// Checks `items` as participant `p` (its own scratch and keyed hash).
    private func check(_ items: Range<Int>, participant p: Int) throws {
        let entries = chunk.entries.count, matters = chunk.matterRows.count
        for i in items {
            if i < entries {
                let entry = chunk.entries[i]
                results[i] = try ledger.checkEntry(entry.seq, entry.value, ring: ring, context: context, worker: p)
            } else if i < entries + matters {
                let row = chunk.matterRows[i - entries]
                digests[p].0.add(context.rowDigest(domain: IndexSetDigest.matterDomain, key: row.key, value: row.value,
                                                   worker: p))
            } else {
                let row = chunk.sourceRows[chunk.sourceRows.startIndex + i - entries - matters]
                digests[p].1.add(context.rowDigest(domain: IndexSetDigest.sourceDomain, key: row.key, value: row.value,
                                                   worker: p))
            }
        }
    }
}
