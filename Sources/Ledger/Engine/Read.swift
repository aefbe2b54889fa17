import LMDB
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium

/// One decrypted entry: its leaf, its record hash and its fields.
public struct LedgerEntry: Sendable {
    public let seq: UInt64
    public let leaf: Leaf
    /// RFC 6962 record (leaf) hash: SHA-256(0x00 || leaf bytes).
    public let leafHash: Hash
    public let disclosures: [Disclosure]
    /// The record as given, keys in leaf order (empty when the matter was destroyed).
    public let record: JSONObject
    /// Set when the entry's matter was destroyed: its contents can never be read again; the leaf stays.
    public var destruction: DestroyedMatterRecord? = nil

    public var recordedAt: Int64 { leaf.recordedAt }

    public func string(_ field: String) -> String? {
        if case .string(let s)? = record[field] { return s }
        return nil
    }

    public var occurredAt: Int64? { string("occurredAt").flatMap(Timestamp.parseRFC3339) }
}

/// One stored entry copied out of its read transaction, with its matter key: opened later, on any core.
struct SealedEntry: Sendable {
    let seq: UInt64
    let leaf: Leaf
    let rawLeaf: [UInt8]
    let ciphertext: [UInt8]
    let key: SecretBytes
}

/// Which entries `entries(matching:)` visits.
public struct EntryFilter: Sendable {
    public var matter: String?
    /// Inclusive bounds on occurredAt, in microseconds since the epoch.
    public var from: Int64?
    public var to: Int64?

    public init(matter: String? = nil, from: Int64? = nil, to: Int64? = nil) {
        self.matter = matter
        self.from = from
        self.to = to
    }

    func admits(_ entry: LedgerEntry) -> Bool { admits(occurredAt: entry.occurredAt) }

    /// Whether a record with this `occurredAt` value (RFC 3339 text, or absent) falls in the time range.
    package func admits(occurredAt value: JSONValue?) -> Bool {
        guard from != nil || to != nil else { return true }
        return admits(occurredAt: value?.stringValue.flatMap(Timestamp.parseRFC3339))
    }

    private func admits(occurredAt t: Int64?) -> Bool {
        guard from != nil || to != nil else { return true }
        guard let t else { return false }
        return (from.map { t >= $0 } ?? true) && (to.map { t <= $0 } ?? true)
    }
}

extension Ledger {
    /// Decrypts one entry. Throws `unknownSequence` past the end. A reader credential gets `notPermitted`, with the
    /// same message, for an entry of another matter, an event entry, or a seq past the end: it learns nothing of them.
    public func entry(_ seq: UInt64) throws -> LedgerEntry {
        let principal = try requireReader()
        return try LedgerError.wrap("read entry") {
            _ = try store.access()  // opened outside the transaction: destroyed matters are listed there
            return try store.environment.read { txn in
                guard let tag = try recordTag(seq, txn: txn), principal.mayRead(tag: tag) else {
                    if !principal.isMaster { throw LedgerError.notPermitted(Self.notReadable) }
                    let size = try txn.entryCount(store)
                    if seq < size { throw LedgerError.notARecord(seq) }
                    throw LedgerError.unknownSequence(seq, size: size)
                }
                let destroyed = try destroyedMatters(access: store.openedAccess, txn: txn)
                guard let entry = try decryptEntry(seq, principal: principal, destroyed: destroyed, txn: txn) else {
                    throw LedgerError.notARecord(seq)
                }
                return entry
            }
        }
    }

    /// Visits decrypted entries in seq order, optionally only one matter's (via the matter index) and an occurredAt
    /// range. Throws `unknownMatter` when a matter is named that has no entries. A reader visits only its matters.
    public func entries(matching filter: EntryFilter, _ visit: (LedgerEntry) throws -> Void) throws {
        let principal = try requireReader()
        try LedgerError.wrap("list entries") {
            _ = try store.access()  // opened outside the transaction: destroyed matters are listed there
            try store.environment.read { txn in
                let destroyed = try destroyedMatters(access: store.openedAccess, txn: txn)
                for seq in try seqs(matter: filter.matter, principal: principal, txn: txn) {
                    guard let entry = try decryptEntry(seq, principal: principal, destroyed: destroyed, txn: txn) else {
                        continue
                    }
                    // A destroyed entry's occurredAt is gone with its contents: a date filter cannot place it.
                    if entry.destruction != nil ? (filter.from == nil && filter.to == nil) : filter.admits(entry) {
                        try visit(entry)
                    }
                }
            }
        }
    }

    /// The master key or a reader credential.
    func requireReader() throws -> Principal {
        try requirePrincipal([.reader], for: "decrypt entries")
    }

    /// The matter tag of a record entry; nil past the end or for an event entry.
    func recordTag(_ seq: UInt64, txn: ReadTransaction) throws -> Hash? {
        guard let (leaf, _) = try txn.storedEntry(store, seq) else { return nil }
        if EventLeaf.isEvent(leaf) { return nil }
        guard let view = LeafView(leaf) else { throw LedgerError.corrupt("entry \(seq): the leaf does not decode") }
        return view.matterTag
    }

    /// The seqs of one matter (from the matters index), or of every record the principal may read: all of them for
    /// the master key (event entries left out), the granted matters' for a reader.
    func seqs(matter: String?, principal: Principal, txn: ReadTransaction) throws -> AnySequence<UInt64> {
        if let matter {
            guard let tag = principal.matterTag(matter), principal.mayRead(tag: tag) else {
                throw LedgerError.notPermitted(Self.notReadable)
            }
            let seqs = try seqs(tag: tag, txn: txn)
            guard !seqs.isEmpty else { throw LedgerError.unknownMatter }
            return AnySequence(seqs)
        }
        if let granted = principal.matters {
            return AnySequence(try granted.flatMap { try seqs(tag: $0, txn: txn) }.sorted())
        }
        return AnySequence(0..<(try txn.entryCount(store)))  // event entries are passed over when read
    }

    /// The seqs the matters index lists under a tag, ascending.
    func seqs(tag: Hash, txn: ReadTransaction) throws -> [UInt64] {
        let cursor = try txn.cursor(store.matters)
        defer { cursor.close() }
        var seqs = [UInt64]()
        var pair = try cursor.seek(exactly: tag.bytes)
        while let current = pair {
            guard let seq = UInt64(bigEndianBytes: current.value) else {
                throw LedgerError.corrupt("a matters index value is not 8 bytes")
            }
            seqs.append(seq)
            pair = try cursor.nextDuplicate()
        }
        return seqs
    }

    /// Opens an entry's ciphertext with its matter key and associated data (ledger id, seq, key id) and splits the
    /// payload into its values. Either failure is corruption, named with the seq.
    func openPayload(seq: UInt64, leaf: Leaf,
                     ciphertext: UnsafeRawBufferPointer, key: SecretBytes) throws -> EntryPayload {
        let ad = EntryAssociatedData.bytes(version: leaf.version, ledgerID: ledgerID, seq: seq, keyID: leaf.keyID)
        let plaintext: SecretBytes
        do {
            plaintext = try ad.withUnsafeBytes { ad in
                try leaf.nonce.withUnsafeBytes {
                    try XChaCha20Poly1305.open(ciphertext, associatedData: ad, nonce: $0, key: key)
                }
            }
        } catch {
            throw LedgerError.corrupt("entry \(seq): the ciphertext does not open (altered, moved or wrong key)")
        }
        do {
            return try plaintext.withUnsafeBytes { try EntryPayload.decode($0, fieldCount: leaf.fieldNames.count) }
        } catch {
            throw LedgerError.corrupt("entry \(seq): the decrypted payload does not decode")
        }
    }

    /// The stored entry `seq`, which an index named, copied out of the transaction with its matter key. A missing or
    /// undecodable entry is corruption.
    func sealedEntry(_ seq: UInt64, principal: Principal, txn: ReadTransaction) throws -> SealedEntry? {
        guard let (rawLeaf, ciphertext) = try txn.storedEntry(store, seq) else {
            throw LedgerError.corrupt("the matter index names entry \(seq), which does not exist")
        }
        if EventLeaf.isEvent(rawLeaf) { return nil }
        let leaf: Leaf
        do { leaf = try Leaf.decode(rawLeaf) } catch { throw LedgerError.corrupt("entry \(seq): \(error)") }
        return SealedEntry(seq: seq, leaf: leaf, rawLeaf: Array(rawLeaf), ciphertext: Array(ciphertext),
                           key: try entryKey(id: leaf.keyID, principal: principal, txn: txn))
    }

    /// Decrypts an entry and checks every disclosure against its leaf digest (so `show` never displays altered text).
    /// nil for an event entry; a missing entry is corruption (an index named it).
    func decryptEntry(_ seq: UInt64, principal: Principal, destroyed: [Hash: DestroyedMatterRecord] = [:],
                      txn: ReadTransaction) throws -> LedgerEntry? {
        guard let (rawLeaf, ciphertext) = try txn.storedEntry(store, seq) else {
            throw LedgerError.corrupt("entry \(seq) is missing")
        }
        if EventLeaf.isEvent(rawLeaf) { return nil }
        let leaf: Leaf
        do { leaf = try Leaf.decode(rawLeaf) } catch { throw LedgerError.corrupt("entry \(seq): \(error)") }
        guard principal.mayRead(tag: leaf.matterTag) else { throw LedgerError.notPermitted(Self.notReadable) }
        if let destruction = destroyed[leaf.matterTag] {
            var entry = LedgerEntry(seq: seq, leaf: leaf, leafHash: recordHash(rawLeaf), disclosures: [],
                                    record: JSONObject([]))
            entry.destruction = destruction
            return entry
        }
        let matterKey = try entryKey(id: leaf.keyID, principal: principal, txn: txn)
        let disclosures = try openPayload(seq: seq, leaf: leaf, ciphertext: ciphertext, key: matterKey)
            .disclosures(names: leaf.fieldNames)
        guard Leaf.fieldsDigest(names: leaf.fieldNames, digests: disclosures.map(\.digest)) == leaf.fieldsDigest else {
            throw LedgerError.corrupt("entry \(seq): the decrypted fields do not match the leaf's fields digest")
        }
        var members = [(String, JSONValue)]()
        for disclosure in disclosures {
            do {
                members.append((disclosure.name, try JSONParser.parse(disclosure.value)))
            } catch {
                throw LedgerError.corrupt("entry \(seq): field '\(disclosure.name)' is not valid JSON")
            }
        }
        return LedgerEntry(seq: seq, leaf: leaf, leafHash: recordHash(rawLeaf), disclosures: disclosures,
                           record: JSONObject(members))
    }
}
