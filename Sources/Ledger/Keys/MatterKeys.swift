import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import Sodium

/// The data key an entry is encrypted under: a batch key (leaf v2) or, in ledgers written before access control,
/// a v1 matter key. `tag` is the matter's tag.
struct MatterKey {
    let id: UInt32
    let key: SecretBytes
    let tag: Hash
}

/// Key rows a batch adds, with the ids it predicts: written by the batch's transaction (`store(_:txn:)`).
struct NewKeys {
    /// The id the first new key takes; the transaction checks it is still `meta/nextKeyID`.
    let firstID: UInt32
    var nextID: UInt32
    var records: [(id: UInt32, value: [UInt8])] = []
    /// Matter tag → its new current key pair.
    var index: [(tag: Hash, id: UInt32)] = []
    /// Reader wraps of new key pairs (`access` database rows).
    var wraps: [(key: [UInt8], value: [UInt8])] = []

    init(nextID: UInt32) {
        firstID = nextID
        self.nextID = nextID
    }

    mutating func takeID() throws -> UInt32 {
        guard nextID < UInt32.max else { throw LedgerError.corrupt("key ids are exhausted") }
        defer { nextID += 1 }
        return nextID
    }
}

/// A matter's current key pair, as an appender sees it: its id and public key.
struct MatterKeyPair {
    let id: UInt32
    let publicKey: [UInt8]
}

/// What sealing a batch needs to know about the stored keys (read in the batch's read or write transaction).
struct KeyContext {
    let txn: ReadTransaction
    let access: Database?
    let boxPublicKey: [UInt8]?
}

extension Ledger {
    /// The batch key of each matter of a batch (docs/FORMAT.md, "Leaf v2"): the one an earlier batch of the same run
    /// drew (`drawn`, by matter tag), else a fresh one sealed to the matter's current key pair, creating the pair for
    /// a matter that has none (or only a v1 key). `pairs` and `drawn` carry what batches not yet committed created.
    /// Refuses a matter the principal may not append to.
    func batchKeys(for matters: [String], principal: Principal, context: KeyContext, pairs: inout [Hash: MatterKeyPair],
                   drawn: inout [Hash: MatterKey], newKeys: inout NewKeys) throws -> [String: MatterKey] {
        guard let tags = principal.tags else { throw LedgerError.notPermitted("this credential cannot append") }
        // In order, each matter once: checks, key pairs and key ids. Then the batch keys are drawn and sealed (an
        // X25519 operation each, ~100 per batch of a busy firm) on every core.
        var planned = [(matter: String, tag: Hash, pair: MatterKeyPair, id: UInt32)]()
        var result = [String: MatterKey]()
        var seen = Set<String>()
        for matter in matters where seen.insert(matter).inserted {
            let tag = tags.matterTag(matter)
            guard principal.mayAppend(tag: tag) else {
                throw LedgerError.notPermitted("this credential may not append to matter \(matter)")
            }
            if let access = context.access, let raw = try context.txn.get(access, key: AccessKey.destroyed(tag)) {
                let seq = raw.count >= 8 ? UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: raw[0..<8])) : nil
                throw LedgerError.invalidArgument("matter \(matter) was destroyed by entry \(seq.map(String.init) ?? "?"): "
                                                  + "nothing more may be appended to it")
            }
            if let earlier = drawn[tag] {
                result[matter] = earlier
                continue
            }
            let pair = try pairs[tag] ?? currentKeyPair(tag: tag, context: context)
                ?? createKeyPair(tag: tag, matter: matter, context: context, newKeys: &newKeys)
            pairs[tag] = pair
            planned.append((matter, tag, pair, try newKeys.takeID()))
        }
        let sealed = try parallelMap(planned, minimumChunk: 8) { item -> (SecretBytes, [UInt8]) in
            let dataKey = SecretBytes(randomCount: XChaCha20Poly1305.keyByteCount)
            return (dataKey, KeyRecord.batchKey(pairID: item.pair.id,
                                                sealed: SealedBox.seal(dataKey, to: item.pair.publicKey)).encoded())
        }
        for (item, (dataKey, record)) in zip(planned, sealed) {
            newKeys.records.append((item.id, record))
            let key = MatterKey(id: item.id, key: dataKey, tag: item.tag)
            result[item.matter] = key
            drawn[item.tag] = key
        }
        return result
    }

    /// The matter's current key pair from the matter-key index; nil when it has none, or only a v1 key.
    private func currentKeyPair(tag: Hash, context: KeyContext) throws -> MatterKeyPair? {
        guard let id = try indexedKeyID(tag: tag, txn: context.txn) else { return nil }
        guard case .keyPair(let pair) = try keyRecord(id, txn: context.txn) else { return nil }
        guard pair.tag == tag else { throw LedgerError.corrupt("key pair \(id) belongs to another matter") }
        return MatterKeyPair(id: id, publicKey: pair.publicKey)
    }

    /// A new key pair for a matter: its private key sealed to the master box key and to every reader whose grant
    /// covers the matter, and the matter-key index pointed at it.
    func createKeyPair(tag: Hash, matter: String, context: KeyContext, newKeys: inout NewKeys) throws -> MatterKeyPair {
        guard let master = context.boxPublicKey else {
            throw LedgerError.notPermitted("this ledger has no access-control key yet: append once with the master key")
        }
        let previous = try newKeys.index.last(where: { $0.tag == tag })?.id ?? indexedKeyID(tag: tag, txn: context.txn)
        let id = try newKeys.takeID()
        let pair = BoxKeyPair.generate()
        let record = KeyRecord.KeyPairRecord(
            tag: tag, previousID: previous ?? 0, publicKey: pair.publicKey,
            sealedSecret: MatterSecret.seal(secretKey: pair.secretKey, tag: tag, matter: matter, to: master))
        newKeys.records.append((id, KeyRecord.keyPair(record).encoded()))
        newKeys.index.append((tag, id))
        for reader in try grants(context).filter({ $0.role == .reader && $0.matters.contains(tag) }) {
            newKeys.wraps.append((AccessKey.wrap(reader.publicKey, keyID: id),
                                  MatterSecret.seal(secretKey: pair.secretKey, tag: tag, matter: matter,
                                                    to: reader.publicKey)))
        }
        return MatterKeyPair(id: id, publicKey: pair.publicKey)
    }

    /// Every current grant (the `access` database's "c" rows).
    func grants(_ context: KeyContext) throws -> [AccessEvent.Grant] {
        guard let access = context.access else { return [] }
        let cursor = try context.txn.cursor(access)
        defer { cursor.close() }
        var grants = [AccessEvent.Grant]()
        var row = try cursor.seek(atLeast: [UInt8(ascii: "c")])
        while let current = row, current.key.first == UInt8(ascii: "c") {
            guard case .grant(let grant)? = try? AccessEvent.decode(Array(current.value)) else {
                throw LedgerError.corrupt("a stored grant does not decode")
            }
            grants.append(grant)
            row = try cursor.next()
        }
        return grants
    }

    /// The key id the matter-key index holds for a tag.
    func indexedKeyID(tag: Hash, txn: ReadTransaction) throws -> UInt32? {
        guard let stored = try txn.get(store.matterKeys, key: tag.bytes) else { return nil }
        guard let id = UInt32(bigEndianBytes: stored) else {
            throw LedgerError.corrupt("a matter key index value is not 4 bytes")
        }
        return id
    }

    func keyRecord(_ id: UInt32, txn: ReadTransaction) throws -> KeyRecord {
        guard let raw = try txn.get(store.keys, key: id.bigEndianBytes) else {
            throw LedgerError.corrupt("key \(id) is missing (destroyed, or the keys database is damaged)")
        }
        return try KeyRecord.decode(raw, id: id)
    }

    /// The id the next new key gets (metadata `nextKeyID`).
    func nextMatterKeyID(_ txn: ReadTransaction) throws -> UInt32 {
        guard let raw = try txn.get(store.meta, key: MetaKey.nextKeyID.key), let id = UInt32(bigEndianBytes: raw) else {
            throw LedgerError.corrupt("the next matter key id is missing from the metadata")
        }
        guard id < UInt32.max else { throw LedgerError.corrupt("matter key ids are exhausted") }
        return id
    }

    /// Stores a batch's new key rows, index rows and reader wraps, and advances `nextKeyID` past them.
    func store(_ newKeys: NewKeys, txn: WriteTransaction, access: Database?) throws {
        guard !newKeys.records.isEmpty else { return }
        for (id, value) in newKeys.records {
            try txn.put(store.keys, key: id.bigEndianBytes, value: value, flags: [.noOverwrite])
        }
        for (tag, id) in newKeys.index { try txn.put(store.matterKeys, key: tag.bytes, value: id.bigEndianBytes) }
        if !newKeys.wraps.isEmpty {
            guard let access else { throw LedgerError.corrupt("the access database is missing") }
            for (key, value) in newKeys.wraps { try txn.put(access, key: key, value: value) }
        }
        try txn.put(store.meta, key: MetaKey.nextKeyID.key, value: newKeys.nextID.bigEndianBytes)
    }

    /// The master box public key (meta `boxKey`); nil in a ledger no master-key write has touched since access
    /// control arrived.
    func boxPublicKey(_ txn: ReadTransaction) throws -> [UInt8]? {
        guard let raw = try txn.meta(store, .boxKey) else { return nil }
        guard raw.count == BoxKeyPair.publicKeyByteCount else {
            throw LedgerError.corrupt("the master box key in the metadata is not 32 bytes")
        }
        return raw
    }

    /// What sealing needs from storage: the master box public key is the stored one, or (a ledger created before
    /// access control, written by the master key) the master key's own, stored by `storeBoxKeyIfMissing`.
    func keyContext(_ principal: Principal, txn: ReadTransaction, access: Database?) throws -> KeyContext {
        KeyContext(txn: txn, access: access, boxPublicKey: try boxPublicKey(txn) ?? principal.ring?.box.publicKey)
    }

    /// Writes the master box public key into a ledger created before access control, in the transaction that first
    /// needs it (master key only); a stored key must be this master key's.
    func storeBoxKeyIfMissing(_ principal: Principal, txn: WriteTransaction) throws {
        guard let ring = principal.ring else { return }
        if let stored = try boxPublicKey(txn) {
            guard stored == ring.box.publicKey else {
                throw LedgerError.corrupt("the master box key in the metadata is not this master key's")
            }
            return
        }
        try txn.put(store.meta, key: MetaKey.boxKey.key, value: ring.box.publicKey)
    }

    // MARK: - Opening keys

    /// The data key `id` (a batch key or a v1 matter key) as `principal` can open it, cached once read from committed
    /// storage. A key the principal was never given is `notPermitted`.
    func entryKey(id: UInt32, principal: Principal, txn: ReadTransaction) throws -> SecretBytes {
        if let cached = session.withLock({ $0.matterKeyCache[id] }) { return cached }
        let key: SecretBytes
        switch try keyRecord(id, txn: txn) {
        case .matterKey(let sealed):
            key = try matterKeyV1(id, sealed: sealed, principal: principal)
        case .batchKey(let pairID, let sealed):
            let pair = try keyPairSecret(pairID, principal: principal, txn: txn)
            do { key = try sealed.withUnsafeBytes { try SealedBox.open($0, with: pair) } } catch {
                throw LedgerError.corrupt("batch key \(id) does not open with its matter's key pair")
            }
        case .keyPair:
            throw LedgerError.corrupt("an entry names key pair \(id) as its data key")
        }
        if !(txn is WriteTransaction) { session.withLock { $0.rememberDataKey(key, id: id) } }
        return key
    }

    private func matterKeyV1(_ id: UInt32, sealed: [UInt8], principal: Principal) throws -> SecretBytes {
        if let ring = principal.ring {
            do { return try sealed.withUnsafeBytes { try ring.unwrapMatterKey($0, ledgerID: ledgerID, keyID: id) } } catch {
                throw LedgerError.corrupt("matter key \(id) does not unwrap with this master key")
            }
        }
        guard let key = principal.readerKeys[id] else { throw LedgerError.notPermitted(Self.notReadable) }
        return key
    }

    /// A matter key pair's private key, as the master (sealed to its box key) or a reader (its wrap) holds it.
    private func keyPairSecret(_ id: UInt32, principal: Principal, txn: ReadTransaction) throws -> BoxKeyPair {
        if let cached = session.withLock({ $0.keyPairCache[id] }) { return cached }
        let pair = try openKeyPair(id, principal: principal, txn: txn)
        if !(txn is WriteTransaction) { session.withLock { $0.keyPairCache[id] = pair } }
        return pair
    }

    /// Keeps a key pair that deep verify's key check opened with the master key (committed storage), as
    /// `keyPairSecret` would have.
    func rememberKeyPair(_ pair: BoxKeyPair, id: UInt32) {
        session.withLock { $0.keyPairCache[id] = pair }
    }

    private func openKeyPair(_ id: UInt32, principal: Principal, txn: ReadTransaction) throws -> BoxKeyPair {
        let secret: SecretBytes
        if let ring = principal.ring {
            guard case .keyPair(let record) = try keyRecord(id, txn: txn) else {
                throw LedgerError.corrupt("key \(id) is not a matter key pair")
            }
            do { secret = try record.sealedSecret.withUnsafeBytes { try MatterSecret.open($0, with: ring.box) }.secretKey }
            catch { throw LedgerError.corrupt("key pair \(id) does not open with this master key") }
        } else {
            guard let key = principal.readerKeys[id] else { throw LedgerError.notPermitted(Self.notReadable) }
            secret = key
        }
        return try BoxKeyPair(secretKey: secret)
    }

    static let notReadable = "this credential may not read that"

    /// Master-key form of `entryKey` (deep verify).
    func matterKey(id: UInt32, ring: KeyRing, txn: ReadTransaction) throws -> SecretBytes {
        try entryKey(id: id, principal: Principal(master: ring), txn: txn)
    }
}
