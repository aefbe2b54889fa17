import LMDB
import MerkleLog
import Sodium

/// A matter's data key: random, stored only wrapped by the master key's wrapping subkey.
struct MatterKey {
    let id: UInt32
    let key: SecretBytes
    let tag: Hash
}

/// A matter key generated for id `id`, not yet stored: the key and its wrapped form.
struct NewMatterKey {
    let key: MatterKey
    let wrapped: [UInt8]

    init(tag: Hash, id: UInt32, ring: KeyRing, ledgerID: [UInt8]) {
        let secret = SecretBytes(randomCount: XChaCha20Poly1305.keyByteCount)
        key = MatterKey(id: id, key: secret, tag: tag)
        wrapped = ring.wrapMatterKey(secret, ledgerID: ledgerID, keyID: id)
    }
}

extension Ledger {
    /// The data key of each matter, creating (and storing wrapped) the keys of matters seen for the first time.
    /// Runs inside the append transaction, so a new key commits together with the entries it encrypts.
    func matterKeys(for matters: [String], ring: KeyRing, txn: WriteTransaction) throws -> [String: MatterKey] {
        var result = [String: MatterKey]()
        for matter in matters where result[matter] == nil {
            let tag = ring.matterTag(matter)
            result[matter] = try storedMatterKey(tag: tag, ring: ring, txn: txn)
                ?? createMatterKey(tag: tag, ring: ring, txn: txn)
        }
        return result
    }

    /// The stored key of the matter with `tag`, unwrapped; nil if the matter has none yet.
    func storedMatterKey(tag: Hash, ring: KeyRing, txn: ReadTransaction) throws -> MatterKey? {
        guard let stored = try txn.get(store.matterKeys, key: tag.bytes) else { return nil }
        guard let id = UInt32(bigEndianBytes: stored) else {
            throw LedgerError.corrupt("a matter key index value is not 4 bytes")
        }
        return MatterKey(id: id, key: try matterKey(id: id, ring: ring, txn: txn), tag: tag)
    }

    private func createMatterKey(tag: Hash, ring: KeyRing, txn: WriteTransaction) throws -> MatterKey {
        let fresh = NewMatterKey(tag: tag, id: try nextMatterKeyID(txn), ring: ring, ledgerID: ledgerID)
        try store(fresh, txn: txn)
        return fresh.key
    }

    /// The id the next new matter key gets (metadata `nextKeyID`).
    func nextMatterKeyID(_ txn: ReadTransaction) throws -> UInt32 {
        guard let raw = try txn.get(store.meta, key: MetaKey.nextKeyID.key), let id = UInt32(bigEndianBytes: raw) else {
            throw LedgerError.corrupt("the next matter key id is missing from the metadata")
        }
        guard id < UInt32.max else { throw LedgerError.corrupt("matter key ids are exhausted") }
        return id
    }

    /// Stores a new key wrapped, its matter index row, and advances `nextKeyID` past it.
    func store(_ fresh: NewMatterKey, txn: WriteTransaction) throws {
        let id = fresh.key.id
        try txn.put(store.keys, key: id.bigEndianBytes, value: fresh.wrapped, flags: [.noOverwrite])
        try txn.put(store.matterKeys, key: fresh.key.tag.bytes, value: id.bigEndianBytes, flags: [.noOverwrite])
        try txn.put(store.meta, key: MetaKey.nextKeyID.key, value: (id + 1).bigEndianBytes)
    }

    /// Unwraps (and caches) a stored matter key. Only keys read from committed storage are cached.
    func matterKey(id: UInt32, ring: KeyRing, txn: ReadTransaction) throws -> SecretBytes {
        if let cached = lock.withLock({ matterKeyCache[id] }) { return cached }
        guard let sealed = try txn.get(store.keys, key: id.bigEndianBytes) else {
            throw LedgerError.corrupt("matter key \(id) is missing (destroyed, or the keys database is damaged)")
        }
        let key: SecretBytes
        do {
            key = try ring.unwrapMatterKey(sealed, ledgerID: ledgerID, keyID: id)
        } catch {
            throw LedgerError.corrupt("matter key \(id) does not unwrap with this master key")
        }
        if !(txn is WriteTransaction) { lock.withLock { matterKeyCache[id] = key } }
        return key
    }
}
