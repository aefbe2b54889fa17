import LMDB
import LedgerFormat
import MerkleLog

/// Reads what tiles and entry bundles hold straight from the `tree` and `entries` databases, inside one read
/// transaction: the tree with one cursor that walks forward (a level-0 tile's hashes lie a few keys apart, so
/// reading one tile after another is a sequential scan, not a lookup per hash), an entry bundle's entries in one
/// iteration from its first seq.
final class TileSource {
    private let tree: Cursor
    private let txn: ReadTransaction
    private let store: Store
    /// The stored-hash index the tree cursor is on (-1: not positioned).
    private var treePosition: Int64 = -1
    /// Forward gaps up to this many keys are walked with `next()`; larger ones (and any backward move) seek.
    private static let walkLimit: Int64 = 64

    init(_ txn: ReadTransaction, _ store: Store) throws {
        tree = try txn.cursor(store.tree)
        self.txn = txn
        self.store = store
    }

    /// The tile's file: its hashes, 32 bytes each, in order (tlog-tiles "Merkle Tree").
    func tileBytes(_ tile: Tile) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tile.byteCount)
        for index in tile.storedHashIndexes {
            try withStoredHash(index) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// The entry bundle of a level-0 tile: each leaf as the tree hashes it, after a big-endian u16 length
    /// (tlog-tiles "Log entries").
    func bundleBytes(_ tile: Tile) throws -> [UInt8] {
        let range = tile.recordRange
        var bytes: [UInt8] = []
        var next = UInt64(range.lowerBound)
        try txn.forEachStoredEntry(store, from: next) { seq, value in
            guard seq == next else { throw LedgerError.corrupt("entry \(next) is missing") }
            guard let leaf = try? StoredEntry.split(value).leaf else {
                throw LedgerError.corrupt("entry \(seq) is truncated")
            }
            // A stored leaf's length is a u16 (docs/FORMAT.md, "Stored entry v1"): it always fits the framing.
            bytes.append(UInt8(leaf.count >> 8))
            bytes.append(UInt8(leaf.count & 0xff))
            bytes.append(contentsOf: leaf)
            next += 1
            return next < UInt64(range.upperBound)
        }
        guard next == UInt64(range.upperBound) else { throw LedgerError.corrupt("entry \(next) is missing") }
        return bytes
    }

    /// Calls `body` with the 32 bytes stored at `index` (a view valid only during the call).
    private func withStoredHash(_ index: Int64, _ body: (UnsafeRawBufferPointer) -> Void) throws {
        var pair: Cursor.Pair?
        if treePosition >= 0 && index > treePosition && index - treePosition <= Self.walkLimit {
            while treePosition < index, let next = try tree.next() {
                pair = next
                treePosition = Int64(truncatingIfNeeded: UInt64(bigEndianBytes: next.key) ?? 0)
            }
        } else {
            pair = try tree.seek(atLeast: UInt64(index).bigEndianBytes)
            treePosition = pair.map { Int64(truncatingIfNeeded: UInt64(bigEndianBytes: $0.key) ?? 0) } ?? -1
        }
        guard let (key, value) = pair, UInt64(bigEndianBytes: key) == UInt64(index),
              value.count == Hash.byteCount else {
            treePosition = -1
            throw LedgerError.corrupt("stored tree hash \(index) is missing or not 32 bytes")
        }
        body(value)
    }
}
