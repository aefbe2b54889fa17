import Foundation
import LMDB
import LedgerFormat
import MerkleLog
import Sodium

/// What `grant` created: the grant's entry and the credential file.
public struct GrantSummary: Sendable {
    public let seq: UInt64
    public let credentialPath: String
    public let matters: Int
}

/// What `revoke` changed: its entries and the matters re-keyed.
public struct RevokeSummary: Sendable {
    public let lastSeq: UInt64
    public let rekeyedMatters: Int
}

extension Ledger {
    /// Creates a credential for `name` with `role` (docs/ACCESS.md) and records the grant, master key only. The
    /// credential file is written first (mode 0600, refused if it exists) and removed again if the grant fails.
    /// A reader gets every key of its matters sealed to it; each granted matter gets a key pair if it has none.
    public func grant(_ name: String, role: AccessRole, matters: [String], credentialPath: String) throws -> GrantSummary {
        let ring = try requireKeys()
        try Self.validateGrant(name, role: role, matters: matters)
        let master = try requireWriter()
        guard let access = try store.access(create: true) else { throw LedgerError.corrupt("cannot create access") }
        let pair = BoxKeyPair.generate()
        try CredentialFile.create(at: credentialPath, name: name, ledgerID: ledgerID, pair: pair)
        do {
            let tagged = Dictionary(matters.map { (ring.matterTag($0), $0) }, uniquingKeysWith: { a, _ in a })
            let grant = AccessEvent.Grant(credential: name, role: role, publicKey: pair.publicKey,
                                          matters: tagged.keys.sorted { $0.hex < $1.hex })
            let seq = try commitEvents(operation: "grant") { txn in
                guard try txn.get(access, key: AccessKey.grant(name)) == nil else {
                    throw LedgerError.invalidArgument("'\(name)' already holds a grant: revoke it first, or choose "
                                                      + "another name")
                }
                try storeBoxKeyIfMissing(master, txn: txn)
                try txn.put(access, key: AccessKey.grant(name), value: AccessEvent.grant(grant).encoded())
                try sealRoleSecrets(grant, matters: tagged, master: master, access: access, txn: txn)
                return [.grant(grant)]
            }
            return GrantSummary(seq: seq, credentialPath: credentialPath, matters: tagged.count)
        } catch {
            try? FileManager.default.removeItem(atPath: credentialPath)
            throw error
        }
    }

    private static func validateGrant(_ name: String, role: AccessRole, matters: [String]) throws {
        guard AccessEvent.isValidCredentialName(name), name != AccessEvent.masterName else {
            throw LedgerError.invalidArgument("a credential name is 1 to 64 letters, digits, '.', '_', '@' or '-', "
                                              + "starting with a letter or digit, and not 'master'")
        }
        switch role {
        case .reader where matters.isEmpty:
            throw LedgerError.invalidArgument("a reader needs at least one --matter")
        case .signer where !matters.isEmpty:
            throw LedgerError.invalidArgument("a signer reads no matter: --matter does not apply")
        default:
            guard matters.count <= AccessEvent.maxMatters else {
                throw LedgerError.invalidArgument("at most \(AccessEvent.maxMatters) matters per grant")
            }
        }
    }

    /// What the role needs, sealed to the credential: an appender the index key, a signer the signing seed, a reader
    /// every key of each granted matter (creating a key pair first for a matter that has none).
    private func sealRoleSecrets(_ grant: AccessEvent.Grant, matters: [Hash: String], master: Principal,
                                 access: Database, txn: WriteTransaction) throws {
        let ring = master.ring!
        switch grant.role {
        case .appender:
            try txn.put(access, key: AccessKey.roleSecret(grant.publicKey),
                        value: SealedBox.seal(ring.indexKey, to: grant.publicKey))
        case .signer:
            guard let sealed = try txn.meta(store, .signingKey) else { throw LedgerError.corrupt("no signing key") }
            let seed = try sealed.withUnsafeBytes { try ring.openSigningSeed($0, ledgerID: ledgerID) }
            try txn.put(access, key: AccessKey.roleSecret(grant.publicKey), value: SealedBox.seal(seed, to: grant.publicKey))
        case .reader:
            for (tag, matter) in matters where try destroyedMatter(tag, access: access, txn: txn) != nil {
                throw LedgerError.invalidArgument("matter \(matter) was destroyed: there is nothing left to read")
            }
            try ensureKeyPairs(for: matters, access: access, txn: txn)
            for (tag, matter) in matters {
                for id in try keyChain(tag: tag, txn: txn) {
                    let secret = try masterSecret(of: id, ring: ring, txn: txn)
                    try txn.put(access, key: AccessKey.wrap(grant.publicKey, keyID: id),
                                value: MatterSecret.seal(secretKey: secret, tag: tag, matter: matter, to: grant.publicKey))
                }
            }
        }
    }

    /// Gives every matter whose current key is not a key pair (none yet, or a v1 key) a new key pair.
    private func ensureKeyPairs(for matters: [Hash: String], access: Database, txn: WriteTransaction) throws {
        var newKeys = NewKeys(nextID: try nextMatterKeyID(txn))
        let context = KeyContext(txn: txn, access: access, boxPublicKey: try boxPublicKey(txn))
        for (tag, matter) in matters {
            if let id = try indexedKeyID(tag: tag, txn: txn), case .keyPair = try keyRecord(id, txn: txn) { continue }
            _ = try createKeyPair(tag: tag, matter: matter, context: context, newKeys: &newKeys)
        }
        try store(newKeys, txn: txn, access: access)
    }

    /// A matter's keys, newest first: the index row's key pair back through each pair's previous key.
    func keyChain(tag: Hash, txn: ReadTransaction) throws -> [UInt32] {
        var chain = [UInt32]()
        var current = try indexedKeyID(tag: tag, txn: txn) ?? 0
        while current != 0, chain.count <= 1 << 20 {
            chain.append(current)
            guard case .keyPair(let pair) = try keyRecord(current, txn: txn) else { break }
            current = pair.previousID
        }
        return chain
    }

    /// The secret of a v1 matter key or a key pair, as the master key opens it.
    private func masterSecret(of id: UInt32, ring: KeyRing, txn: ReadTransaction) throws -> SecretBytes {
        switch try keyRecord(id, txn: txn) {
        case .matterKey(let sealed):
            return try sealed.withUnsafeBytes { try ring.unwrapMatterKey($0, ledgerID: ledgerID, keyID: id) }
        case .keyPair(let pair):
            return try pair.sealedSecret.withUnsafeBytes { try MatterSecret.open($0, with: ring.box) }.secretKey
        case .batchKey:
            throw LedgerError.corrupt("key \(id) on a matter's key chain is a batch key")
        }
    }

    /// Ends `name`'s grant, or withdraws some of its matters, master key only. A reader's withdrawn matters are
    /// re-keyed: entries appended afterwards are sealed to a key pair the revoked credential never had.
    public func revoke(_ name: String, matters: [String]) throws -> RevokeSummary {
        let ring = try requireKeys()
        let master = try requireWriter()
        guard let access = try store.access() else { throw LedgerError.invalidArgument("'\(name)' holds no grant") }
        var rekeyed = 0
        let seq = try commitEvents(operation: "revoke") { txn in
            guard let raw = try txn.get(access, key: AccessKey.grant(name)),
                  case .grant(var grant)? = try? AccessEvent.decode(Array(raw)) else {
                throw LedgerError.invalidArgument("'\(name)' holds no grant")
            }
            let withdrawn = try withdrawnTags(matters, from: grant, ring: ring)
            let ends = withdrawn.count == grant.matters.count || matters.isEmpty
            grant.matters.removeAll { withdrawn.contains($0) }
            if ends {
                _ = try txn.delete(access, key: AccessKey.grant(name))
                _ = try txn.delete(access, key: AccessKey.roleSecret(grant.publicKey))
            } else {
                try txn.put(access, key: AccessKey.grant(name), value: AccessEvent.grant(grant).encoded())
            }
            try deleteWraps(of: grant.publicKey, for: withdrawn, access: access, txn: txn)
            var events: [AccessEvent] = [.revoke(AccessEvent.Revocation(credential: name,
                                                                         matters: ends ? [] : withdrawn))]
            if grant.role == .reader {
                let rekeys = try rekey(withdrawn, master: master, access: access, txn: txn)
                events += rekeys
                rekeyed = rekeys.count
            }
            return events
        }
        return RevokeSummary(lastSeq: seq, rekeyedMatters: rekeyed)
    }

    /// The tags of the matters to withdraw (all of the grant's when none are named); a named matter outside the grant
    /// is an error.
    private func withdrawnTags(_ matters: [String], from grant: AccessEvent.Grant, ring: KeyRing) throws -> [Hash] {
        guard !matters.isEmpty else { return grant.matters }
        return try Set(matters).map { matter in
            let tag = ring.matterTag(matter)
            guard grant.matters.contains(tag) else {
                throw LedgerError.invalidArgument("'\(grant.credential)' holds no grant for matter \(matter)")
            }
            return tag
        }.sorted { $0.hex < $1.hex }
    }

    /// Deletes a credential's wraps of the given matters' keys (every wrap when `tags` covers its whole grant).
    private func deleteWraps(of publicKey: [UInt8], for tags: [Hash], access: Database, txn: WriteTransaction) throws {
        for tag in tags {
            for id in try keyChain(tag: tag, txn: txn) {
                _ = try txn.delete(access, key: AccessKey.wrap(publicKey, keyID: id))
            }
        }
    }

    /// A new key pair for each matter, sealed to the master and the readers still granted it; one rekey event each.
    private func rekey(_ tags: [Hash], master: Principal, access: Database,
                       txn: WriteTransaction) throws -> [AccessEvent] {
        var newKeys = NewKeys(nextID: try nextMatterKeyID(txn))
        let context = KeyContext(txn: txn, access: access, boxPublicKey: try boxPublicKey(txn))
        var events = [AccessEvent]()
        // A destroyed matter has no keys left to replace: nothing appended to it, nothing to re-key.
        for tag in tags where try destroyedMatter(tag, access: access, txn: txn) == nil {
            guard let current = try indexedKeyID(tag: tag, txn: txn), case .keyPair(let pair) = try keyRecord(current, txn: txn) else {
                throw LedgerError.corrupt("a granted matter has no key pair")
            }
            let matter = try pair.sealedSecret.withUnsafeBytes { try MatterSecret.open($0, with: master.box) }.matter
            let fresh = try createKeyPair(tag: tag, matter: matter, context: context, newKeys: &newKeys)
            events.append(.rekey(AccessEvent.Rekey(matter: tag, keyID: fresh.id, previousKeyID: current)))
        }
        try store(newKeys, txn: txn, access: access)
        return events
    }
}
