import Foundation
import LMDB
import LedgerFormat
import MerkleLog
import Sodium

/// What `rotateMaster` (or the rotation inside `shred`) did.
public struct RotationSummary: Sendable {
    public let seq: UInt64
    public let keyEpoch: UInt32
    /// Key records re-wrapped (v1 matter keys and key pairs); batch keys are sealed to key pairs and stay.
    public let rewrappedKeys: Int
    /// The new key file, in key-file mode.
    public let keyFile: String?
    /// Stored byte strings the rotation replaced (the old wrapped keys): what the compaction must leave nowhere.
    public let replacedKeyBytes: [[UInt8]]
}

/// A new master key in the making: the key, and the key file created for it (removed again if the rotation fails).
struct PreparedMasterKey {
    let master: SecretBytes
    let createdFile: String?
    let kdf: PassphraseParameters?

    func discard() {
        if let createdFile { try? FileManager.default.removeItem(atPath: createdFile) }
    }
}

extension Ledger {
    /// Replaces the master key (docs/FORMAT.md, "Key epochs"): every key it wraps is re-wrapped under the new one in
    /// one transaction with a `rotate` entry, so the old key file or passphrase opens nothing in this ledger any more.
    /// The caller then compacts (`Ledger.compact`), which removes the old wrapped bytes from the data file.
    public func rotateMaster(to newKey: NewMasterKey, reason: String, by: String) throws -> RotationSummary {
        let ring = try requireKeys()
        try Self.validateRetentionText(reason: reason, by: by)
        let prepared = try prepareMasterKey(newKey)
        var result: (ring: KeyRing, epoch: UInt32, rewrapped: Int, replaced: [[UInt8]])?
        let seq: UInt64
        do {
            seq = try commitEvents(operation: "rotate the master key") { txn in
                let rotated = try rotateKeys(from: ring, to: prepared, txn: txn)
                result = rotated
                return [.rotate(AccessEvent.Rotation(keyEpoch: rotated.epoch, by: by, credential: AccessEvent.masterName,
                                                     reason: reason))]
            }
        } catch {
            prepared.discard()  // nothing committed: the old key still opens the ledger
            throw error
        }
        adoptRotatedKeys(result!.ring)  // committed: the new key file is the only key now, never removed
        return RotationSummary(seq: seq, keyEpoch: result!.epoch, rewrappedKeys: result!.rewrapped,
                               keyFile: prepared.createdFile, replacedKeyBytes: result!.replaced)
    }

    /// The new master key: a new key file (mode 0600, never over an existing file, not inside the ledger directory)
    /// or the passphrase's Argon2id key with a fresh salt. It must be of the ledger's key mode.
    func prepareMasterKey(_ newKey: NewMasterKey) throws -> PreparedMasterKey {
        switch (newKey, keyMode) {
        case (.keyFile(let path, let allowInside), "file"):
            if !allowInside, Self.isPath(path, inside: directory) { throw LedgerError.keyFileInsideLedger(path: path) }
            let master = SecretBytes(randomCount: MasterKeyFile.keyByteCount)
            try MasterKeyFile.create(at: path, key: master)
            return PreparedMasterKey(master: master, createdFile: path, kdf: nil)
        case (.passphrase(let passphrase, let parameters), "passphrase"):
            return PreparedMasterKey(master: try parameters.deriveMasterKey(passphrase), createdFile: nil, kdf: parameters)
        case (.keyFile, _):
            throw LedgerError.otherKeyKind(usesPassphrase: true)
        case (.passphrase, _):
            throw LedgerError.otherKeyKind(usesPassphrase: false)
        }
    }

    /// Inside `txn`: re-seals the signing key and the index key, re-wraps every v1 matter key and key pair under
    /// `new`, stores the new master box key and advances the key epoch. Returns the new subkeys, the epoch, how many
    /// keys were re-wrapped and the stored bytes replaced.
    func rotateKeys(from old: KeyRing, to new: PreparedMasterKey, txn: WriteTransaction)
        throws -> (ring: KeyRing, epoch: UInt32, rewrapped: Int, replaced: [[UInt8]]) {
        let ring = KeyRing(master: new.master, indexKey: old.indexKey)
        var replaced = [[UInt8]]()
        try rotateMetadata(from: old, to: ring, kdf: new.kdf, txn: txn, replaced: &replaced)
        var rewrapped = 0
        for (id, record) in try wrappedKeyRecords(txn) {
            let value: [UInt8]
            switch record {
            case .matterKey(let sealed):
                let key = try sealed.withUnsafeBytes { try old.unwrapMatterKey($0, ledgerID: ledgerID, keyID: id) }
                value = KeyRecord.matterKey(sealed: ring.wrapMatterKeyV1(key, ledgerID: ledgerID, keyID: id)).encoded()
                replaced.append(sealed)
            case .keyPair(var pair):
                let secret = try pair.sealedSecret.withUnsafeBytes { try MatterSecret.open($0, with: old.box) }
                replaced.append(pair.sealedSecret)
                pair = KeyRecord.KeyPairRecord(tag: pair.tag, previousID: pair.previousID, publicKey: pair.publicKey,
                    sealedSecret: MatterSecret.seal(secretKey: secret.secretKey, tag: secret.tag, matter: secret.matter,
                                                    to: ring.box.publicKey))
                value = KeyRecord.keyPair(pair).encoded()
            case .batchKey:
                continue
            }
            try txn.put(store.keys, key: id.bigEndianBytes, value: value)
            rewrapped += 1
        }
        let epoch = try keyEpoch(txn) + 1
        try txn.put(store.meta, key: MetaKey.keyEpoch.key, value: epoch.bigEndianBytes)
        try txn.put(store.meta, key: MetaKey.scrubPending.key, value: [1])
        return (ring, epoch, rewrapped, replaced)
    }

    /// The signing key, the index key, the master box key and the passphrase parameters, under the new master key.
    private func rotateMetadata(from old: KeyRing, to ring: KeyRing, kdf: PassphraseParameters?,
                                txn: WriteTransaction, replaced: inout [[UInt8]]) throws {
        guard let sealedSeed = try txn.meta(store, .signingKey) else { throw LedgerError.corrupt("no signing key") }
        let seed = try sealedSeed.withUnsafeBytes { try old.openSigningSeed($0, ledgerID: ledgerID) }
        replaced.append(sealedSeed)
        if let sealedIndex = try txn.meta(store, .indexKey) { replaced.append(sealedIndex) }
        try txn.put(store.meta, key: MetaKey.signingKey.key, value: ring.sealSigningSeed(seed, ledgerID: ledgerID))
        try txn.put(store.meta, key: MetaKey.indexKey.key, value: ring.sealIndexKey(old.indexKey, ledgerID: ledgerID))
        try txn.put(store.meta, key: MetaKey.boxKey.key, value: ring.box.publicKey)
        if let kdf { try txn.put(store.meta, key: MetaKey.kdf.key, value: kdf.encoded()) }
    }

    /// Every key record, decoded (copied out of the transaction before any of them is rewritten).
    func wrappedKeyRecords(_ txn: ReadTransaction) throws -> [(UInt32, KeyRecord)] {
        let cursor = try txn.cursor(store.keys)
        defer { cursor.close() }
        var records = [(UInt32, KeyRecord)]()
        var row = try cursor.first()
        while let current = row {
            row = try cursor.next()
            guard let id = UInt32(bigEndianBytes: current.key) else { throw LedgerError.corrupt("a key id is not 4 bytes") }
            records.append((id, try KeyRecord.decode(current.value, id: id)))
        }
        return records
    }

    /// After a committed rotation: this session holds the new master key; nothing opened under the old one stays.
    func adoptRotatedKeys(_ ring: KeyRing) {
        session.withLock { $0 = Session(principal: Principal(master: ring), signer: $0.signer) }
    }

    static func validateRetentionText(reason: String, by: String) throws {
        guard AccessEvent.isValidReason(reason) else {
            throw LedgerError.invalidArgument("--reason must be 1 to \(AccessEvent.maxReasonBytes) bytes")
        }
        guard AccessEvent.isValidActor(by) else {
            throw LedgerError.invalidArgument("--by must be 1 to \(AccessEvent.maxByBytes) bytes without control "
                                              + "characters")
        }
    }

    /// Rewrites the ledger in `directory` into a fresh data file (no process may have it open: close this ledger
    /// first), then checks that none of `destroyedBytes` is left in any file of the directory.
    public static func compact(at directory: String, destroyedBytes: [[UInt8]] = [],
                               holding access: ExclusiveAccess? = nil) throws -> CompactionSummary {
        try Compaction.run(directory: directory, mustNotContain: destroyedBytes, holding: access?.lock)
    }

    /// Closes a ledger opened `exclusive`, keeping other processes out until the compaction that follows is done.
    public func closeForCompaction() -> ExclusiveAccess? {
        store.closeKeepingLock().map(ExclusiveAccess.init)
    }
}

/// The exclusive hold on a ledger between a rotation's commit and its compaction (`Ledger.closeForCompaction`).
public final class ExclusiveAccess: Sendable {
    let lock: LedgerLock
    init(_ lock: LedgerLock) { self.lock = lock }
}
