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
    /// Deep verify: every entry is decrypted and its contents checked.
    var deep: Bool { !scratches.isEmpty }
    /// SHA-256 with the run key absorbed, one per participant. Not an array, and copied out before the closures
    /// that hash with it: the workers shared the array's (and this context's) reference count, changed per row.
    private let keyed: UnsafeMutableBufferPointer<PrefixedSHA256>
    /// The leaf field lists each participant has checked (`LeafShapes`), not an array for the same reason.
    private let shapes: UnsafeMutableBufferPointer<LeafShapes>

    /// `runKey`: fresh random bytes per run, chosen after the files are fixed, so nobody can build index rows
    /// that collide.
    /// `ring`: the master key's subkeys (deep only). `keyCheck`: deep verify's check of the stored keys, which opens
    /// them for the workers.
    init(runKey: [UInt8], keys: KeyDirectory, ledgerID: [UInt8], ring: KeyRing?, keyCheck: BackgroundKeyCheck? = nil) {
        self.keys = keys
        self.ledgerID = ledgerID
        let shapes = (0...availableCores).map { _ in LeafShapes() }
        self.shapes = .allocate(capacity: shapes.count)
        _ = self.shapes.initialize(from: shapes)
        scratches = ring.map { ring in
            shapes.map { DeepScratch(ledgerID: ledgerID, ring: ring, keyCheck: keyCheck, shapes: $0) }
        } ?? []
        keyed = .allocate(capacity: availableCores + 1)
        _ = keyed.initialize(from: (0...availableCores).map { _ in
            runKey.withUnsafeBytes { PrefixedSHA256(prefix: $0) }
        })
    }

    deinit {
        keyed.deinitialize()
        keyed.deallocate()
        shapes.deinitialize()
        shapes.deallocate()
    }

    /// Participant `worker`'s field lists (the same object as its deep scratch's).
    func shapes(_ worker: Int) -> LeafShapes { shapes[worker] }

    /// SHA-256(run key || domain || key || value): a PRF of one index row (fixed-length inputs). The run key fills
    /// the first block, absorbed once per run; the rest is assembled on the stack.
    func rowDigest(domain: UInt8, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, worker: Int) -> Hash {
        let hasher = keyed[worker]
        return Self.withRowMessage(domain, key, value) { hasher.hash($0) }
    }

    /// The row digests of two rows at once (their SHA-256 blocks interleaved).
    func rowDigests(_ a: (domain: UInt8, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer),
                    _ b: (domain: UInt8, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer),
                    worker: Int) -> (Hash, Hash) {
        let hasher = keyed[worker]
        return Self.withRowMessage(a.domain, a.key, a.value) { first in
            Self.withRowMessage(b.domain, b.key, b.value) { second in hasher.hash(first, second) }
        }
    }

    /// The row digests of (tag, big-endian seq) in two indexes at once: the two rows a leaf with a source implies.
    func rowDigests(_ a: (domain: UInt8, key: Hash), _ b: (domain: UInt8, key: Hash), seq: UInt64,
                    worker: Int) -> (Hash, Hash) {
        withUnsafeBytes(of: seq.bigEndian) { value in
            a.key.withUnsafeBytes { keyA in
                b.key.withUnsafeBytes { keyB in
                    rowDigests((a.domain, keyA, value), (b.domain, keyB, value), worker: worker)
                }
            }
        }
    }

    /// domain || key || value, assembled on the stack.
    private static func withRowMessage<R>(_ domain: UInt8, _ key: UnsafeRawBufferPointer,
                                          _ value: UnsafeRawBufferPointer,
                                          _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 1 + key.count + value.count, alignment: 8) { message in
            message[0] = domain
            if let base = key.baseAddress { (message.baseAddress! + 1).copyMemory(from: base, byteCount: key.count) }
            if let base = value.baseAddress {
                (message.baseAddress! + 1 + key.count).copyMemory(from: base, byteCount: value.count)
            }
            return body(UnsafeRawBufferPointer(message))
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

/// What the workers found in one chunk: its entries' facts (in seq order; the `ChunkCheck`'s own buffer, valid while
/// it lives) and its index rows' keyed digests.
struct CheckedChunk {
    var facts: UnsafeBufferPointer<EntryFacts>
    /// Index rows the chunk read through the map (its matter rows).
    var mappedRows = 0
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
    private let context: ScanContext
    private let results: UnsafeMutableBufferPointer<EntryFacts>
    /// Each participant's keyed digests of the index rows it hashed.
    private let digests: UnsafeMutableBufferPointer<(IndexSetDigest, IndexSetDigest)>
    private var batches: SharedBatches?
    private static let entryBatch = 8, rowBatch = 64

    private init(_ chunk: ScanChunk, ledger: Ledger, context: ScanContext) {
        self.chunk = chunk
        self.ledger = ledger
        self.context = context
        results = .allocate(capacity: chunk.entries.count)
        results.initialize(repeating: EntryFacts(seq: 0))  // each slot filled once, in place, by checkEntry
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
    static func start(_ chunk: ScanChunk, ledger: Ledger, context: ScanContext) -> ChunkCheck? {
        guard !chunk.isEmpty else { return nil }
        let check = ChunkCheck(chunk, ledger: ledger, context: context)
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
    /// order, valid while this check lives) and a pointer into the map.
    func finish() throws -> (CheckedChunk, UnsafeRawPointer?) {
        try batches!.finish()
        var checked = CheckedChunk(facts: UnsafeBufferPointer(results), mappedRows: chunk.matterRows.count)
        for (matters, sources) in digests {
            checked.matterRows.add(matters)
            checked.sourceRows.add(sources)
        }
        return (checked, chunk.lastMappedValue)
    }

    /// Checks `items` as participant `p` (its own scratch and keyed hash): entries, then matter rows, then source
    /// rows, two at a time.
    private func check(_ items: Range<Int>, participant p: Int) throws {
        let entries = chunk.entries.count, matters = chunk.matterRows.count
        try checkEntries(items.clamped(to: 0..<entries), participant: p)
        let matterItems = items.clamped(to: entries..<(entries + matters))
        digests[p].0.add(digestRows(matterItems.count, domain: IndexSetDigest.matterDomain, participant: p) {
            let row = chunk.matterRows[matterItems.lowerBound - entries + $0]
            return (row.key, row.value)
        })
        let sourceItems = items.clamped(to: (entries + matters)..<Int.max)
        digests[p].1.add(digestRows(sourceItems.count, domain: IndexSetDigest.sourceDomain, participant: p) {
            let row = chunk.sourceRows[chunk.sourceRows.startIndex + sourceItems.lowerBound - entries - matters + $0]
            return (row.key, row.value)
        })
    }

    /// Checks the entries `items`, cutting, hashing and (deep) opening them two at a time.
    private func checkEntries(_ items: Range<Int>, participant p: Int) throws {
        var i = items.lowerBound
        while i < items.upperBound {
            let hasPair = i + 1 < items.upperBound
            let (first, second) = HashedEntry.hashed(chunk.entries[i].value, hasPair ? chunk.entries[i + 1].value : nil)
            let deepFirst = ledger.checkEntry(chunk.entries[i].seq, first, context: context, worker: p,
                                              into: &results[i])
            let deepSecond = hasPair ? ledger.checkEntry(chunk.entries[i + 1].seq, second, context: context, worker: p,
                                                         into: &results[i + 1]) : nil
            if deepFirst != nil || deepSecond != nil {
                // facts i and i + 1: checkContents writes the second only when there is a second entry
                try ledger.checkContents(deepFirst, deepSecond, scratch: context.scratches[p],
                                         facts: results.baseAddress! + i)
            }
            i += hasPair ? 2 : 1
        }
        pairParents(items)
    }

    /// The tree parents of the record pairs (seq 2k, 2k + 1) among `items`, two at a time.
    private func pairParents(_ items: Range<Int>) {
        var waiting: Int?  // the odd entry of a pair whose parent waits for another pair to hash with
        var i = items.lowerBound
        while i + 1 < items.upperBound {
            guard isRecordPair(i) else {
                i += 1
                continue
            }
            if let other = waiting {
                (results[other].parentWithPrevious, results[i + 1].parentWithPrevious) = nodeHashes(
                    (results[other - 1].recordHash, results[other].recordHash),
                    (results[i].recordHash, results[i + 1].recordHash))
                waiting = nil
            } else {
                waiting = i + 1
            }
            i += 2
        }
        if let other = waiting {
            results[other].parentWithPrevious = nodeHash(results[other - 1].recordHash, results[other].recordHash)
        }
    }

    private func isRecordPair(_ i: Int) -> Bool {
        let (a, b) = (results[i], results[i + 1])
        return a.hashed && b.hashed && a.seq % 2 == 0 && a.seq != .max && b.seq == a.seq + 1
    }

    /// The keyed set digest of `count` index rows (`row(i)`), two hashed at a time.
    private func digestRows(_ count: Int, domain: UInt8, participant p: Int,
                            row: (Int) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer)) -> IndexSetDigest {
        var digest = IndexSetDigest()
        var i = 0
        while i + 1 < count {
            let (a, b) = (row(i), row(i + 1))
            let (first, second) = context.rowDigests((domain, a.0, a.1), (domain, b.0, b.1), worker: p)
            digest.add(first)
            digest.add(second)
            i += 2
        }
        if i < count {
            let last = row(i)
            digest.add(context.rowDigest(domain: domain, key: last.0, value: last.1, worker: p))
        }
        return digest
    }
}
