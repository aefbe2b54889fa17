import Dispatch
import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import Sodium

/// What the ledger will hold once the batches before the next one commit: the prediction a batch is sealed on.
struct AppendForecast {
    var size: UInt64
    var nextKeyID: UInt32
    /// Key pairs this run created, stored or about to be (the run's batch keys are sealed to them).
    var pairs: [Hash: MatterKeyPair] = [:]
    /// Batch keys this run drew, by matter tag, stored or about to be: the run's later batches encrypt that matter's
    /// entries under the same key (one X25519 seal per matter per run, not per batch). A stale prediction starts a
    /// new forecast, and with it fresh keys.
    var batchKeys: [Hash: MatterKey] = [:]
    /// Source tags of the batches sealed last (as many as are sealed ahead of a commit, `Ledger.sealDepth`, newest
    /// first): batches that may not have committed yet, whose rows a read transaction may not see.
    var inFlightSources = [TagTable]()

    /// The seq of `tag` in a batch in flight, if any.
    func inFlightSeq(of tag: Hash) -> UInt64? {
        for batch in inFlightSources { if let seq = batch[tag] { return seq } }
        return nil
    }
    /// Source rows this import staged and has not moved into `sources` yet (format 2; nil for format 1).
    var staged: StagedSourceSet?
}

/// A batch planned and sealed ahead of its write transaction.
struct SealedBatch {
    let records: [ValidatedRecord]
    /// The prediction it was sealed on; its transaction checks both before linking it.
    let expectedSize: UInt64
    let expectedKeyID: UInt32
    let outcomes: [AppendOutcome]
    let newKeys: NewKeys
    let sealed: [SealedRecord]
}

extension Ledger {
    /// Appends `batchCount` batches, each one durable write transaction, with the next batches planned and sealed
    /// (on every core, up to `sealDepth` ahead) while batch k is linked and committed. `batch(k)` gives batch k's
    /// records, on the sealing thread; it is asked again for a batch not yet committed when a stale prediction
    /// restarts the sealing, and must give the same records each time. `committed(outcomes)` runs after each
    /// commit, in order.
    ///
    /// A batch is sealed for the seqs and key ids the ledger will have once the batches before it commit.
    /// Its transaction checks that prediction (entry count and next key id: another writer's append changes
    /// the count, and any new key changes the id). If another process wrote in between, the batch is planned
    /// and sealed again inside the transaction, exactly as `append` does, and the batches sealed after it are
    /// sealed again on a fresh prediction, so every record is always encrypted for the seq and key it is stored under.
    func appendBatches(count batchCount: Int, moveStagedAtEnd: Bool = true,
                       stagedLimit: Int = 1 << 20, batch: (Int) throws -> [ValidatedRecord],
                       committed: ([AppendOutcome]) throws -> Void) throws {
        let principal = try requireWriter()
        guard batchCount > 0 else { return }
        let access = try store.access()
        try moveStagedSourcesIfAny()  // rows an interrupted import left: this import's lookups read `sources`
        var timer = PhaseTimer(logger: Self.logger)
        defer { Self.logger.debug("append batches", metadata: ["batches": "\(batchCount)", "phases": "\(timer)"]) }
        try withoutActuallyEscaping(batch) { batch in
            let source = UnsafeSendableBox(batch)
            // Seals batches from `first` on, on a prediction of what the ledger holds now.
            func sealAhead(from first: Int) throws -> (Lookahead<AppendForecast, SealedBatch>, StagedSourceSet?) {
                let forecast = try currentForecast()
                let ahead = Lookahead(first..<batchCount, depth: Self.sealDepth, state: forecast) { index, forecast in
                    try self.prepareBatch(try source.value(index), forecast: &forecast, principal: principal,
                                          access: access)
                }
                return (ahead, forecast.staged)
            }
            var (ahead, staged) = try sealAhead(from: 0)
            defer { ahead.stop() }  // the sealing job borrows `batch`: it must end before this closure does
            for index in 0..<batchCount {
                let prepared = try ahead.take(index)
                timer.lap("wait")
                // The last batch moves the staged rows in its own transaction: no extra commit at the end.
                let moveNow = moveStagedAtEnd && index == batchCount - 1
                let (outcomes, matched, moved) = try commit(prepared, principal: principal, access: access,
                                                            staged: staged, stagedLimit: moveNow ? 0 : stagedLimit)
                timer.lap("commit \(index)")
                if !matched {
                    // Another writer made the prediction stale (and this transaction moved the staged rows):
                    // seal the rest again from what is committed now.
                    ahead.stop()
                    (ahead, staged) = try sealAhead(from: index + 1)
                } else if moved {
                    // Rows moved into `sources` leave the staged set only once no batch is being sealed: one that
                    // began before the move reads a snapshot without them there, and looks them up in the set.
                    ahead.whileIdle { staged?.removeAll() }
                } else {
                    staged?.add(prepared.sealed)
                }
                try committed(outcomes)
            }
        }
        if moveStagedAtEnd { try moveStagedSourcesIfAny() }  // rows of a last batch that was all duplicates
    }

    /// Batches sealed ahead of the one being committed. With one, the cores idle whenever a seal ends before the
    /// commit it overlaps (which waits for the disk); two keep them busy. Each costs a batch's sealed records in memory.
    static let sealDepth = 2

    /// What the ledger holds now, as the prediction for the first batch.
    private func currentForecast() throws -> AppendForecast {
        try LedgerError.wrap("plan import") {
            try store.environment.read { txn in
                AppendForecast(size: try txn.entryCount(store), nextKeyID: try nextMatterKeyID(txn),
                               staged: stagesSources ? StagedSourceSet() : nil)
            }
        }
    }

    /// Plans and seals `records` on the prediction `forecast`, and advances it past them.
    private func prepareBatch(_ records: [ValidatedRecord], forecast: inout AppendForecast, principal: Principal,
                              access: Database?) throws -> SealedBatch {
        let (expectedSize, expectedKeyID) = (forecast.size, forecast.nextKeyID)
        var timer = PhaseTimer(logger: Self.logger)
        defer { Self.logger.debug("prepare batch", metadata: ["phases": "\(timer)"]) }
        let tags = try sourceTags(records, principal: principal)
        timer.lap("tags")
        // Read before the plan's transaction: rows committed since are in flight or staged, which come first below.
        let stored = try LedgerError.wrap("plan import") { try storedSources(tags) }
        timer.lap("stored")
        let (inFlight, staged) = (forecast, forecast.staged)
        let (outcomes, plan, newKeys, keys) = try LedgerError.wrap("plan import") {
            try store.environment.read { txn in
                let (outcomes, plan) = try planAppend(records, tags: tags, firstSeq: expectedSize) { index, tag in
                    inFlight.inFlightSeq(of: tag) ?? staged?.seq(of: tag) ?? stored[index]
                }
                timer.lap("plan")
                var newKeys = NewKeys(nextID: expectedKeyID)
                let context = try keyContext(principal, txn: txn, access: access)
                let keys = try batchKeys(for: plan.map { records[$0.index].matter }, principal: principal,
                                         context: context, pairs: &forecast.pairs, drawn: &forecast.batchKeys,
                                         newKeys: &newKeys)
                return (outcomes, plan, newKeys, keys)
            }
        }
        timer.lap("keys")
        let sealed = try sealAll(records, plan: plan, keys: keys)
        timer.lap("seal")
        forecast.size += UInt64(plan.count)
        forecast.nextKeyID = newKeys.nextID
        var sources = TagTable(minimumCapacity: plan.count)
        for item in plan { if let tag = item.sourceTag { sources[tag] = item.seq } }
        forecast.inFlightSources = [sources] + forecast.inFlightSources.prefix(Self.sealDepth - 1)
        return SealedBatch(records: records, expectedSize: expectedSize, expectedKeyID: expectedKeyID,
                           outcomes: outcomes, newKeys: newKeys, sealed: sealed)
    }

    /// Commits a sealed batch if its prediction holds, else plans and seals it again inside the transaction
    /// (which moves every staged source row into `sources` first). Returns its outcomes, whether the prediction
    /// held, and whether the staged rows were moved (format 2: when they reach `stagedLimit`).
    private func commit(_ batch: SealedBatch, principal: Principal, access: Database?,
                        staged: StagedSourceSet?, stagedLimit: Int) throws -> ([AppendOutcome], matched: Bool, moved: Bool) {
        guard !batch.sealed.isEmpty else { return (batch.outcomes, true, false) }  // all duplicates: nothing to write
        let recordedAt = Clock.nowMicros()
        let (outcomes, state, matched, moved) = try LedgerError.wrap("append") {
            try store.environment.write { txn -> ([AppendOutcome], AppendState, Bool, Bool) in
                guard try txn.entryCount(store) == batch.expectedSize,
                      try nextMatterKeyID(txn) == batch.expectedKeyID else {
                    let (outcomes, state) = try appendInTransaction(batch.records, principal: principal,
                                                                    access: access, recordedAt: recordedAt, txn: txn)
                    return (outcomes, state, false, false)
                }
                var timer = PhaseTimer(logger: Self.logger)
                try store(batch.newKeys, txn: txn, access: access)
                try storeBoxKeyIfMissing(principal, txn: txn)
                var state = try loadAppendState(txn)
                try link(batch.sealed, into: &state, recordedAt: recordedAt, txn: txn,
                         staged: staged == nil ? nil : store.openedStagedSources)
                timer.lap("link")
                var moved = false
                if let staged, staged.count + batch.sealed.count >= stagedLimit {
                    try moveStagedSources(txn)
                    moved = true
                    timer.lap("move staged sources")
                }
                Self.logger.debug("appended sealed batch", metadata: ["records": "\(batch.sealed.count)",
                                                                      "phases": "\(timer)"])
                return (batch.outcomes, state, true, moved)
            }
        }
        session.withLock { $0.appendState = state }  // only once committed
        return (outcomes, matched, moved)
    }
}
