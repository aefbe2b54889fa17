import Foundation
import LMDB
import LedgerFormat
import MerkleLog

/// The source rows a running import has staged (format 2), by tag: its own lookups see them before they are moved
/// into `sources`. Read by the thread that plans the next batch while the writer thread adds the last one.
final class StagedSourceSet: @unchecked Sendable {
    // @unchecked: `rows` is only touched under `lock`.
    private let lock = NSLock()
    private var rows = TagTable()

    func seq(of tag: Hash) -> UInt64? { lock.withLock { rows[tag] } }

    var count: Int { lock.withLock { rows.count } }

    func add(_ sealed: [SealedRecord]) {
        lock.withLock {
            for i in sealed.indices { if let tag = sealed[i].sourceTag { rows[tag] = sealed[i].seq } }
        }
    }

    /// After a move into `sources`, where lookups find them.
    func removeAll() { lock.withLock { rows.removeAll() } }
}

/// Format 2's source index (docs/FORMAT.md, "Storage"): an import appends each batch's source rows to
/// `sourcesStaged` (key: seq, so every row lands at the end, on the pages the last batch wrote) and, once at the
/// end, moves them into `sources` in tag order. A random-keyed index written batch by batch rewrites most of its
/// pages at every commit once it outgrows a batch; moved in one sorted pass, each page is written once per import.
extension Ledger {
    /// Moves every staged row into `sources` in tag order and empties `sourcesStaged`. Returns the rows moved.
    @discardableResult
    func moveStagedSources(_ txn: WriteTransaction) throws -> Int {
        guard let staged = store.openedStagedSources else { return 0 }
        let rows = Self.sortedByTag(try stagedRows(txn, staged))
        guard !rows.isEmpty else { return 0 }
        // Tags beyond the last stored one (every import into a new ledger) are appended: pages written full.
        let cursor = try txn.cursor(store.sources)
        let last = try cursor.last().map { SortKey($0.key) }
        cursor.close()
        let append = last.map { rows[0].tag > $0 } ?? true
        for row in rows {
            try row.tag.withBytes { tag in
                try withUnsafeBytes(of: row.seq.bigEndian) { seq in
                    try txn.put(store.sources, key: tag, value: seq, flags: append ? [.append] : [.noOverwrite])
                }
            }
        }
        try txn.drop(staged)
        return rows.count
    }

    /// Moves staged rows left by an import that stopped half-way (or by another process's import) in a
    /// transaction of its own; nothing to do (one read) when there are none.
    func moveStagedSourcesIfAny() throws {
        guard stagesSources, let staged = try store.stagedSources(),
              try LedgerError.wrap("read staged source rows", { try store.environment.read { try $0.count(staged) } }) > 0
        else { return }
        try LedgerError.wrap("move staged source rows") {
            try store.environment.write { txn in _ = try moveStagedSources(txn) }
        }
    }

    /// `rows` in tag order. Tags are keyed hashes, spread evenly: the rows are dealt into buckets by their top 16
    /// bits (a counting sort, two passes) and each bucket, of one or two rows on average, is sorted on its own — a
    /// few times faster than a comparison sort of the whole list, which the last commit of an import waits for.
    /// A bucket that is large anyway (a damaged or hostile file) gets the library's sort: never quadratic.
    static func sortedByTag(_ rows: [(tag: SortKey, seq: UInt64)]) -> [(tag: SortKey, seq: UInt64)] {
        guard rows.count > 64 else { return rows.sorted { $0.tag < $1.tag } }
        func bucket(_ row: (tag: SortKey, seq: UInt64)) -> Int { Int(truncatingIfNeeded: row.tag.words.0 >> 48) }
        var starts = [Int](repeating: 0, count: (1 << 16) + 1)
        for row in rows { starts[bucket(row) + 1] += 1 }
        for b in 0..<(1 << 16) { starts[b + 1] += starts[b] }
        var next = starts
        var sorted = [(tag: SortKey, seq: UInt64)](unsafeUninitializedCapacity: rows.count) { buffer, count in
            for row in rows {
                let b = bucket(row)
                (buffer.baseAddress! + next[b]).initialize(to: row)
                next[b] += 1
            }
            count = rows.count
        }
        sorted.withUnsafeMutableBufferPointer { sorted in
            for b in 0..<(1 << 16) where starts[b + 1] - starts[b] > 1 {
                let bucket = UnsafeMutableBufferPointer(rebasing: sorted[starts[b]..<starts[b + 1]])
                if bucket.count <= 16 {
                    insertionSort(bucket)
                } else {
                    var slice = bucket
                    slice.sort { $0.tag < $1.tag }
                }
            }
        }
        return sorted
    }

    private static func insertionSort(_ rows: UnsafeMutableBufferPointer<(tag: SortKey, seq: UInt64)>) {
        for i in 1..<rows.count {
            let row = rows[i]
            var j = i
            while j > 0 && row.tag < rows[j - 1].tag {
                rows[j] = rows[j - 1]
                j -= 1
            }
            rows[j] = row
        }
    }

    /// The staged rows as (tag, seq), in seq order; a malformed row is damage.
    func stagedRows(_ txn: ReadTransaction, _ staged: Database) throws -> [(tag: SortKey, seq: UInt64)] {
        var rows = [(tag: SortKey, seq: UInt64)]()
        // The stored count is the file's word (damaged, it can claim billions): reserve no more than a move holds.
        rows.reserveCapacity(min(try txn.count(staged), 1 << 20))
        let cursor = try txn.cursor(staged)
        defer { cursor.close() }
        var pair = try cursor.first()
        while let (key, value) = pair {
            guard let seq = UInt64(bigEndianBytes: key), value.count == Hash.byteCount else {
                throw LedgerError.corrupt("a staged source row is malformed")
            }
            rows.append((SortKey(value), seq))
            pair = try cursor.next()
        }
        return rows
    }
}

/// A 32-byte tag as four big-endian words, so that comparing words compares bytes (LMDB's key order).
struct SortKey: Comparable {
    let words: (UInt64, UInt64, UInt64, UInt64)

    init(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32)
        func word(_ i: Int) -> UInt64 { UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) }
        words = (word(0), word(8), word(16), word(24))
    }

    /// The 32 bytes, without allocating (the import moves a million of these at a time).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian), body)
    }

    var bytes: [UInt8] { withBytes { Array($0) } }

    static func < (a: SortKey, b: SortKey) -> Bool { a.words < b.words }
    static func == (a: SortKey, b: SortKey) -> Bool { a.words == b.words }
}
