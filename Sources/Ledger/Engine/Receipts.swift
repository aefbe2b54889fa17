import LMDB
import MerkleLog
import SignedNote
import Transparency

/// Why no receipt can be made yet (docs/FORMAT.md, "Receipts"). The CLI adds which command makes one possible.
public enum ReceiptError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The ledger has no stored checkpoint to prove against.
    case noCheckpoint
    /// The entry was appended after the newest stored checkpoint.
    case notCovered(seq: UInt64, checkpointSize: UInt64)

    public var description: String {
        switch self {
        case .noCheckpoint:
            return "the ledger has no stored checkpoint to prove the entry against yet"
        case .notCovered(let seq, let size):
            return "entry \(seq) is not covered by the newest stored checkpoint (size \(size): entries 0 to "
                + "\(size == 0 ? "none" : String(size - 1)))"
        }
    }
}

extension Ledger {
    /// A c2sp.org/tlog-proof@v1 receipt for entry `seq` (docs/FORMAT.md, "Receipts"): its index, its RFC 6962
    /// inclusion proof and the newest stored checkpoint (verbatim, with any witnesses' cosignatures), the entry's
    /// exact leaf bytes as the `extra` data. Needs no key: everything in it is public (leaf, stored hashes, stored
    /// checkpoint). The receipt is verified with the ledger's own verifier key before it is returned.
    public func receipt(seq: UInt64) throws -> TlogProof {
        let key = try NoteVerifierKey(text: storedVerifierKey)
        let receipt: TlogProof = try LedgerError.wrap("prove an entry") {
            try store.environment.read { (txn: ReadTransaction) -> TlogProof in try self.receipt(seq: seq, txn: txn) }
        }
        do { try receipt.verify(recordHash: recordHash(receipt.extra ?? []), logKey: key) } catch {
            throw LedgerError.corrupt("the receipt for entry \(seq) does not verify with the ledger's key (\(error)); "
                                      + "the stored checkpoint or tree hashes are damaged")
        }
        return receipt
    }

    /// The receipt for `seq` against the newest stored checkpoint, read in one transaction.
    private func receipt(seq: UInt64, txn: ReadTransaction) throws -> TlogProof {
        let count = try txn.entryCount(store)
        guard seq < count else { throw LedgerError.unknownSequence(seq, size: count) }
        guard let (size, note) = try newestStoredCheckpoint(txn) else { throw ReceiptError.noCheckpoint }
        guard seq < size else { throw ReceiptError.notCovered(seq: seq, checkpointSize: size) }
        guard let (leaf, _) = try txn.storedEntry(store, seq) else { throw LedgerError.unknownSequence(seq, size: count) }
        let proof = try proveRecord(treeSize: Int64(size), index: Int64(seq),
                                    reader: TreeHashReader(transaction: txn, store: store))
        return TlogProof(extra: Array(leaf), index: seq, proof: proof, checkpointNote: note)
    }

    /// The newest row of the checkpoints database: its tree size and note text.
    private func newestStoredCheckpoint(_ txn: ReadTransaction) throws -> (size: UInt64, note: String)? {
        let cursor = try txn.cursor(store.checkpoints)
        defer { cursor.close() }
        guard let last = try cursor.last() else { return nil }
        guard let size = UInt64(bigEndianBytes: last.key) else {
            throw LedgerError.corrupt("a checkpoints key is not 8 bytes")
        }
        return (size, String(decoding: last.value, as: UTF8.self))
    }
}
