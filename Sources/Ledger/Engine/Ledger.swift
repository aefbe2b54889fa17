import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import Logging
import MerkleLog
import SignedNote
import Sodium

/// How `create` obtains the master key.
public enum NewMasterKey: Sendable {
    /// Generate 32 random bytes and write them to a new key file (mode 0600).
    case keyFile(path: String, allowInsideLedger: Bool)
    /// Derive the key from a passphrase with Argon2id at the given limits (salt and limits are stored).
    case passphrase(SecretBytes, PassphraseParameters)
}

/// An open ledger: one LMDB environment, its identity, and (once unlocked) the keys.
///
/// Keyless operations (verify, checkpoint listing) need only `open`; reading or appending
/// records and signing checkpoints need `unlock`.
public final class Ledger: Sendable {
    public static let verifierKeyFileName = "verifier.key"
    static let logger = Logger(label: "ledger.engine")

    public let directory: String
    let store: Store
    public let ledgerID: [UInt8]
    public let origin: String
    /// The verifier key stored in this ledger (signed-note text form). Trust a pinned copy over this one.
    public let storedVerifierKey: String
    public let keyMode: String
    /// `meta/format`: 1, 2 (imports stage their source rows in append order) or 3 (entries stored in groups):
    /// docs/FORMAT.md, "Storage".
    public let storageFormat: UInt32
    /// Format 2: bulk imports write source rows to `sourcesStaged` and move them into `sources` in tag order.
    var stagesSources: Bool { storageFormat >= 2 }

    /// What unlocking and appending leave behind; replaced whole by each unlock, so no key opened under one
    /// principal is ever served to another.
    let session = Locked(Session())

    private init(directory: String, store: Store) throws {
        self.directory = directory
        self.store = store
        let meta = try LedgerError.wrap("read ledger metadata") {
            try store.environment.read { txn -> (format: [UInt8]?, id: [UInt8]?,
                                                 origin: String?, vk: String?, mode: String?) in
                (try txn.meta(store, .format), try txn.meta(store, .ledgerID), try txn.metaString(store, .origin),
                 try txn.metaString(store, .verifierKey), try txn.metaString(store, .keyMode))
            }
        }
        guard let formatBytes = meta.format,
              let format = formatBytes.withUnsafeBytes({ UInt32(bigEndianBytes: $0) }) else {
            throw LedgerError.notALedger(path: directory, reason: "no storage format version in its metadata")
        }
        guard Store.readableFormats.contains(format) else { throw LedgerError.unsupportedFormat(version: format) }
        self.storageFormat = format
        store.entryLayout = EntryLayout(storageFormat: format)
        guard let id = meta.id, id.count == Leaf.ledgerIDByteCount, let origin = meta.origin, let vk = meta.vk,
              let mode = meta.mode else {
            throw LedgerError.notALedger(path: directory, reason: "its metadata is incomplete")
        }
        do { try Self.validateOrigin(origin) } catch {
            throw LedgerError.notALedger(path: directory, reason: "its stored origin is not a valid origin line")
        }
        self.ledgerID = id
        self.origin = origin
        self.storedVerifierKey = vk
        self.keyMode = mode
        // Format 2 ledgers are created with `sourcesStaged`; open it now, so every transaction sees it.
        if format >= 2, try LedgerError.wrap("open the staged source rows", { try store.stagedSources() }) == nil {
            throw LedgerError.notALedger(path: directory, reason: "its staged source rows (format 2) are missing")
        }
    }

    deinit { store.close() }

    public func close() { store.close() }

    // MARK: - Create

    /// Creates a new ledger in an empty (or new) directory, with a fresh ledger id, master key and signing key.
    public static func create(at directory: String, origin: String, masterKey: NewMasterKey) throws -> Ledger {
        try create(at: directory, origin: origin, masterKey: masterKey, storageFormat: Store.storageFormatVersion)
    }

    /// `create` in an older storage format (2 or later): a ledger an older build can read, and tests of that
    /// format's bytes (`ledger init --storage-format`, hidden).
    package static let creatableFormats: ClosedRange<UInt32> = 2...Store.storageFormatVersion

    package static func create(at directory: String, origin: String, masterKey: NewMasterKey,
                       storageFormat: UInt32) throws -> Ledger {
        guard creatableFormats.contains(storageFormat) else {
            throw LedgerError.invalidArgument("storage format \(storageFormat) cannot be created: "
                                              + "\(creatableFormats.lowerBound) to \(creatableFormats.upperBound)")
        }
        try validateOrigin(origin)
        let createdDirectory = try prepareEmptyDirectory(directory)
        var createdKeyFile: String?
        do {
            let master: SecretBytes
            switch masterKey {
            case .keyFile(let path, let allowInside):
                if !allowInside, isPath(path, inside: directory) { throw LedgerError.keyFileInsideLedger(path: path) }
                guard !FileManager.default.fileExists(atPath: path) else { throw LedgerError.keyFileExists(path: path) }
                master = SecretBytes(randomCount: MasterKeyFile.keyByteCount)
                try MasterKeyFile.create(at: path, key: master)
                createdKeyFile = path
            case .passphrase(let passphrase, let parameters):
                master = try parameters.deriveMasterKey(passphrase)
            }
            try writeInitialMetadata(directory: directory, origin: origin, master: master, masterKey: masterKey,
                                     storageFormat: storageFormat)
            let ledger = try open(at: directory)
            try AtomicFile.write(ledger.storedVerifierKey + "\n",
                                 to: (directory as NSString).appendingPathComponent(verifierKeyFileName),
                                 mode: 0o644)  // public
            return ledger
        } catch {
            // Leave nothing half-made behind: no key without a ledger, no ledger without its key.
            if let createdKeyFile { try? FileManager.default.removeItem(atPath: createdKeyFile) }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            }
            if createdDirectory { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
    }

    private static func writeInitialMetadata(directory: String, origin: String, master: SecretBytes,
                                             masterKey: NewMasterKey, storageFormat: UInt32) throws {
        let ring = KeyRing(master: master)
        let ledgerID = SecureRandom.bytes(Leaf.ledgerIDByteCount)
        let seed = SecretBytes(randomCount: 32)
        let signer = try NoteSigner(name: origin, seed: seed)
        let sealedSeed = ring.sealSigningSeed(seed, ledgerID: ledgerID)
        let store = try Store(directory: directory, create: true)
        defer { store.close() }
        try LedgerError.wrap("initialise ledger metadata") {
            try store.environment.write { txn in
                func put(_ key: MetaKey, _ value: [UInt8]) throws {
                    try txn.put(store.meta, key: key.key, value: value, flags: [.noOverwrite])
                }
                try put(.format, storageFormat.bigEndianBytes)
                try put(.ledgerID, ledgerID)
                try put(.origin, Array(origin.utf8))
                try put(.createdAt, UInt64(bitPattern: Clock.nowMicros()).bigEndianBytes)
                try put(.signingKey, sealedSeed)
                try put(.verifierKey, Array(signer.verifierKey.text.utf8))
                try put(.nextKeyID, UInt32(1).bigEndianBytes)
                try put(.boxKey, ring.box.publicKey)
                switch masterKey {
                case .keyFile:
                    try put(.keyMode, Array("file".utf8))
                case .passphrase(_, let parameters):
                    try put(.keyMode, Array("passphrase".utf8))
                    try put(.kdf, parameters.encoded())
                }
            }
        }
    }

    /// The origin names the log in every checkpoint and is the signer name of the verifier key.
    static func validateOrigin(_ origin: String) throws {
        let ok = !origin.isEmpty && origin.utf8.count <= 255 &&
            origin.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f && $0 != "+" }
        guard ok else {
            throw LedgerError.invalidArgument("the origin must be 1 to 255 printable ASCII characters "
                                              + "without spaces or '+', e.g. example-firm.com/client-ledger")
        }
    }

    /// Returns true when it created the directory (so a failed create removes it again).
    private static func prepareEmptyDirectory(_ directory: String) throws -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw LedgerError.ledgerDirectoryNotEmpty(path: directory) }
            guard (try? fm.contentsOfDirectory(atPath: directory))?.isEmpty ?? false else {
                throw LedgerError.ledgerDirectoryNotEmpty(path: directory)
            }
            return false
        } else {
            do {
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                       attributes: [.posixPermissions: 0o700])
            } catch {
                throw LedgerError.io(path: directory, detail: "cannot create the ledger directory")
            }
            return true
        }
    }

    static func isPath(_ path: String, inside directory: String) -> Bool {
        let dir = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
            .standardizedFileURL.resolvingSymlinksInPath().path
        return parent == dir || parent.hasPrefix(dir.hasSuffix("/") ? dir : dir + "/")
    }

    // MARK: - Open and unlock

    /// Opens an existing ledger without keys.
    /// `exclusive`: no other process may have the ledger open, and none can open it until `closeForCompaction`'s lock
    /// is released (a master key rotation, which ends with a compaction).
    public static func open(at directory: String, readOnly: Bool = false, exclusive: Bool = false) throws -> Ledger {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LedgerError.ledgerNotFound(path: directory)
        }
        guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("data.mdb")) else {
            throw LedgerError.ledgerNotFound(path: directory)  // a directory without data.mdb holds no ledger
        }
        return try Ledger(directory: directory, store: Store(directory: directory, create: false, readOnly: readOnly,
                                                             exclusive: exclusive))
    }

    /// Loads the master key and checks that it unlocks this ledger (by opening the sealed signing key).
    public func unlock(with source: KeySource) throws {
        let master: SecretBytes
        switch (source, keyMode) {
        case (.keyFile(let path), "file"):
            master = try MasterKeyFile.load(from: path)
        case (.passphrase(let passphrase), "passphrase"):
            let raw = try LedgerError.wrap("read passphrase parameters") {
                try store.environment.read { try $0.meta(store, .kdf) }
            }
            guard let raw else { throw LedgerError.corrupt("passphrase parameters (meta `kdf`) are missing") }
            master = try raw.withUnsafeBytes { try PassphraseParameters.decode($0) }.deriveMasterKey(passphrase)
        case (.keyFile, _):
            throw LedgerError.otherKeyKind(usesPassphrase: true)
        case (.passphrase, _):
            throw LedgerError.otherKeyKind(usesPassphrase: false)
        }
        let (ring, seed) = try openKeyRing(master: master)
        let signer = try verifiedSigner(seed: seed)
        session.withLock { $0 = Session(principal: Principal(master: ring), signer: signer) }
    }

    /// The master key's subkeys and the signing seed, once the key is shown to be this ledger's current master key (it
    /// opens the sealed signing key). After a rotation the index key is the stored one (meta `indexKey`).
    func openKeyRing(master: SecretBytes) throws -> (KeyRing, SecretBytes) {
        let (sealedSeed, sealedIndex, epoch) = try LedgerError.wrap("read the sealed keys") {
            try store.environment.read { txn in
                (try txn.meta(store, .signingKey), try txn.meta(store, .indexKey), try keyEpoch(txn))
            }
        }
        guard let sealedSeed else { throw LedgerError.corrupt("the sealed signing key is missing") }
        let derived = KeyRing(master: master)
        let seed: SecretBytes
        do {
            seed = try sealedSeed.withUnsafeBytes { try derived.openSigningSeed($0, ledgerID: ledgerID) }
        } catch {
            let rotated = epoch > 0 ? "; the master key was rotated \(epoch) time\(epoch == 1 ? "" : "s") (shred or "
                + "rotate-master): a key from before a rotation opens nothing" : ""
            throw LedgerError.wrongKey("the key does not unlock this ledger (wrong key file or passphrase\(rotated))")
        }
        guard let sealedIndex else { return (derived, seed) }
        do {
            let indexKey = try sealedIndex.withUnsafeBytes { try derived.openIndexKey($0, ledgerID: ledgerID) }
            return (KeyRing(master: master, indexKey: indexKey), seed)
        } catch {
            throw LedgerError.corrupt("the sealed index key (meta `indexKey`) does not open with this master key")
        }
    }

    /// Rotations of the master key so far (meta `keyEpoch`; 0 when absent).
    func keyEpoch(_ txn: ReadTransaction) throws -> UInt32 {
        guard let raw = try txn.meta(store, .keyEpoch) else { return 0 }
        guard let epoch = raw.withUnsafeBytes({ UInt32(bigEndianBytes: $0) }) else {
            throw LedgerError.corrupt("meta `keyEpoch` is not 4 bytes")
        }
        return epoch
    }

    /// The master key's subkeys; `masterKeyRequired` without them.
    func requireKeys() throws -> KeyRing {
        guard let ring = session.withLock({ $0.principal?.ring }) else {
            throw LedgerError.masterKeyRequired
        }
        return ring
    }

    /// Bytes of the LMDB data file on disk.
    public func dataFileSize() -> Int {
        Store.fileSize((directory as NSString).appendingPathComponent("data.mdb"))
    }

    /// Number of entries in the ledger.
    public func size() throws -> UInt64 {
        try LedgerError.wrap("count entries") { try store.environment.read { try $0.entryCount(store) } }
    }
}


/// The state an open ledger keeps between calls (`Ledger.session`).
struct Session: Sendable {
    var principal: Principal?
    var signer: NoteSigner?
    /// Data keys opened so far, by key id (committed storage only); emptied when full (`rememberDataKey`).
    var matterKeyCache: [UInt32: SecretBytes] = [:]
    /// Matter key pairs opened so far (each batch key of a matter opens with the same pair).
    var keyPairCache: [UInt32: BoxKeyPair] = [:]
    /// The log's tail after the last committed append of this process.
    var appendState: AppendState?

    /// Data keys kept at most: a ledger holds a batch key per matter per import batch (~122,000 at 10M entries),
    /// and reading the whole log in order (verify --deep, export) needs each only for its batch's entries.
    static let dataKeyCacheLimit = 4096

    mutating func rememberDataKey(_ key: SecretBytes, id: UInt32) {
        if matterKeyCache.count >= Self.dataKeyCacheLimit { matterKeyCache.removeAll(keepingCapacity: true) }
        matterKeyCache[id] = key
    }
}
