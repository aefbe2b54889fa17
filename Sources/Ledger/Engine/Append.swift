import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import Sodium

/// What happened to one record given to `append`.
public enum AppendOutcome: Sendable, Equatable {
    case appended(seq: UInt64)
    /// A record with the same (sourceSystem, sourceId) is already in the ledger (or earlier in the batch).
    case duplicate(of: UInt64)
}

/// The tail of the log that the next append links to: kept between batches, re-read when another process appended.
struct AppendState {
    var size: UInt64
    var previousHash: Hash
    var lastRecordedAt: Int64
    var tree: TreeBuilder
}

/// One record's place in a batch: its input position, its seq and its source tag (nil without a sourceId).
struct PlannedRecord {
    let index: Int
    let seq: UInt64
    let sourceTag: Hash?
}

/// One record after encryption, before it is linked into the chain: its stored value (docs/FORMAT.md,
/// "Stored entry v1") complete but for the leaf's recordedAt and previous hash, which only the sequential
/// link step knows. Building it here keeps leaf encoding and copying off that sequential step.
struct SealedRecord {
    let seq: UInt64
    /// nil for an event entry, which has no row in the matters index.
    let matterTag: Hash?
    let sourceTag: Hash?
    /// `u16 leaf length || leaf || ciphertext`, with recordedAt and previousHash zero.
    let storedValue: [UInt8]
    let leafLength: Int
}

extension Ledger {
    /// Appends one record durably and returns its outcome.
    public func append(_ record: ValidatedRecord) throws -> AppendOutcome {
        try append([record])[0]
    }

    /// Appends a batch in one durable write transaction: entries, chain links, tree hashes and indexes
    /// all commit together or not at all. Records whose source key is already present are skipped.
    public func append(_ records: [ValidatedRecord]) throws -> [AppendOutcome] {
        let principal = try requireWriter()
        guard !records.isEmpty else { return [] }
        let recordedAt = Clock.nowMicros()
        let access = try store.access()
        let (outcomes, state) = try LedgerError.wrap("append") {
            try store.environment.write { txn in
                try appendInTransaction(records, principal: principal, access: access, recordedAt: recordedAt,
                                        txn: txn)
            }
        }
        session.withLock { $0.appendState = state }  // only once committed
        return outcomes
    }

    /// Plans, seals and links `records` inside `txn`: the whole of a single `append`, and the fallback of a
    /// bulk append whose batch was sealed ahead on a prediction that another writer made wrong.
    func appendInTransaction(_ records: [ValidatedRecord], principal: Principal, access: Database?, recordedAt: Int64,
                             txn: WriteTransaction) throws -> ([AppendOutcome], AppendState) {
        var timer = PhaseTimer(logger: Self.logger)
        try moveStagedSources(txn)  // (format 2) so that the duplicate check below sees every source row
        var state = try loadAppendState(txn)
        let (outcomes, plan) = try planAppend(records, tags: try sourceTags(records, principal: principal),
                                              firstSeq: state.size) {
            try storedSource($1, txn)
        }
        var newKeys = NewKeys(nextID: try nextMatterKeyID(txn))
        var pairs = [Hash: MatterKeyPair](), drawn = [Hash: MatterKey]()
        let keys = try batchKeys(for: plan.map { records[$0.index].matter }, principal: principal,
                                 context: try keyContext(principal, txn: txn, access: access),
                                 pairs: &pairs, drawn: &drawn, newKeys: &newKeys)
        if !keys.isEmpty { try storeBoxKeyIfMissing(principal, txn: txn) }
        try store(newKeys, txn: txn, access: access)
        timer.lap("plan")
        let sealed = try sealAll(records, plan: plan, keys: keys)
        timer.lap("seal")
        try link(sealed, into: &state, recordedAt: recordedAt, txn: txn)
        timer.lap("link")
        Self.logger.debug("appended batch", metadata: ["records": "\(records.count)", "phases": "\(timer)"])
        return (outcomes, state)
    }

    /// The seq stored under a source tag, if any.
    func storedSource(_ tag: Hash, _ txn: ReadTransaction) throws -> UInt64? {
        try tag.withUnsafeBytes { try txn.get(store.sources, key: $0) }.flatMap { UInt64(bigEndianBytes: $0) }
    }

    /// The seq each tag has in `sources` (nil: none, or no tag), looked up on every core, each share of the tags in a
    /// read transaction of its own. Tags are random keys, so each lookup walks the index from its root through pages
    /// no other lookup of the batch shares: at a few million rows, one lookup after another on the planning thread
    /// cost a batch more than its seal (the plan of a 7,700-record batch: 2 ms at an empty index, 14 ms at 1,000,000
    /// rows).
    func storedSources(_ tags: [Hash?]) throws -> [UInt64?] {
        let shares = stride(from: 0, to: tags.count, by: 512).map { $0..<min(tags.count, $0 + 512) }
        let parts = try parallelMap(shares, minimumChunk: 1) { range in
            try store.environment.read { txn in
                try range.map { index in try tags[index].flatMap { try storedSource($0, txn) } }
            }
        }
        return parts.flatMap { $0 }
    }

    /// The source tag of every record (nil without a sourceId), computed on every core.
    func sourceTags(_ records: [ValidatedRecord], principal: Principal) throws -> [Hash?] {
        guard let tags = principal.tags else { throw LedgerError.notPermitted("this credential cannot append") }
        return try records.withUnsafeBufferPointer { records in  // by index: the records are not copied
            // Stored properties read in place (a computed one would copy the record, retaining each of its buffers).
            try parallelMap(Array(records.indices), minimumChunk: 256) { index in
                ValidatedRecord.sourceKey(system: records[index].sourceSystem, id: records[index].sourceId)
                    .map { tags.sourceTag($0) }
            }
        }
    }

    /// The master key or an appender credential.
    func requireWriter() throws -> Principal {
        try requirePrincipal([.appender], for: "append records")
    }

    /// Seals every planned record on every core, each with its own fresh salt seed and nonce.
    func sealAll(_ records: [ValidatedRecord], plan: [PlannedRecord],
                 keys: [String: MatterKey]) throws -> [SealedRecord] {
        // One draw of randomness for the batch (salt seeds and nonces), zeroed once sealed.
        var random = SecureRandom.bytes(plan.count * Self.randomBytesPerRecord)
        defer { zeroize(&random) }
        return try records.withUnsafeBufferPointer { records in
            try parallelMap(Array(plan.enumerated()), minimumChunk: 32,
                            context: { EntrySealer(ledgerID: ledgerID) }) { sealer, planned in
                let (slot, item) = planned
                let offset = slot * Self.randomBytesPerRecord
                let key = keys[records[item.index].matter]!
                return try seal(records[item.index], seq: item.seq, key: key,
                                sourceTag: item.sourceTag, random: random[offset..<(offset + Self.randomBytesPerRecord)],
                                sealer: sealer)
            }
        }
    }

    /// Reads (or reuses) the log's tail: size, last record hash, last recordedAt and the tree's right edge.
    func loadAppendState(_ txn: ReadTransaction) throws -> AppendState {
        let size = try txn.entryCount(store)
        guard size > 0 else {
            return AppendState(size: 0, previousHash: .zero, lastRecordedAt: .min, tree: TreeBuilder())
        }
        guard let raw = try txn.storedEntry(store, size - 1)?.leaf else {
            throw LedgerError.corrupt("entry \(size - 1) is missing")
        }
        let lastHash = recordHash(raw)
        if let cached = session.withLock({ $0.appendState }), cached.size == size, cached.previousHash == lastHash {
            return cached
        }
        let lastRecordedAt: Int64
        do {
            lastRecordedAt = EventLeaf.isEvent(raw) ? try EventLeaf.decode(raw).recordedAt : try Leaf.decode(raw).recordedAt
        } catch { throw LedgerError.corrupt("entry \(size - 1): \(error)") }
        let tree = try TreeBuilder(size: Int64(size), reader: TreeHashReader(transaction: txn, store: store))
        return AppendState(size: size, previousHash: lastHash, lastRecordedAt: lastRecordedAt, tree: tree)
    }

    /// Assigns seqs from `firstSeq`, skips duplicates (already stored per `stored`, or repeated within the batch)
    /// and checks `corrects`.
    func planAppend(_ records: [ValidatedRecord], tags: [Hash?], firstSeq: UInt64,
                    stored: (Int, Hash) throws -> UInt64?) throws -> ([AppendOutcome], [PlannedRecord]) {
        var outcomes = [AppendOutcome]()
        outcomes.reserveCapacity(records.count)
        var plan = [PlannedRecord]()
        plan.reserveCapacity(records.count)
        var batchSources = TagTable(minimumCapacity: records.count)
        var errors = [RecordError]()
        var next = firstSeq
        for index in records.indices {  // by index: a `for record in` loop copies each record
            let sourceTag = tags[index]
            if let tag = sourceTag {
                if let seq = try stored(index, tag) {
                    outcomes.append(.duplicate(of: seq))
                    continue
                }
                if let seq = batchSources[tag] {
                    outcomes.append(.duplicate(of: seq))
                    continue
                }
                batchSources[tag] = next
            }
            if let target = records[index].corrects, target >= next {
                errors.append(RecordError(line: records[index].line, field: "corrects",
                                          reason: "refers to entry \(target), which does not exist before this record"))
            }
            outcomes.append(.appended(seq: next))
            plan.append(PlannedRecord(index: index, seq: next, sourceTag: sourceTag))
            next += 1
        }
        if !errors.isEmpty { throw LedgerError.invalidRecords(errors) }
        return (outcomes, plan)
    }

    static let randomBytesPerRecord = EntryPayload.seedByteCount + XChaCha20Poly1305.nonceByteCount

    /// Encrypts one record with its fresh salt seed and nonce (`random`):
    /// disclosures, field digests, AEAD under the matter key.
    func seal(_ record: borrowing ValidatedRecord, seq: UInt64, key: MatterKey, sourceTag: Hash?,
                      random: ArraySlice<UInt8>, sealer: EntrySealer) throws -> SealedRecord {
        let (value, leafLength) = random.withUnsafeBytes { random in
            let seedEnd = EntryPayload.seedByteCount
            return sealer.seal(
                record, seq: seq, matterTag: key.tag, sourceTag: sourceTag, keyID: key.id, key: key.key,
                seed: UnsafeRawBufferPointer(rebasing: random[..<seedEnd]),
                nonce: UnsafeRawBufferPointer(rebasing: random[seedEnd...]))
        }
        return SealedRecord(seq: seq, matterTag: key.tag, sourceTag: sourceTag, storedValue: value, leafLength: leafLength)
    }

    /// Links `sealed` into the chain and tree and writes its index rows; source rows go to `staged` when given
    /// (a format 2 import), else straight into `sources`.
    func link(_ sealed: [SealedRecord], into state: inout AppendState, recordedAt now: Int64,
              txn: WriteTransaction, staged: Database? = nil) throws {
        let recordedAt = max(now, state.lastRecordedAt)  // the ledger's clock never runs backwards
        let entries = try EntryAppender(store, txn)
        for record in sealed {
            precondition(record.seq == state.size, "append plan out of order")
            // Copy the sealed value straight into its stored place, fill in the chain fields there, hash the leaf.
            let value = try entries.reserve(seq: record.seq, count: record.storedValue.count)
            record.storedValue.withUnsafeBytes { value.copyMemory(from: $0) }
            let leaf = UnsafeMutableRawBufferPointer(
                rebasing: value[StoredEntry.leafOffset..<(StoredEntry.leafOffset + record.leafLength)])
            Leaf.setChainFields(leaf, recordedAt: recordedAt, previousHash: state.previousHash)
            let hash = recordHash(UnsafeRawBufferPointer(leaf))
            // Index keys and values on the stack: this loop runs once per imported record, on the writer thread.
            try withUnsafeBytes(of: record.seq.bigEndian) { seqKey in
                try putIndexRows(of: record, seqKey: seqKey, txn: txn, staged: staged)
            }
            try state.tree.append(hash) { index, nodeHash in
                try nodeHash.withUnsafeBytes { value in
                    try withUnsafeBytes(of: UInt64(index).bigEndian) {
                        try txn.put(store.tree, key: $0, value: value, flags: [.append])
                    }
                }
            }
            state.previousHash = hash
            state.lastRecordedAt = recordedAt
            state.size += 1
        }
        try entries.finish()
    }

    /// The record's rows in `matters` (or `events`) and in `sources` (or, during an import, `sourcesStaged`).
    private func putIndexRows(of record: SealedRecord, seqKey: UnsafeRawBufferPointer, txn: WriteTransaction,
                              staged: Database?) throws {
        if let matterTag = record.matterTag {
            try matterTag.withUnsafeBytes { try txn.put(store.matters, key: $0, value: seqKey, flags: [.appendDup]) }
        } else {
            guard let events = store.openedEvents else { throw LedgerError.corrupt("the events index is missing") }
            try [UInt8]().withUnsafeBytes { try txn.put(events, key: seqKey, value: $0, flags: [.append]) }
        }
        guard let sourceTag = record.sourceTag else { return }
        try sourceTag.withUnsafeBytes { tag in
            if let staged {
                try txn.put(staged, key: seqKey, value: tag, flags: [.append])
            } else {
                try txn.put(store.sources, key: tag, value: seqKey, flags: [.noOverwrite])
            }
        }
    }
}
