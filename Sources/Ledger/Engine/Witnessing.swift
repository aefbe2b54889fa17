import LMDB
import MerkleLog
import SignedNote

extension Ledger {
    /// The stored checkpoint of `size` entries (note text, with any cosignatures), if one was signed at that size.
    public func storedCheckpoint(size: UInt64) throws -> String? {
        try LedgerError.wrap("read checkpoints") {
            try store.environment.read { txn in
                try txn.get(store.checkpoints, key: size.bigEndianBytes).map { String(decoding: $0, as: UTF8.self) }
            }
        }
    }

    /// The newest stored checkpoint and its size, if any.
    public func latestStoredCheckpoint() throws -> (size: UInt64, note: String)? {
        try LedgerError.wrap("read checkpoints") {
            try store.environment.read { txn in
                let cursor = try txn.cursor(store.checkpoints)
                defer { cursor.close() }
                guard let last = try cursor.last(), let size = UInt64(bigEndianBytes: last.key) else { return nil }
                return (size, String(decoding: last.value, as: UTF8.self))
            }
        }
    }

    /// Adds witnesses' cosignature lines (c2sp.org/tlog-cosignature) to the stored checkpoint of `size` and returns
    /// the cosigned note. A line replaces an earlier one by the same key (name and key id), so the note keeps each
    /// witness's newest cosignature. The lines are not checked here (the caller verified them against its policy);
    /// the firm's own signature must stay valid, so a line claiming the ledger's key is refused. Needs a principal
    /// that may sign checkpoints.
    @discardableResult
    public func addCosignatures(_ lines: [NoteSignature], size: UInt64) throws -> String {
        _ = try requireSigner()
        let own = try NoteVerifierKey(text: storedVerifierKey)
        guard !lines.contains(where: own.claims) else {
            throw LedgerError.notPermitted("a cosignature may not claim the ledger's own checkpoint key")
        }
        return try LedgerError.wrap("store cosignatures") {
            try store.environment.write { txn in
                guard let stored = try txn.get(store.checkpoints, key: size.bigEndianBytes) else {
                    throw LedgerError.invalidArgument("no stored checkpoint of size \(size)")
                }
                let note = try SignedNoteText(parsing: Array(stored))
                let kept = note.signatures.filter { old in
                    !lines.contains { $0.isBy(name: old.name, keyHash: old.keyHash) }
                }
                let cosigned = note.text + "\n" + (kept + lines).map(\.line).joined()
                _ = try Checkpoint.open(note: cosigned, verifier: own)
                try txn.put(store.checkpoints, key: size.bigEndianBytes, value: Array(cosigned.utf8))
                return cosigned
            }
        }
    }
}
