import LMDB
import LedgerFormat
import MerkleLog

/// The `keys` database and the matter-key index resolved without keys (docs/VERIFY.md, "Keys"): which matter every
/// key serves. A matter's keys form one chain from the index row back through each key pair's previous key id to the
/// v1 matter key it replaced, if any; batch keys hang off a key pair. Every stored key must sit on exactly one chain.
struct KeyDirectory: Sendable {
    enum Kind: UInt8, Sendable {
        case matterKey = 1, keyPair = 2, batchKey = 3
    }

    /// Every stored key's kind and matter, by id.
    private var table = KeyTable()
    /// The matter-key index: tag → current key.
    private(set) var index: [Hash: UInt32] = [:]
    /// Structural problems found while resolving, as violation details.
    private(set) var problems: [String] = []
    /// Matters whose destroy entry the events index lists: their entries name keys that no longer exist.
    let destroyed: Set<Hash>

    /// `release(pointer)` is called every few hundred rows with a pointer into the map, to release the mapped
    /// pages read so far (the keys are copied out): at 10,000,000 entries there are ~122,000 batch keys, on pages
    /// spread through the whole file, and each 4 KiB page touched can map a large folio.
    init(_ txn: ReadTransaction, keys: Database, matterKeys: Database, destroyed: Set<Hash> = [],
         release: ((UnsafeRawPointer) -> Void)? = nil) throws {
        self.destroyed = destroyed
        var pairs = [UInt32: KeyRecord.KeyPairRecord]()
        try Self.forEachRow(txn, keys, release: release) { key, value in
            guard let id = UInt32(bigEndianBytes: key) else { return problems.append("a keys database key is not 4 bytes") }
            switch try? KeyRecord.decode(value, id: id) {
            case .matterKey?: table.append(id, .matterKey)
            case .keyPair(let pair)?: table.append(id, .keyPair); pairs[id] = pair
            case .batchKey(let pairID, _)?: table.append(id, .batchKey, link: pairID)
            case nil: problems.append("key \(id) has an unknown or damaged format")
            }
        }
        if !table.sortByID() { problems.append("the keys database holds one key id twice") }
        try Self.forEachRow(txn, matterKeys) { key, value in
            guard key.count == Hash.byteCount, let id = UInt32(bigEndianBytes: value) else {
                return problems.append("a matter-key index row is malformed")
            }
            index[Hash(unsafeBytes: key)] = id
        }
        for (tag, id) in index { walkChain(from: id, tag: tag, pairs: pairs) }
        for tag in index.keys where destroyed.contains(tag) {
            problems.append("the matter-key index still names a key of a destroyed matter")
        }
        for slot in table.slots where table.kind(slot) != .batchKey && table.matter(slot) == nil {
            problems.append("key \(table.id(slot)) belongs to no matter's key chain")
        }
        resolveBatchKeys()
    }

    /// Each batch key serves the matter of the key pair it is sealed to.
    private mutating func resolveBatchKeys() {
        for slot in table.slots where table.kind(slot) == .batchKey {
            let pairID = table.link(slot)
            if let pair = table.slot(of: pairID), table.kind(pair) == .keyPair, let matter = table.matterNumber(pair) {
                table.setMatter(slot, number: matter)
            } else {
                problems.append("batch key \(table.id(slot)) is sealed to key \(pairID), which is not a matter key pair")
                table.setMatter(slot, number: nil)
            }
        }
        table.dropLinks()
    }

    /// Assigns `tag` to every key from the index row back to the start of the matter's chain.
    private mutating func walkChain(from id: UInt32, tag: Hash, pairs: [UInt32: KeyRecord.KeyPairRecord]) {
        var current = id
        while current != 0 {
            guard let slot = table.slot(of: current), table.kind(slot) != .batchKey else {
                return problems.append("the key chain of a matter names key \(current), which is not a matter key")
            }
            guard table.matter(slot) == nil else { return problems.append("key \(current) is on two matters' key chains") }
            table.setMatter(slot, tag: tag)
            guard table.kind(slot) == .keyPair, let pair = pairs[current] else { return }  // a v1 key starts the chain
            if pair.tag != tag { problems.append("key pair \(current) names another matter than its chain's") }
            current = pair.previousID
        }
    }

    /// Whether an entry of leaf `version` may name `keyID` for matter `tag`: a v1 leaf a v1 matter key, a v2 leaf a
    /// batch key, of that matter.
    func admits(version: UInt8, keyID: UInt32, tag: Hash) -> Bool {
        guard let slot = table.slot(of: keyID) else { return destroyed.contains(tag) }  // its keys are gone, every one
        if destroyed.contains(tag) { return false }
        let kind: Kind = version == 1 ? .matterKey : .batchKey
        return table.kind(slot) == kind && table.matter(slot) == tag
    }

    /// The matter-key index's current key of each tag is a key pair (a matter granted before its first entry).
    func currentIsKeyPair(_ tag: Hash) -> Bool {
        index[tag].flatMap { table.slot(of: $0) }.map { table.kind($0) == .keyPair } ?? false
    }

    private static func forEachRow(_ txn: ReadTransaction, _ db: Database,
                                   release: ((UnsafeRawPointer) -> Void)? = nil,
                                   _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        let cursor = try txn.cursor(db)
        defer { cursor.close() }
        var pair = try cursor.first()
        var read = 0
        while let row = pair {
            try body(row.key, row.value)
            read += 1
            if read % 512 == 0, let release, let pointer = row.value.baseAddress { release(pointer) }
            pair = try cursor.next()
        }
    }
}
