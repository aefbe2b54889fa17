import Dispatch
import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import RecordFormats
import SignedNote
import Sodium

/// Reads the rows of an index database in order, a chunk at a time (views into the map).
final class IndexRows {
    private let cursor: Cursor
    private var pair: Cursor.Pair?

    init(_ txn: ReadTransaction, _ db: Database) throws {
        cursor = try txn.cursor(db)
        pair = try cursor.first()
    }

    deinit { cursor.close() }

    func next(_ count: Int) throws -> [Cursor.Pair] {
        var rows = [Cursor.Pair]()
        while let row = pair, rows.count < count {
            rows.append(row)
            pair = try cursor.next()
        }
        return rows
    }
}

/// The rows of a `DatabaseScan` one at a time (copies, read a batch at a time): a row is valid until the
/// next call of `current()` after `advance()`.
final class ScanRows {
    private let scan: DatabaseScan
    private let batchSize: Int
    private let batch = RowBatch()
    // used by one thread at a time: no dynamic exclusivity checks on the fold's path (one per tree hash)
    @exclusivity(unchecked) private var next = 0
    /// The batch's rows, taken once per refill: reading `batch.rows` from this module checked exclusivity at run
    /// time on every row (~1.5% of keyless verify's samples, in the fold), whatever its declaration says.
    @exclusivity(unchecked) private var rows: [RowBatch.Row] = []

    init(_ scan: DatabaseScan, batchSize: Int) {
        self.scan = scan
        self.batchSize = batchSize
    }

    /// The current row, refilling the batch when it is used up; nil after the last.
    func current() throws -> RowBatch.Row? {
        if next == rows.count {
            rows = []   // the batch's array unshared again before the batch clears it (no copy)
            batch.removeAll()
            next = 0
            guard try scan.next(batchSize, into: batch) > 0 else { return nil }
            rows = batch.rows
        }
        return rows[next]
    }

    func advance() { next += 1 }
}

/// The stored tree hashes, read in index order: the fold asks for them in increasing order (the order
/// TreeBuilder emits them), so each is the next row or missing, without a lookup from the root.
final class StoredTreeHashes {
    private let rows: ScanRows

    init(_ scan: DatabaseScan) {
        rows = ScanRows(scan, batchSize: 1024)
    }

    /// The value stored under `index` (as `txn.get` would return it; valid until the next call), or nil. Rows
    /// whose keys are not 8 bytes are passed over: no index names them (the row count check reports extra rows).
    func value(at index: Int64) throws -> UnsafeRawBufferPointer? {
        let wanted = UInt64(index)
        while let row = try rows.current() {
            guard let key = UInt64(bigEndianBytes: row.key), key >= wanted else {
                rows.advance()
                continue
            }
            return key == wanted ? row.value : nil
        }
        return nil
    }
}
