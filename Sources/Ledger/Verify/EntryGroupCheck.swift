import LMDB
import LedgerFormat

/// Verify's reader of the `entries` rows of a storage format 3 ledger: splits each group into its entries for
/// the workers and checks the group structure strictly, in key order: a well-formed header (EntryGroup), and each
/// group's key exactly the seq after the previous group's last entry (no gap, no overlap). A group that fails is
/// reported as an `entry-group` violation and none of its entries is checked (the chain then reports them missing).
final class EntryGroupReader {
    private(set) var violations: [Violation] = []
    /// The seq the next group must start at.
    private var nextSeq: UInt64 = 0

    /// Reads whole groups from `scan` into `batch` until `chunk` holds at least `entries` entries or the rows run
    /// out; returns the number of rows read (the rows of `batch` before any other scan's).
    func read(_ scan: DatabaseScan, atLeast entries: Int, into batch: RowBatch, chunk: inout ScanChunk) throws -> Int {
        var rows = 0
        while chunk.entries.count < entries, try scan.next(1, into: batch) == 1 {
            let row = batch.rows[rows]
            rows += 1
            split(key: row.key, value: row.value, into: &chunk)
        }
        return rows
    }

    private func split(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into chunk: inout ScanChunk) {
        let entries: [(seq: UInt64, value: UnsafeRawBufferPointer)]
        do { entries = try EntryLayout.grouped.entries(key: key, value: value) } catch {
            let seq = UInt64(bigEndianBytes: key)
            violations.append(Violation(seq: seq, kind: .entryGroup, detail: error.description))
            return
        }
        let first = entries[0].seq, last = entries[entries.count - 1].seq
        if first < nextSeq {
            violations.append(Violation(seq: first, kind: .entryGroup,
                                        detail: "the group of entries \(first)–\(last) overlaps the group before it",
                                        expected: "key \(nextSeq)", found: "key \(first)"))
            return
        }
        if first > nextSeq {
            violations.append(Violation(seq: first, kind: .entryGroup,
                                        detail: "the group of entries \(first)–\(last) does not start where the "
                                            + "group before it ends", expected: "key \(nextSeq)", found: "key \(first)"))
        }
        nextSeq = last + 1
        for entry in entries { chunk.entries.append((entry.seq, entry.value)) }
    }
}
