import LMDB
import LedgerFormat
import MerkleLog

/// One line of a bundle's retention.jsonl: a hold, release or destroy event leaf, or the record leaf of an entry of a
/// destroyed matter (its contents can no longer be decrypted, so only the leaf), with its inclusion proof.
struct BundleRetentionLine {
    let seq: UInt64
    let leaf: [UInt8]
    var proof: [Hash]
    let isEvent: Bool
}

/// An exported matter that was destroyed, as report.html describes it.
struct BundleDestroyedMatter {
    /// The matter number as named with `--matter`.
    let matter: String
    /// The destroy entry's seq and recordedAt.
    let seq: UInt64
    let recordedAt: Int64
    let destruction: AccessEvent.Destruction
}

/// One event entry below the export's tree size, decoded.
struct ExportedEvent {
    let seq: UInt64
    let leaf: [UInt8]
    let recordedAt: Int64
    let event: AccessEvent
}

extension Ledger {
    /// The retention event entries (hold, release, destroy, rotate) below `size`, seq order, read through the `events`
    /// index (`index`, opened before the transaction; nil when the ledger never recorded an event). Access entries —
    /// one per read, by far the most numerous — are passed over by their body's first key without being parsed
    /// (`ledger verify` checks them). A retention entry that does not decode is corruption.
    func exportedEvents(below size: UInt64, index: Database?, txn: ReadTransaction) throws -> [ExportedEvent] {
        guard let index else { return [] }
        let cursor = try txn.cursor(index)
        defer { cursor.close() }
        var out = [ExportedEvent]()
        var row = try cursor.first()
        while let current = row {
            row = try cursor.next()
            guard let seq = UInt64(bigEndianBytes: current.key) else {
                throw LedgerError.corrupt("an events index key is not 8 bytes")
            }
            guard seq < size else { break }
            guard let (raw, _) = try txn.storedEntry(store, seq) else {
                throw LedgerError.corrupt("the events index names entry \(seq), which does not exist")
            }
            if Self.isAccessEventLeaf(raw) { continue }
            guard let leaf = try? EventLeaf.decode(raw), leaf.seq == seq,
                  let event = try? AccessEvent.decode(leaf.body) else {
                throw LedgerError.corrupt("the events index names entry \(seq), which is not a valid event (run "
                                          + "`ledger verify`)")
            }
            switch event {
            case .hold, .release, .destroy, .rotate:
                out.append(ExportedEvent(seq: seq, leaf: Array(raw), recordedAt: leaf.recordedAt, event: event))
            default:
                continue
            }
        }
        return out
    }

    /// Canonical JSON sorts keys, so an access event's body, and only an access event's, starts with `{"allMatters":`
    /// (docs/FORMAT.md, "Event leaf v1"; the body follows the 69-byte head).
    private static let accessBodyPrefix = Array(#"{"allMatters":"#.utf8)

    private static func isAccessEventLeaf(_ raw: UnsafeRawBufferPointer) -> Bool {
        let end = 69 + accessBodyPrefix.count
        return raw.count > end && raw[69..<end].elementsEqual(accessBodyPrefix)
    }

    /// The named matters destroyed below the export's tree size, by tag: only those the principal may read (the
    /// others are left to the usual permission check, which refuses them).
    func destroyedMatters(_ matters: [String], principal: Principal,
                          events: [ExportedEvent]) -> [Hash: BundleDestroyedMatter] {
        var state = AccessState()
        for event in events { _ = state.apply(event.event, seq: event.seq) }  // `ledger verify` judges the events
        var out = [Hash: BundleDestroyedMatter]()
        for matter in matters {
            guard let tag = principal.matterTag(matter), principal.mayRead(tag: tag),
                  let destroyed = state.retention.destroyed[tag] else { continue }
            let recordedAt = events.first { $0.seq == destroyed.seq }?.recordedAt ?? 0
            out[tag] = BundleDestroyedMatter(matter: matter, seq: destroyed.seq, recordedAt: recordedAt,
                                             destruction: destroyed.destruction)
        }
        return out
    }

    /// The lines of retention.jsonl, seq order, each with its inclusion proof against `size`: the hold, release and
    /// destroy events of the exported entries' matters (`entryTags`) and of the destroyed matters, and every record
    /// entry of each destroyed matter. Empty when there is none (the bundle then has no retention.jsonl).
    func selectRetentionLines(events: [ExportedEvent], destroyed: [Hash: BundleDestroyedMatter], entryTags: Set<Hash>,
                              size: UInt64, reader: any HashReader,
                              txn: ReadTransaction) throws -> [BundleRetentionLine] {
        var lines = [BundleRetentionLine]()
        for event in events {
            guard let matter = event.event.retentionMatter,
                  entryTags.contains(matter) || destroyed[matter] != nil else { continue }
            lines.append(BundleRetentionLine(seq: event.seq, leaf: event.leaf, proof: [], isEvent: true))
        }
        for (tag, matter) in destroyed {
            for seq in try destroyedSeqs(tag: tag, matter, txn: txn) {
                guard let (leaf, _) = try txn.storedEntry(store, seq) else {
                    throw LedgerError.corrupt("entry \(seq) of a destroyed matter is missing")
                }
                lines.append(BundleRetentionLine(seq: seq, leaf: Array(leaf), proof: [], isEvent: false))
            }
        }
        lines.sort { $0.seq < $1.seq }
        for i in lines.indices {
            lines[i].proof = try proveRecord(treeSize: Int64(size), index: Int64(lines[i].seq), reader: reader)
        }
        return lines
    }

    /// The seqs of a destroyed matter's record entries: from the matters index, or — if that no longer lists exactly
    /// the entries the destroy entry names — by reading the leaves of the range it names. Either must give exactly
    /// `entries` seqs from `firstSeq` to `lastSeq`, or the ledger is corrupt.
    private func destroyedSeqs(tag: Hash, _ matter: BundleDestroyedMatter, txn: ReadTransaction) throws -> [UInt64] {
        let d = matter.destruction
        guard let range = d.seqRange else { return [] }
        func complete(_ seqs: [UInt64]) -> Bool {
            UInt64(seqs.count) == d.entries && seqs.first == range.lowerBound && seqs.last == range.upperBound
        }
        var seqs = try seqs(tag: tag, txn: txn).filter(range.contains)
        if !complete(seqs) {
            seqs = try range.filter { try recordTag($0, txn: txn) == tag }
        }
        guard complete(seqs) else {
            throw LedgerError.corrupt("the destroy entry \(matter.seq) names \(d.entries) entries from "
                                      + "\(range.lowerBound) to \(range.upperBound), the ledger holds \(seqs.count) "
                                      + "(run `ledger verify`)")
        }
        return seqs
    }
}

extension AccessEvent {
    /// The matter of a hold, release or destroy event; nil for any other event.
    var retentionMatter: Hash? {
        switch self {
        case .hold(let h): return h.matter
        case .release(let r): return r.matter
        case .destroy(let d): return d.matter
        default: return nil
        }
    }
}
