import Foundation
import LMDB
import LedgerFormat
import LedgerReport
import MerkleLog
import Sodium

/// What `shred` is asked to destroy, and on what authority.
public struct ShredRequest: Sendable {
    public var matters: [String]
    public var reason: String
    public var by: String
    /// The retention policy the matters are checked against.
    public var policy: RetentionPolicy
    /// Destroy although the retention period has not ended (or the matter is not closed). Never overrides a hold.
    public var beforeRetentionEnd: Bool
    /// Every shred rotates the master key (docs/FORMAT.md, "Key epochs").
    public var newMasterKey: NewMasterKey
    public var now: Int64
    /// SHA-256 (hex) of the policy file's bytes, recorded in each destroy entry; nil for the built-in defaults.
    public var policyDigest: String?

    public init(matters: [String], reason: String, by: String, policy: RetentionPolicy, beforeRetentionEnd: Bool,
                newMasterKey: NewMasterKey, now: Int64) {
        self.matters = matters
        self.reason = reason
        self.by = by
        self.policy = policy
        self.beforeRetentionEnd = beforeRetentionEnd
        self.newMasterKey = newMasterKey
        self.now = now
    }
}

/// One destroyed matter.
public struct ShreddedMatter: Sendable {
    public let matter: String
    public let tag: Hash
    public let entries: UInt64
    public let seqRange: ClosedRange<UInt64>?
    /// Key records deleted (key pairs, batch keys, the v1 matter key) and reader wraps deleted.
    public let keys: Int
    public let readerWraps: Int
    /// The credentials whose wraps were deleted: with a backup from before, their credential still opens the matter.
    public let readers: [String]
    public let destroySeq: UInt64
    public let retainUntil: Int64?
    public let beforeRetentionEnd: Bool
}

/// What `shred` did.
public struct ShredSummary: Sendable {
    public let matters: [ShreddedMatter]
    public let rotation: RotationSummary
    /// The checkpoint signed after the destruction (signed-note text); nil when signing failed after the commit
    /// (the destruction stands: sign with `ledger checkpoint`).
    public let checkpoint: String?
    /// Every stored byte string the shred deleted or replaced: `Ledger.compact` proves none is left.
    public let destroyedBytes: [[UInt8]]
}

/// The keys one matter loses.
private struct DestroyedKeys {
    var keys = 0
    var wraps = 0
    var readers = [String]()
    var bytes = [[UInt8]]()
}

/// The retention check's outcome for one matter.
struct RetentionDecision {
    let retainUntil: Int64?
    let closedAt: Int64?
    /// Destroyed before its retention ended (or while open), on `--before-retention-end`.
    let early: Bool
}

/// What the shred transaction did, for the summary.
private struct ShredOutcome {
    var matters: [ShreddedMatter] = []
    var events: [AccessEvent] = []
    var bytes: [[UInt8]] = []
    var ring: KeyRing?
    var rotation: RotationSummary?
}

extension Ledger {
    /// Destroys matters for good (docs/RETENTION.md), master key only. Refuses a matter under a legal hold whatever
    /// the flags, and one whose retention period has not ended unless `beforeRetentionEnd`. In one transaction: every
    /// key of the matters (key pairs, batch keys, v1 key, reader wraps) is deleted, the master key is rotated (every
    /// other key re-wrapped, so an old backup opens nothing with the new key) and a `rotate` entry and one `destroy`
    /// entry per matter are appended; then a checkpoint is signed. The caller closes the ledger and runs
    /// `Ledger.compact` to scrub the freed pages.
    public func shred(_ request: ShredRequest) throws -> ShredSummary {
        let ring = try requireKeys()
        try Self.validateRetentionText(reason: request.reason, by: request.by)
        let matters = try Self.uniqueMatters(request.matters)
        guard let access = try store.access(create: true) else { throw LedgerError.corrupt("cannot create access") }
        let replayed = try replayedRetention()
        let decisions = try matters.map { matter in
            try requireRegistryAgrees(ring.matterTag(matter), matter: matter, replayed: replayed, access: access)
            return try retentionDecision(matter, ring: ring, request: request, access: access)
        }
        let prepared = try prepareMasterKey(request.newMasterKey)
        var outcome = ShredOutcome()
        do {
            try commitEvents(operation: "shred") { txn in
                outcome = try destroyAndRotate(matters, decisions: decisions, ring: ring, prepared: prepared,
                                               request: request, access: access, txn: txn)
                return outcome.events
            }
        } catch {
            prepared.discard()  // nothing committed: the old key still opens the ledger
            throw error
        }
        // Committed: from here on the new key is the only one that opens the ledger, so nothing may remove it.
        adoptRotatedKeys(outcome.ring!)
        let note: String?
        do { note = try signCheckpoint() } catch {
            Self.logger.warning("the destruction is committed, but no checkpoint was signed: \(error)")
            note = nil
        }
        return ShredSummary(matters: outcome.matters, rotation: outcome.rotation!, checkpoint: note,
                            destroyedBytes: outcome.bytes)
    }

    /// Holds and destructions as the entries record them (the events index; a scan of the event entries only).
    private func replayedRetention() throws -> RetentionState {
        var state = AccessState()
        for entry in try events() { _ = state.apply(entry.event, seq: entry.seq) }
        return state.retention
    }

    /// The stored holds of a matter (what `shred` checks in its transaction) are those its entries leave in force:
    /// a hold row removed behind the engine's back must not let a held matter be destroyed.
    private func requireRegistryAgrees(_ tag: Hash, matter: String, replayed: RetentionState,
                                       access: Database) throws {
        let stored = try store.environment.read { txn in try holdsInForce(tag, access: access, txn: txn).map(\.seq) }
        guard stored == replayed.holds[tag] ?? [] else {
            throw LedgerError.corrupt("the stored legal holds of matter \(matter) differ from its hold and release "
                                      + "entries; nothing was destroyed (run `ledger verify`)")
        }
    }

    private static func uniqueMatters(_ matters: [String]) throws -> [String] {
        guard !matters.isEmpty else { throw LedgerError.invalidArgument("name at least one --matter") }
        guard Set(matters).count == matters.count else { throw LedgerError.invalidArgument("a matter is named twice") }
        return matters
    }

    /// Inside the shred transaction: each matter's keys deleted, the master key rotated, the entries to append (a
    /// `rotate`, then one `destroy` per matter, whose seqs follow) and the registry rows of the destructions.
    private func destroyAndRotate(_ matters: [String], decisions: [RetentionDecision], ring: KeyRing,
                                  prepared: PreparedMasterKey, request: ShredRequest, access: Database,
                                  txn: WriteTransaction) throws -> ShredOutcome {
        let base = try txn.entryCount(store)
        var outcome = ShredOutcome()
        var destructions = [AccessEvent.Destruction]()
        for (offset, matter) in matters.enumerated() {
            let tag = ring.matterTag(matter)
            try requireShreddable(tag, matter: matter, access: access, txn: txn)
            let keys = try destroyKeys(of: tag, access: access, txn: txn)
            outcome.bytes += keys.bytes
            let seqs = try self.seqs(tag: tag, txn: txn)
            let shredded = ShreddedMatter(matter: matter, tag: tag, entries: UInt64(seqs.count),
                                          seqRange: seqs.first.map { $0...seqs.last! }, keys: keys.keys,
                                          readerWraps: keys.wraps, readers: keys.readers,
                                          destroySeq: base + 1 + UInt64(offset),
                                          retainUntil: decisions[offset].retainUntil,
                                          beforeRetentionEnd: decisions[offset].early)
            outcome.matters.append(shredded)
            var destruction = Self.destruction(shredded, request: request)
            destruction.closedAt = decisions[offset].closedAt.map { Timestamp.formatRFC3339(micros: $0) }
            destruction.policyDigest = request.policyDigest
            destructions.append(destruction)
        }
        let rotated = try rotateKeys(from: ring, to: prepared, txn: txn)
        outcome.bytes += rotated.replaced
        outcome.ring = rotated.ring
        outcome.rotation = RotationSummary(seq: base, keyEpoch: rotated.epoch, rewrappedKeys: rotated.rewrapped,
                                           keyFile: prepared.createdFile, replacedKeyBytes: rotated.replaced)
        outcome.events = [.rotate(AccessEvent.Rotation(keyEpoch: rotated.epoch, by: request.by,
                                                       credential: AccessEvent.masterName,
                                                       reason: request.reason))]
        for (shredded, var destruction) in zip(outcome.matters, destructions) {
            destruction.keyEpoch = rotated.epoch
            try txn.put(access, key: AccessKey.destroyed(shredded.tag),
                        value: shredded.destroySeq.bigEndianBytes + AccessEvent.destroy(destruction).encoded(),
                        flags: [.noOverwrite])
            outcome.events.append(.destroy(destruction))
        }
        return outcome
    }

    private static func destruction(_ shredded: ShreddedMatter, request: ShredRequest) -> AccessEvent.Destruction {
        AccessEvent.Destruction(matter: shredded.tag, entries: shredded.entries, seqRange: shredded.seqRange,
                                keys: UInt64(shredded.keys), keyEpoch: 0,
                                retainUntil: shredded.retainUntil.map { Timestamp.formatRFC3339(micros: $0) },
                                beforeRetentionEnd: shredded.beforeRetentionEnd, by: request.by,
                                credential: AccessEvent.masterName, reason: request.reason)
    }

    /// Not destroyed, known, and under no hold in force.
    private func requireShreddable(_ tag: Hash, matter: String, access: Database, txn: ReadTransaction) throws {
        try requireKnownLiveMatter(tag, matter: matter, access: access, txn: txn)
        if let hold = try holdsInForce(tag, access: access, txn: txn).first {
            throw LedgerError.invalidArgument("matter \(matter) is under the legal hold of entry \(hold.seq) (placed "
                + "\(Timestamp.formatRFC3339(micros: hold.placedAt)) by \(hold.hold.by): \(hold.hold.reason)); release "
                + "it first (`ledger hold --release`). No flag overrides a hold")
        }
    }

    /// Deletes every key of the matter: its key chain (key pairs and v1 key), the batch keys sealed to its key pairs,
    /// its matter-key index row and every reader's wrap of a chain key. Returns what was deleted.
    private func destroyKeys(of tag: Hash, access: Database, txn: WriteTransaction) throws -> DestroyedKeys {
        let chain = Set(try keyChain(tag: tag, txn: txn))
        var destroyed = DestroyedKeys()
        for (id, record) in try wrappedKeyRecords(txn) {
            switch record {
            case .batchKey(let pairID, _) where chain.contains(pairID): break
            case .matterKey, .keyPair: guard chain.contains(id) else { continue }
            default: continue
            }
            destroyed.bytes.append(record.encoded())
            _ = try txn.delete(store.keys, key: id.bigEndianBytes)
            destroyed.keys += 1
        }
        _ = try txn.delete(store.matterKeys, key: tag.bytes)
        let holders = Dictionary(try grants(KeyContext(txn: txn, access: access, boxPublicKey: nil))
                                    .map { ($0.publicKey, $0.credential) }, uniquingKeysWith: { a, _ in a })
        var readers = Set<String>()
        for (key, value) in try readerWraps(access: access, txn: txn) where chain.contains(key.id) {
            destroyed.bytes.append(value)
            _ = try txn.delete(access, key: AccessKey.wrap(key.publicKey, keyID: key.id))
            destroyed.wraps += 1
            if let name = holders[key.publicKey] { readers.insert(name) }
        }
        destroyed.readers = readers.sorted()
        return destroyed
    }

    /// Every reader wrap ("w" rows): its credential's public key, the key id and the sealed value (copied out).
    private func readerWraps(access: Database, txn: ReadTransaction) throws
        -> [(key: (publicKey: [UInt8], id: UInt32), value: [UInt8])] {
        let cursor = try txn.cursor(access)
        defer { cursor.close() }
        var out = [(key: (publicKey: [UInt8], id: UInt32), value: [UInt8])]()
        var row = try cursor.seek(atLeast: [UInt8(ascii: "w")])
        while let current = row, current.key.first == UInt8(ascii: "w") {
            row = try cursor.next()
            guard current.key.count == 37, let id = UInt32(bigEndianBytes: UnsafeRawBufferPointer(rebasing: current.key[33...])) else {
                throw LedgerError.corrupt("a reader wrap row is malformed")
            }
            out.append(((Array(current.key[1..<33]), id), Array(current.value)))
        }
        return out
    }

    /// The retention policy's verdict on one matter, before anything is written: a hold refuses it outright; a
    /// retention period not yet over (or a matter not closed) refuses it unless `beforeRetentionEnd`.
    func retentionDecision(_ matter: String, ring: KeyRing, request: ShredRequest,
                           access: Database) throws -> RetentionDecision {
        let tag = ring.matterTag(matter)
        let (entries, holds) = try store.environment.read { txn in
            try requireShreddable(tag, matter: matter, access: access, txn: txn)
            return (try seqs(tag: tag, txn: txn).count, try holdsInForce(tag, access: access, txn: txn))
        }
        let facts = RetentionFacts(matter: matter, tagHex: tag.hex,
                                   recordTags: request.policy.byTag.isEmpty ? [] : try recordTags(of: matter),
                                   entries: entries, holds: holds.map(Self.retentionHold), destroyed: nil)
        let status = RetentionStatus.evaluate(facts, policy: request.policy, now: request.now)
        switch status.state {
        case .eligible:
            return RetentionDecision(retainUntil: status.retainUntil, closedAt: status.closedAt, early: false)
        case .open, .retained:
            guard request.beforeRetentionEnd else { throw Self.notYetDue(matter, status) }
            return RetentionDecision(retainUntil: status.retainUntil, closedAt: status.closedAt, early: true)
        case .held, .destroyed:
            throw LedgerError.invalidArgument("matter \(matter) cannot be destroyed (\(status.state.rawValue))")
        }
    }

    private static func notYetDue(_ matter: String, _ status: RetentionStatus) -> LedgerError {
        guard let until = status.retainUntil, let closed = status.closedAt else {
            return .invalidArgument("matter \(matter) is not closed (the retention policy gives no closedAt), so its "
                + "retention period has not begun; to destroy it anyway add --before-retention-end (with --reason)")
        }
        return .invalidArgument("matter \(matter) must be kept until \(Timestamp.formatRFC3339(micros: until)) (closed "
            + "\(Timestamp.formatRFC3339(micros: closed)) + \(status.period), \(status.basis)); to destroy it earlier "
            + "add --before-retention-end (with --reason)")
    }

    static func retentionHold(_ hold: HoldInForce) -> RetentionHold {
        RetentionHold(seq: hold.seq, placedAt: hold.placedAt, by: hold.hold.by, reason: hold.hold.reason)
    }

    /// The record tags (`tags` field values) of a matter's entries: what per-tag retention periods apply to.
    func recordTags(of matter: String) throws -> Set<String> {
        var tags = Set<String>()
        try entries(matching: EntryFilter(matter: matter)) { entry in
            guard case .array(let values)? = entry.record["tags"] else { return }
            for case .string(let tag) in values { tags.insert(tag) }
        }
        return tags
    }
}
