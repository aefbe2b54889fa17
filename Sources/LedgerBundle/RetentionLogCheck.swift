import LedgerFormat
import MerkleLog
import RecordFormats

/// The checks of retention.jsonl, the optional member added with retention (docs/EXPORT.md, "The checks"): the
/// holds, releases and destructions of the exported matters, and the leaves of every entry of a destroyed matter.
enum RetentionLogCheck {
    /// What every line is checked against: access-log.jsonl's context (the checkpoint's tree, and the ledger id and
    /// matter tags of entries.jsonl's leaves).
    typealias Context = AccessLogCheck.Context

    /// A line whose leaf decoded: an event (hold, release or destroy) or a record leaf of a destroyed matter.
    struct Item {
        enum Kind {
            case event(AccessEvent)
            case record(matter: Hash)
        }

        let line: AccessLogCheck.Line
        let kind: Kind

        /// The matter the line is about.
        var matter: Hash? {
            switch kind {
            case .record(let matter): return matter
            case .event(.hold(let h)): return h.matter
            case .event(.release(let r)): return r.matter
            case .event(.destroy(let d)): return d.matter
            case .event: return nil
            }
        }
    }

    /// What the rest of the bundle's checks need from retention.jsonl.
    struct Outcome {
        /// The matter tags of its destroy events (their access entries belong in the bundle too).
        var destroyedTags: Set<Hash> = []
        /// The ledger id of its first decoded leaf (the reference when entries.jsonl is empty).
        var ledgerID: [UInt8]?
    }

    /// Checks every line, then the lines against each other; counts events and records in `report`.
    static func check(_ bytes: [UInt8], context: Context, into report: inout BundleReport) -> Outcome {
        var context = context
        var items = [Item]()
        var previous: UInt64?
        let lines = AccessLogCheck.lines(bytes)
        // Counted by the leaf's version byte (an event leaf's is 3), whether or not the leaf decodes: a malformed line
        // is reported once, not again as a count mismatch.
        var events = 0
        for (offset, text) in lines.enumerated() {
            guard let line = AccessLogCheck.read(Array(text), number: offset + 1, malformed: .retentionEntryMalformed,
                                                 into: &report) else { continue }
            if line.leaf.first == EventLeaf.version { events += 1 }
            if let previous, line.index <= previous {
                report.fail(.retentionOrder, "retention lines must be in strictly ascending index order "
                            + "(after \(previous))", entry: line.index, line: line.number)
            }
            previous = line.index
            if let item = checkLine(line, context: &context, into: &report) { items.append(item) }
        }
        report.retentionEvents = events
        report.destroyedEntries = lines.count - events
        let destroys = checkDestroyed(items, context: context, into: &report)
        checkHolds(items, entryTags: context.matterTags, destroyed: Set(destroys.keys), into: &report)
        return Outcome(destroyedTags: Set(destroys.keys), ledgerID: context.ledgerID)
    }

    /// The line's leaf decoded (an event of a retention kind, or a record leaf), naming its own index and the
    /// bundle's ledger id, its proof leading to the checkpoint's root. nil when the leaf does not decode.
    private static func checkLine(_ line: AccessLogCheck.Line, context: inout Context,
                                  into report: inout BundleReport) -> Item? {
        func fail(_ kind: BundleViolation.Kind, _ detail: String, expected: String? = nil, found: String? = nil) {
            report.fail(kind, detail, entry: line.index, line: line.number, expected: expected, found: found)
        }
        guard let (item, seq, ledgerID) = decode(line, fail: { fail(.retentionLeafMalformed, $0) }) else {
            return nil
        }
        if seq != line.index {
            fail(.retentionIndex, "the leaf names seq \(seq), the line index \(line.index)",
                 expected: String(line.index), found: String(seq))
        }
        // With entries.jsonl empty, the first retention leaf sets the ledger id every other leaf must share.
        let expected = context.ledgerID ?? ledgerID
        context.ledgerID = expected
        if ledgerID != expected {
            fail(.retentionLedger, "the leaf's ledger id differs from the bundle's other leaves'",
                 expected: Hex.encode(expected), found: Hex.encode(ledgerID))
        }
        if let problem = AccessLogCheck.inclusionProblem(line, treeSize: context.treeSize, root: context.root) {
            fail(.retentionInclusionProof, problem)
        }
        return item
    }

    /// The line's item, leaf seq and ledger id; nil (after `fail`) when the leaf is neither a record leaf nor an event
    /// leaf whose body is a canonical hold, release or destroy event.
    private static func decode(_ line: AccessLogCheck.Line,
                               fail: (String) -> Void) -> (Item, UInt64, [UInt8])? {
        if line.leaf.first != EventLeaf.version {
            do {
                let leaf = try Leaf.decode(line.leaf)
                return (Item(line: line, kind: .record(matter: leaf.matterTag)), leaf.seq, leaf.ledgerID)
            } catch {
                fail("\(error)")
                return nil
            }
        }
        let leaf: EventLeaf
        do { leaf = try line.leaf.withUnsafeBytes { try EventLeaf.decode($0) } } catch {
            fail("\(error)")
            return nil
        }
        let event: AccessEvent
        do { event = try AccessEvent.decode(leaf.body) } catch {
            fail("the event body does not decode: \(error)")
            return nil
        }
        switch event {
        case .hold, .release, .destroy:
            return (Item(line: line, kind: .event(event)), leaf.seq, leaf.ledgerID)
        default:
            fail("the event is not a hold, release or destroy event")
            return nil
        }
    }

    /// Each record line is covered by a later destroy line of its matter; each destroy line's records are all there
    /// (count, first and last seq) and none of its matter's entries is in entries.jsonl. Returns the destroy lines.
    private static func checkDestroyed(_ items: [Item], context: Context,
                                       into report: inout BundleReport) -> [Hash: (Item, AccessEvent.Destruction)] {
        var destroys = [Hash: (Item, AccessEvent.Destruction)]()
        for item in items {
            guard case .event(.destroy(let d)) = item.kind else { continue }
            if destroys[d.matter] != nil {
                report.fail(.retentionDestroyed, "the matter is destroyed a second time", entry: item.line.index,
                            line: item.line.number)
            } else {
                destroys[d.matter] = (item, d)
            }
        }
        var records = [Hash: [UInt64]]()
        for item in items {
            guard case .record(let matter) = item.kind else { continue }
            records[matter, default: []].append(item.line.index)
            let index = item.line.index
            guard let (destroy, d) = destroys[matter], destroy.line.index > index,
                  d.seqRange?.contains(index) == true else {
                report.fail(.retentionDestroyed, "a record leaf without a later destroy event of its matter "
                            + "covering its index", entry: index, line: item.line.number)
                continue
            }
        }
        for (matter, (item, d)) in destroys.sorted(by: { $0.value.0.line.index < $1.value.0.line.index }) {
            checkComplete(d, item: item, records: records[matter] ?? [], into: &report)
            if context.matterTags.contains(matter) {
                report.fail(.retentionDisclosed, "entries.jsonl holds an entry of this destroyed matter",
                            entry: item.line.index, line: item.line.number)
            }
        }
        return destroys
    }

    /// A destroy line's record lines are exactly its `entries`, from `firstSeq` to `lastSeq`.
    private static func checkComplete(_ d: AccessEvent.Destruction, item: Item, records: [UInt64],
                                      into report: inout BundleReport) {
        let found = "\(records.count) entries" + (records.first.map { ", seq \($0)–\(records.last!)" } ?? "")
        let expected = "\(d.entries) entries" + (d.seqRange.map { ", seq \($0.lowerBound)–\($0.upperBound)" } ?? "")
        if UInt64(records.count) != d.entries || records.first != d.seqRange?.lowerBound
            || records.last != d.seqRange?.upperBound {
            report.fail(.retentionCompleteness, "the destroyed matter's record leaves in the file are not exactly "
                        + "those the destroy event names", entry: item.line.index, line: item.line.number,
                        expected: expected, found: found)
        }
    }

    /// Holds and releases: a release names a hold line of its matter still in force; a destruction follows no hold
    /// of its matter left in force; every hold or release is of an exported or destroyed matter.
    private static func checkHolds(_ items: [Item], entryTags: Set<Hash>, destroyed: Set<Hash>,
                                   into report: inout BundleReport) {
        var inForce = [Hash: Set<UInt64>]()
        for item in items {
            guard case .event(let event) = item.kind, let matter = item.matter else { continue }
            func fail(_ kind: BundleViolation.Kind, _ detail: String) {
                report.fail(kind, detail, entry: item.line.index, line: item.line.number)
            }
            switch event {
            case .hold:
                inForce[matter, default: []].insert(item.line.index)
            case .release(let r):
                if inForce[matter]?.remove(r.hold) == nil {
                    fail(.retentionHold, "the release names entry \(r.hold), which is no hold line of its matter "
                         + "in force in the file")
                }
            case .destroy:
                if let held = inForce[matter]?.min() {
                    fail(.retentionHold, "the matter is destroyed while the hold of entry \(held) is in force")
                }
            default:
                break
            }
            if !entryTags.contains(matter) && !destroyed.contains(matter) {
                fail(.retentionMatter, "the event is about a matter neither exported nor destroyed in the bundle")
            }
        }
    }
}
