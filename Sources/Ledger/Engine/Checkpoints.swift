import LMDB
import LedgerFormat
import MerkleLog
import SignedNote

extension Ledger {
    /// Signs the current tree head as a C2SP tlog-checkpoint signed note, stores it, and returns the note text.
    @discardableResult
    public func signCheckpoint() throws -> String {
        let signer = try requireSigner()
        return try LedgerError.wrap("sign checkpoint") {
            try store.environment.write { txn in
                let (note, size, _) = try signedHead(txn, signer: signer)
                try txn.put(store.checkpoints, key: size.bigEndianBytes, value: Array(note.utf8))
                return note
            }
        }
    }

    /// Signs the current tree head without storing it (the caller stores it with `storeCheckpoint` once the
    /// work that relies on it has succeeded, e.g. an export bundle was written).
    func signTreeHead() throws -> (note: String, size: UInt64, root: Hash) {
        let signer = try requireSigner()
        return try LedgerError.wrap("sign checkpoint") {
            try store.environment.read { try signedHead($0, signer: signer) }
        }
    }

    /// Signs a bundle v2 manifest (docs/FORMAT.md, "Bundle v2") with the checkpoint's key: the returned signed note's
    /// text is `BundleFormat.manifestHeader`, newline, the canonical manifest JSON, newline.
    func signManifest(json: [UInt8]) throws -> String {
        let signer = try requireSigner()
        return try LedgerError.wrap("sign the bundle manifest") {
            try signer.sign(BundleFormat.manifestText(json: json))
        }
    }

    /// Any text signed with the checkpoint's key: only for tests that forge a note the firm's key signed.
    func signNoteForTests(_ text: String) throws -> String {
        try requireSigner().sign(text)
    }

    /// The C2SP checkpoint of the tree as this transaction sees it, signed.
    private func signedHead(_ txn: ReadTransaction,
                            signer: NoteSigner) throws -> (note: String, size: UInt64, root: Hash) {
        let size = try txn.entryCount(store)
        let root = try treeHash(size: Int64(size), reader: TreeHashReader(transaction: txn, store: store))
        return (try signer.sign(Checkpoint(origin: origin, size: size, rootHash: root.bytes).body), size, root)
    }

    /// Opens a checkpoint note signed by `key` (`Checkpoint.open`, as Go's `note.Open`) whose origin is this
    /// ledger's. Throws `NoteError` when it does not verify, `LedgerError.corrupt` when it names another log.
    func openCheckpoint(_ note: String, key: NoteVerifierKey) throws -> (size: UInt64, root: Hash) {
        let checkpoint = try Checkpoint.open(note: note, verifier: key)
        guard checkpoint.origin == origin else {
            throw LedgerError.corrupt("its origin is \(checkpoint.origin), not \(origin)")
        }
        guard let root = Hash(bytes: checkpoint.rootHash) else { throw LedgerError.corrupt("its root is not 32 bytes") }
        return (checkpoint.size, root)
    }

    /// The master key's signer or a signer credential's.
    func requireSigner() throws -> NoteSigner {
        guard let (principal, signer) = session.withLock({ s in s.principal.map { ($0, s.signer) } }) else {
            throw LedgerError.masterKeyRequired
        }
        guard let signer else {
            throw LedgerError.notPermitted("\(principal.role?.withArticle ?? "this") credential cannot sign checkpoints")
        }
        return signer
    }

    /// Whether this process can sign checkpoints (the master key or a signer credential).
    var canSign: Bool { session.withLock { $0.signer != nil } }

    /// The newest stored checkpoint, verified with the ledger's own key: what a reader's export proves against.
    func newestStoredHead() throws -> (note: String, size: UInt64, root: Hash) {
        guard let note = try latestCheckpoint() else {
            throw LedgerError.notPermitted("no signed checkpoint to prove entries against yet: the signer (or the "
                                           + "master key) must run `ledger checkpoint` first")
        }
        let key = try NoteVerifierKey(text: storedVerifierKey)
        let (size, root) = try openCheckpoint(note, key: key)
        return (note, size, root)
    }

    /// Stores a checkpoint note signed by `signTreeHead` under its tree size.
    func storeCheckpoint(_ note: String, size: UInt64) throws {
        try LedgerError.wrap("store checkpoint") {
            try store.environment.write { txn in
                try txn.put(store.checkpoints, key: size.bigEndianBytes, value: Array(note.utf8))
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
