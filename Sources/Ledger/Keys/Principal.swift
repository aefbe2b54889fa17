import LMDB
import LedgerFormat
import MerkleLog
import SignedNote
import Sodium

/// Who holds the ledger open: the master key (every power) or a credential with one role (docs/ACCESS.md).
final class Principal: Sendable {
    /// "master", or the credential's name.
    let name: String
    /// nil for the master key.
    let role: AccessRole?
    /// The master key's subkeys; nil for a credential.
    let ring: KeyRing?
    /// The index key: the master's, or an appender's copy of it.
    let tags: TagKey?
    /// The master box key pair, or the credential's.
    let box: BoxKeyPair
    /// The matters this principal may read (reader) or append to (appender); nil: every matter.
    let matters: Set<Hash>?
    /// A reader's matters by number, from its wraps.
    let matterTags: [String: Hash]
    /// A reader's unsealed keys by key id: v1 matter keys and key pairs' private keys of its matters.
    let readerKeys: [UInt32: SecretBytes]

    init(master ring: KeyRing) {
        name = AccessEvent.masterName
        role = nil
        self.ring = ring
        tags = ring.tags
        box = ring.box
        matters = nil
        matterTags = [:]
        readerKeys = [:]
    }

    init(credential: CredentialFile, role: AccessRole, tags: TagKey?, matters: Set<Hash>?,
         readerSecrets: [UInt32: MatterSecret]) {
        name = credential.name
        self.role = role
        ring = nil
        self.tags = tags
        box = credential.pair
        self.matters = matters
        matterTags = Dictionary(readerSecrets.values.map { ($0.matter, $0.tag) }, uniquingKeysWith: { a, _ in a })
        readerKeys = readerSecrets.mapValues(\.secretKey)
    }

    var isMaster: Bool { role == nil }

    func mayRead(tag: Hash) -> Bool {
        isMaster || (role == .reader && matters?.contains(tag) == true)
    }

    func mayAppend(tag: Hash) -> Bool {
        isMaster || (role == .appender && (matters?.contains(tag) ?? true))
    }

    /// The tag of a matter number: computed with the index key, or (reader) looked up among its granted matters;
    /// nil when this principal cannot know it, which for a reader means the matter is not granted.
    func matterTag(_ matter: String) -> Hash? {
        if let tags { return tags.matterTag(matter) }
        return matterTags[matter]
    }
}

extension AccessRole {
    /// "a reader", "an appender", "a signer".
    var withArticle: String { (self == .appender ? "an " : "a ") + rawValue }
}

extension Ledger {
    /// Opens the ledger with a credential file instead of the master key: checks that it belongs to this ledger and
    /// that its grant is current, then unseals what the grant gives its role.
    public func unlock(credentialFile path: String) throws {
        let credential = try CredentialFile.load(from: path)
        guard credential.ledgerID == ledgerID else {
            throw LedgerError.wrongKey("the credential belongs to another ledger")
        }
        let grant = try currentGrant(of: credential)
        let principal: Principal
        var signer: NoteSigner?
        switch grant.role {
        case .reader:
            principal = Principal(credential: credential, role: .reader, tags: nil, matters: Set(grant.matters),
                                  readerSecrets: try readerSecrets(credential))
        case .appender:
            let indexKey = try roleSecret(credential)
            principal = Principal(credential: credential, role: .appender, tags: TagKey(indexKey),
                                  matters: grant.matters.isEmpty ? nil : Set(grant.matters), readerSecrets: [:])
        case .signer:
            signer = try verifiedSigner(seed: try roleSecret(credential))
            principal = Principal(credential: credential, role: .signer, tags: nil, matters: [], readerSecrets: [:])
        }
        session.withLock { $0 = Session(principal: principal, signer: signer) }
    }

    /// The credential's grant as it stands now; a credential whose grant ended or was given to another key is refused.
    private func currentGrant(of credential: CredentialFile) throws -> AccessEvent.Grant {
        let revoked = LedgerError.wrongKey("credential '\(credential.name)' has no current grant in this ledger "
                                           + "(revoked, or never granted here)")
        guard let access = try store.access() else { throw revoked }
        let raw = try LedgerError.wrap("read the grant") {
            try store.environment.read { try $0.get(access, key: AccessKey.grant(credential.name)).map { Array($0) } }
        }
        guard let raw else { throw revoked }
        guard case .grant(let grant)? = try? AccessEvent.decode(raw) else {
            throw LedgerError.corrupt("the stored grant of '\(credential.name)' does not decode")
        }
        guard grant.publicKey == credential.pair.publicKey else { throw revoked }
        return grant
    }

    /// The role secret sealed to an appender or signer credential.
    private func roleSecret(_ credential: CredentialFile) throws -> SecretBytes {
        guard let access = try store.access() else { throw LedgerError.corrupt("the access database is missing") }
        let secret = try LedgerError.wrap("read the role secret") {
            try store.environment.read { txn -> SecretBytes? in
                guard let sealed = try txn.get(access, key: AccessKey.roleSecret(credential.pair.publicKey)) else {
                    return nil
                }
                return try? SealedBox.open(sealed, with: credential.pair)
            }
        }
        guard let secret, secret.count == 32 else {
            throw LedgerError.corrupt("the role secret of '\(credential.name)' is missing or does not open")
        }
        return secret
    }

    /// Every key a reader's grant sealed to it, by key id.
    private func readerSecrets(_ credential: CredentialFile) throws -> [UInt32: MatterSecret] {
        guard let access = try store.access() else { return [:] }
        return try LedgerError.wrap("read the reader's keys") {
            try store.environment.read { txn in
                let prefix = AccessKey.wraps(credential.pair.publicKey)
                let cursor = try txn.cursor(access)
                defer { cursor.close() }
                var secrets = [UInt32: MatterSecret]()
                var pair = try cursor.seek(atLeast: prefix)
                while let current = pair, current.key.count == prefix.count + 4,
                      current.key.starts(with: prefix) {
                    let id = UInt32(bigEndianBytes: UnsafeRawBufferPointer(rebasing: current.key[prefix.count...]))!
                    do { secrets[id] = try MatterSecret.open(current.value, with: credential.pair) } catch {
                        throw LedgerError.corrupt("key \(id) sealed to '\(credential.name)' does not open")
                    }
                    pair = try cursor.next()
                }
                return secrets
            }
        }
    }

    /// The checkpoint signer of a seed, which must be the ledger's own signing key.
    func verifiedSigner(seed: SecretBytes) throws -> NoteSigner {
        let signer = try NoteSigner(name: origin, seed: seed)
        guard signer.verifierKey.text == storedVerifierKey else {
            throw LedgerError.corrupt("the stored verifier key does not match the ledger's signing key")
        }
        return signer
    }

    /// The master key or a credential of one of `roles`; a credential of another role gets a message naming what
    /// the command needs.
    func requirePrincipal(_ roles: Set<AccessRole>, for action: String) throws -> Principal {
        guard let principal = session.withLock({ $0.principal }) else { throw LedgerError.masterKeyRequired }
        if let role = principal.role, !roles.contains(role) {
            throw LedgerError.notPermitted("\(role.withArticle) credential cannot \(action)")
        }
        return principal
    }
}
