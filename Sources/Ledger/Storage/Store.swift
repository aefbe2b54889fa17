import Foundation
import LMDB
import LedgerFormat
import MerkleLog

/// The ledger's LMDB environment and its named databases (docs/FORMAT.md, "Storage").
///
/// | database    | key                       | value                                  |
/// |-------------|---------------------------|----------------------------------------|
/// | meta        | ASCII name                | see MetaKey                            |
/// | entries     | seq (u64 BE)              | StoredEntry: u16 leaf length, leaf, ciphertext; format 3: an EntryGroup under its first seq |
/// | tree        | stored-hash index (u64 BE)| 32-byte hash (tlog layout)             |
/// | checkpoints | tree size (u64 BE)        | signed note text                       |
/// | keys        | key id (u32 BE)           | sealed matter key                      |
/// | matterKeys  | matter tag (32)           | key id (u32 BE)                        |
/// | matters     | matter tag (32)           | seq (u64 BE), sorted duplicates        |
/// | sources     | source tag (32)           | seq (u64 BE)                           |
/// | sourcesStaged | seq (u64 BE)            | source tag (32): source rows not yet moved into `sources` (format 2) |
/// | access      | see AccessKey             | grants and what they seal (created by the first grant) |
/// | events      | seq (u64 BE)              | empty: the seqs of the event entries (created by the first event) |
/// | witnesses   | see WitnessRecords.swift  | witnesses' cosigned sizes and refusals (created by the first `checkpoint --witness`) |
final class Store: @unchecked Sendable {
    // @unchecked: the handles are immutable after init; LMDB serialises writers and isolates readers itself.
    /// The storage format new ledgers are created with. Format 2 adds `sourcesStaged`, format 3 groups consecutive
    /// entries into one `entries` value (docs/FORMAT.md, "Storage").
    static let storageFormatVersion: UInt32 = 3
    /// Every storage format this build opens, reads and verifies (each ledger keeps the layout it was created with).
    static let readableFormats: ClosedRange<UInt32> = 1...3
    /// The first format whose `entries` rows are entry groups (EntryStore.swift).
    static let groupedEntriesFormat: UInt32 = 3
    static let stagedSourcesName = "sourcesStaged"
    static let initialMapSize = 1 << 30
    static let entriesName = "entries", sourcesName = "sources", treeName = "tree"

    let environment: Environment
    let meta: Database
    let entries: Database
    let tree: Database
    let checkpoints: Database
    let keys: Database
    let matterKeys: Database
    let matters: Database
    let sources: Database

    /// How `entries` holds the stored entries: set once, by `Ledger`'s init from `meta/format`, before any use
    /// (EntryStore.swift is the only reader and writer of `entries`).
    var entryLayout = EntryLayout.onePerRow

    /// Databases later formats added, opened on first use (`LazyDatabase`).
    let accessDB = LazyDatabase(name: "access")
    let eventsDB = LazyDatabase(name: "events")
    let witnessesDB = LazyDatabase(name: "witnesses")
    let stagedSourcesDB = LazyDatabase(name: Store.stagedSourcesName)

    /// `ledger.lock`, held while the store is open: shared, or exclusive for a rotation and the compaction after it
    /// (nil only for a read-only open on read-only media).
    private(set) var processLock: LedgerLock?

    init(directory: String, create: Bool, readOnly: Bool = false, exclusive: Bool = false) throws {
        if exclusive {
            guard let lock = try LedgerLock.exclusive(directory: directory) else { throw Compaction.busy }
            processLock = lock
        } else {
            processLock = LedgerLock.shared(directory: directory)
            if processLock == nil && !readOnly {
                throw LedgerError.io(path: (directory as NSString).appendingPathComponent(LedgerLock.fileName),
                                     detail: "cannot take the shared lock every process holds on the ledger")
            }
        }
        do {
            environment = try Environment(path: directory, maxDatabases: 16, mapSize: Self.initialMapSize,
                                          flags: readOnly ? [.readOnly, .noReadAhead] : [.noReadAhead])
            let flags: DatabaseFlags = create ? [.create] : []
            meta = try environment.openDatabase("meta", flags: flags)
            entries = try environment.openDatabase(Self.entriesName, flags: flags)
            tree = try environment.openDatabase(Self.treeName, flags: flags)
            checkpoints = try environment.openDatabase("checkpoints", flags: flags)
            keys = try environment.openDatabase("keys", flags: flags)
            matterKeys = try environment.openDatabase("matterKeys", flags: flags)
            matters = try environment.openDatabase("matters", flags: flags.union([.dupSort, .dupFixed]))
            sources = try environment.openDatabase(Self.sourcesName, flags: flags)
            if create { _ = try stagedSourcesDB.open(environment, create: true) }  // new ledgers are format 2
        } catch let error as LMDBError {
            throw LedgerError.notALedger(path: directory, reason: error.description)
        }
    }

    /// Bytes of a file on disk (0 when it cannot be read): the data file's size, before and after a copy.
    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    func close() {
        environment.close()
        processLock?.release()
    }

    /// Closes the environment but hands over the process lock (an exclusive one stays held for the compaction).
    func closeKeepingLock() -> LedgerLock? {
        environment.close()
        defer { processLock = nil }
        return processLock
    }

    /// The `access` database, which ledgers get with their first grant: nil while it does not exist (unless
    /// `create`). Must not be called inside a transaction.
    func access(create: Bool = false) throws -> Database? { try accessDB.open(environment, create: create) }

    /// The `events` index (u64 seq of every event entry → empty), which ledgers get with their first event.
    func events(create: Bool = false) throws -> Database? { try eventsDB.open(environment, create: create) }

    /// The `witnesses` database (WitnessRecords.swift), which ledgers get with their first `checkpoint --witness`.
    func witnesses(create: Bool = false) throws -> Database? { try witnessesDB.open(environment, create: create) }
    /// The staged source rows (format 2: seq → source tag, written in append order by imports and moved into
    /// `sources` in tag order at the end of each import), which format 2 ledgers get with their first import.
    func stagedSources(create: Bool = false) throws -> Database? {
        try stagedSourcesDB.open(environment, create: create)
    }

    /// The `access` database if opened before (usable inside a transaction, where opening is not).
    var openedAccess: Database? { accessDB.opened }
    var openedEvents: Database? { eventsDB.opened }
    var openedStagedSources: Database? { stagedSourcesDB.opened }
}

/// A named database that older ledgers do not have: opened (or created) outside any transaction on first use, and
/// remembered; nil while it does not exist.
final class LazyDatabase: @unchecked Sendable {
    // @unchecked: `handle` is read and written only under `lock`.
    let name: String
    private let lock = NSLock()
    private var handle: Database?

    init(name: String) { self.name = name }

    var opened: Database? { lock.withLock { handle } }

    func open(_ environment: Environment, create: Bool) throws -> Database? {
        try lock.withLock {
            if let handle { return handle }
            do {
                handle = try environment.openDatabase(name, flags: create ? [.create] : [])
            } catch let error as LMDBError where error.code == LMDBError.Code.notFound {
                return nil
            }
            return handle
        }
    }
}

/// Keys of the `access` database (docs/FORMAT.md, "Access database"):
///
///     "c" || credential name           → the credential's current grant (its grant event body, canonical JSON)
///     "r" || public key (32)           → sealed box to the credential of its role secret (appender: index key;
///                                        signer: signing key seed)
///     "w" || public key (32) || u32 id → sealed box to a reader of key `id` of a granted matter (MatterSecret)
///     "h" || matter tag (32) || u64 seq → a legal hold in force: its hold event body
///     "d" || matter tag (32)           → a destroyed matter: u64 seq of its destroy entry || the event body
enum AccessKey {
    static func grant(_ name: String) -> [UInt8] { [UInt8(ascii: "c")] + Array(name.utf8) }
    static func roleSecret(_ publicKey: [UInt8]) -> [UInt8] { [UInt8(ascii: "r")] + publicKey }
    static func wrap(_ publicKey: [UInt8], keyID: UInt32) -> [UInt8] {
        [UInt8(ascii: "w")] + publicKey + keyID.bigEndianBytes
    }
    static func wraps(_ publicKey: [UInt8]) -> [UInt8] { [UInt8(ascii: "w")] + publicKey }
    static func hold(_ tag: Hash, seq: UInt64) -> [UInt8] { [UInt8(ascii: "h")] + tag.bytes + seq.bigEndianBytes }
    static func holds(_ tag: Hash) -> [UInt8] { [UInt8(ascii: "h")] + tag.bytes }
    static func destroyed(_ tag: Hash) -> [UInt8] { [UInt8(ascii: "d")] + tag.bytes }
}

/// Names in the `meta` database.
enum MetaKey: String {
    case format           // u32 BE storage format version
    case ledgerID         // 16 random bytes
    case origin           // UTF-8 checkpoint origin line
    case createdAt        // i64 BE microseconds
    case keyMode          // "file" or "passphrase"
    case kdf              // PassphraseParameters (passphrase mode only)
    case signingKey       // sealed Ed25519 seed
    case verifierKey      // signed-note verifier key text
    case nextKeyID        // u32 BE, the next matter key id
    case boxKey           // the master's X25519 public key (32), written by the first access-controlled write
    case keyEpoch         // u32 BE, rotations of the master key so far (absent: 0)
    case indexKey         // the index key sealed under the current master key (absent: derived from it)
    case scrubPending     // present between a key destruction's commit and the compaction that scrubs free pages

    var key: [UInt8] { Array(rawValue.utf8) }
}

extension ReadTransaction {
    func meta(_ store: Store, _ key: MetaKey) throws -> [UInt8]? {
        try get(store.meta, key: key.key).map { Array($0) }
    }

    func metaString(_ store: Store, _ key: MetaKey) throws -> String? {
        try meta(store, key).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Reads stored tree hashes for MerkleLog inside one transaction.
struct TreeHashReader: HashReader {
    let transaction: ReadTransaction
    let store: Store

    func readHashes(_ indexes: [Int64]) throws -> [Hash] {
        try indexes.map { index in
            guard let raw = try transaction.get(store.tree, key: UInt64(index).bigEndianBytes), raw.count == 32 else {
                throw LedgerError.corrupt("stored tree hash \(index) is missing or not 32 bytes")
            }
            return Hash(unsafeBytes: raw)
        }
    }
}
