import LMDB
import MerkleLog
import SignedNote

extension Ledger {
    /// Signs the current tree head as a C2SP tlog-checkpoint signed note, stores it, and returns the note text.
    @discardableResult
    public func signCheckpoint() throws -> String {
        _ = try requireKeys()
        guard let signer = lock.withLock({ self.signer }) else { throw LedgerError.keyRequired("unlock the ledger first") }
        return try LedgerError.wrap("sign checkpoint") {
            try store.environment.write { txn in
                let size = try txn.entryCount(store)
                let root = try treeHash(size: Int64(size), reader: TreeHashReader(transaction: txn, store: store))
                let body = Checkpoint(origin: origin, size: size, rootHash: root.bytes).body
                let note = try signer.sign(body)
                try txn.put(store.checkpoints, key: size.bigEndianBytes, value: Array(note.utf8))
                return note
            }
        }
    }

    /// The most recent stored checkpoint (note text), if any.
    public func latestCheckpoint() throws -> String? {
        try LedgerError.wrap("read checkpoints") {
            try store.environment.read { txn in
                let cursor = try txn.cursor(store.checkpoints)
                defer { cursor.close() }
                return try cursor.last().map { String(decoding: $0.value, as: UTF8.self) }
            }
        }
    }

    /// The root hash of the tree of `size` entries, from the stored hashes.
    public func rootHash(size: UInt64? = nil) throws -> Hash {
        try LedgerError.wrap("compute tree head") {
            try store.environment.read { txn in
                let n = try size ?? txn.entryCount(store)
                return try treeHash(size: Int64(n), reader: TreeHashReader(transaction: txn, store: store))
            }
        }
    }
}
