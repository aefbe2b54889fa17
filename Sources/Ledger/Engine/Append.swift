import LMDB
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
private struct PlannedRecord {
    let index: Int
    let seq: UInt64
    let sourceTag: Hash?
}

/// One record after encryption, before it is linked into the chain.
private struct SealedRecord {
    let seq: UInt64
    let keyID: UInt32
    let matterTag: Hash
    let sourceTag: Hash?
    let nonce: [UInt8]
    let ciphertext: [UInt8]
    let ciphertextHash: Hash
    let fieldNames: [String]
    let fieldsDigest: Hash
}

extension Ledger {
    /// Appends one record durably and returns its outcome.
    public func append(_ record: ValidatedRecord) throws -> AppendOutcome {
        try append([record])[0]
    }

    /// Appends a batch in one durable write transaction: entries, chain links, tree hashes and indexes
    /// all commit together or not at all. Records whose source key is already present are skipped.
    public func append(_ records: [ValidatedRecord]) throws -> [AppendOutcome] {
        let ring = try requireKeys()
        guard !records.isEmpty else { return [] }
        let recordedAt = Clock.nowMicros()
        var timer = PhaseTimer(logger: Self.logger)
        let (outcomes, state) = try LedgerError.wrap("append") {
            try store.environment.write { txn -> ([AppendOutcome], AppendState) in
                timer = PhaseTimer(logger: Self.logger)
                var state = try loadAppendState(txn)
                let (outcomes, plan) = try planAppend(records, state: state, ring: ring, txn: txn)
                let keys = try matterKeys(for: plan.map { records[$0.index].matter }, ring: ring, txn: txn)
                timer.lap("plan")
                // One draw of randomness for the batch (salt seeds and nonces), zeroed once sealed.
                var random = SecureRandom.bytes(plan.count * Self.randomBytesPerRecord)
                defer { zeroize(&random) }
                let sealed = try parallelMap(Array(plan.enumerated()), minimumChunk: 32) { slot, item in
                    let offset = slot * Self.randomBytesPerRecord
                    return try seal(records[item.index], seq: item.seq, key: keys[records[item.index].matter]!,
                                    sourceTag: item.sourceTag, random: random[offset..<(offset + Self.randomBytesPerRecord)])
                }
                timer.lap("seal")
                try link(sealed, into: &state, recordedAt: recordedAt, txn: txn)
                timer.lap("link")
                return (outcomes, state)
            }
        }
        timer.lap("commit")
        Self.logger.debug("appended batch", metadata: ["records": "\(records.count)", "phases": "\(timer)"])
        lock.withLock { appendState = state }  // only once committed
        return outcomes
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
        if let cached = lock.withLock({ appendState }), cached.size == size, cached.previousHash == lastHash {
            return cached
        }
        let leaf: Leaf
        do { leaf = try Leaf.decode(raw) } catch { throw LedgerError.corrupt("entry \(size - 1): \(error)") }
        let tree = try TreeBuilder(size: Int64(size), reader: TreeHashReader(transaction: txn, store: store))
        return AppendState(size: size, previousHash: lastHash, lastRecordedAt: leaf.recordedAt, tree: tree)
    }

    /// Assigns seqs, skips duplicates (already stored, or repeated within the batch) and checks `corrects`.
    private func planAppend(_ records: [ValidatedRecord], state: AppendState, ring: KeyRing,
                            txn: WriteTransaction) throws -> ([AppendOutcome], [PlannedRecord]) {
        var outcomes = [AppendOutcome]()
        var plan = [PlannedRecord]()
        var batchSources = [Hash: UInt64]()
        var errors = [RecordError]()
        var next = state.size
        for (index, record) in records.enumerated() {
            let sourceTag = record.sourceKey.map { ring.sourceTag($0) }
            if let tag = sourceTag {
                if let stored = try txn.get(store.sources, key: tag.bytes), let seq = UInt64(bigEndianBytes: stored) {
                    outcomes.append(.duplicate(of: seq))
                    continue
                }
                if let seq = batchSources[tag] {
                    outcomes.append(.duplicate(of: seq))
                    continue
                }
                batchSources[tag] = next
            }
            if let target = record.corrects, target >= next {
                errors.append(RecordError(line: record.line, field: "corrects",
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

    /// Encrypts one record with its fresh salt seed and nonce (`random`): disclosures, field digests, AEAD under the matter key.
    private func seal(_ record: ValidatedRecord, seq: UInt64, key: MatterKey, sourceTag: Hash?,
                      random: ArraySlice<UInt8>) throws -> SealedRecord {
        let names = record.names
        let seedEnd = random.startIndex + EntryPayload.seedByteCount
        var seed = Array(random[random.startIndex..<seedEnd])
        defer { zeroize(&seed) }
        var (plaintext, digests) = EntryPayload.seal(record, seed: seed)
        defer { zeroize(&plaintext) }
        let nonce = Array(random[seedEnd...])
        let ad = EntryAssociatedData.bytes(ledgerID: ledgerID, seq: seq, keyID: key.id)
        let ciphertext = XChaCha20Poly1305.seal(plaintext, associatedData: ad, nonce: nonce, key: key.key)
        return SealedRecord(seq: seq, keyID: key.id, matterTag: key.tag, sourceTag: sourceTag, nonce: nonce,
                            ciphertext: ciphertext, ciphertextHash: Hash.sha256(ciphertext), fieldNames: names,
                            fieldsDigest: Leaf.fieldsDigest(names: names, digests: digests))
    }

    /// Chains sealed records onto the log in order and stores leaves, ciphertexts, tree hashes and indexes.
    private func link(_ sealed: [SealedRecord], into state: inout AppendState, recordedAt now: Int64,
                      txn: WriteTransaction) throws {
        let recordedAt = max(now, state.lastRecordedAt)  // the ledger's clock never runs backwards
        for record in sealed {
            precondition(record.seq == state.size, "append plan out of order")
            let leaf = Leaf(ledgerID: ledgerID, seq: record.seq, recordedAt: recordedAt, previousHash: state.previousHash,
                            matterTag: record.matterTag, sourceTag: record.sourceTag, keyID: record.keyID,
                            nonce: record.nonce, ciphertextHash: record.ciphertextHash,
                            fieldsDigest: record.fieldsDigest, fieldNames: record.fieldNames)
            let leafBytes = leaf.encoded()
            let seqKey = record.seq.bigEndianBytes
            try txn.put(store.entries, key: seqKey, value: StoredEntry.encode(leaf: leafBytes, ciphertext: record.ciphertext),
                        flags: [.append])
            try record.matterTag.withUnsafeBytes { tag in
                try seqKey.withUnsafeBytes { try txn.put(store.matters, key: tag, value: $0, flags: [.appendDup]) }
            }
            if let sourceTag = record.sourceTag {
                try txn.put(store.sources, key: sourceTag.bytes, value: seqKey, flags: [.noOverwrite])
            }
            let hash = recordHash(leafBytes)
            try state.tree.append(hash) { index, nodeHash in
                try nodeHash.withUnsafeBytes { value in
                    try UInt64(index).bigEndianBytes.withUnsafeBytes {
                        try txn.put(store.tree, key: $0, value: value, flags: [.append])
                    }
                }
            }
            state.previousHash = hash
            state.lastRecordedAt = recordedAt
            state.size += 1
        }
    }
}
