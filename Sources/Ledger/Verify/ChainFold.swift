import LedgerFormat
import MerkleLog

/// The sequential half of verify: the entries' facts, in seq order, folded into the hash chain, the recomputed
/// tree (compared with every stored tree hash), the checkpoints (compared at their sizes) and the keyed digests
/// of the index rows the entries imply.
struct ChainFold {
    private(set) var tree = TreeBuilder()
    private var nextSeq: UInt64 = 0
    /// The seq of the entry last appended to the tree (its record hash is the tree's last leaf).
    private var lastAppendedSeq: UInt64?
    private var previousHash = Hash.zero
    private var lastRecordedAt = Int64.min
    private(set) var firstRecordedAt: Int64?
    /// Entries with a source, and the matters seen (one per matter, not per entry).
    private(set) var sourced = 0
    /// Event entries (no matters index row), and the grants they leave in force.
    private(set) var eventCount = 0
    /// The seqs of the event entries, in order: what the `events` index must hold.
    private(set) var eventSeqs: [UInt64] = []
    private(set) var access = AccessState()
    /// Each matter's record entries so far: how many, the first and the last seq (what a destroy entry must state).
    private var spans: [Hash: (count: UInt64, first: UInt64, last: UInt64)] = [:]
    private(set) var expectedMatterRows = IndexSetDigest()
    private(set) var expectedSourceRows = IndexSetDigest()
    private var checkpoints: ArraySlice<PendingCheckpoint>
    private let storedTree: StoredTreeHashes

    init(checkpoints: [PendingCheckpoint], storedTree: StoredTreeHashes) {
        self.checkpoints = checkpoints[...]
        self.storedTree = storedTree
    }

    /// Checkpoints of the empty tree: `fold` only compares at the sizes it reaches after an append.
    mutating func compareEmptyTreeCheckpoints(into report: inout VerifyReport) {
        while let zero = checkpoints.first, zero.size == 0 {
            checkpoints.removeFirst()
            Self.compare(zero, with: Hash.emptyTree, into: &report)
        }
    }

    mutating func fold(_ facts: UnsafeBufferPointer<EntryFacts>, into report: inout VerifyReport) throws {
        // Each fact borrowed where it lies: `for fact in facts` copied every ~250-byte fact (and retained and
        // released its references) on the scanning thread, which keyless verify waits on.
        for index in facts.indices { try fold(facts[index], into: &report) }
    }

    /// The tree's size and root, and the checkpoints that name more entries than the ledger holds.
    func finish(into report: inout VerifyReport) {
        report.entries = UInt64(tree.size)
        report.root = tree.rootHash()
        for beyond in checkpoints where beyond.size > UInt64(tree.size) {
            let which = beyond.trusted ? "trusted" : "stored"
            report.add(Violation(seq: nil, kind: beyond.trusted ? .trustedCheckpoint : .checkpointBeyondLog,
                detail: "a \(which) checkpoint names \(beyond.size) entries but the ledger holds "
                    + "\(tree.size): entries were removed, or the ledger was replaced by an older copy"))
        }
    }

    private mutating func fold(_ fact: borrowing EntryFacts, into report: inout VerifyReport) throws {
        guard fact.seq != .max else {
            report.add(Violation(seq: nil, kind: .unexpectedEntry,
                                 detail: "an entries key is not an 8-byte sequence number"))
            return
        }
        reportGap(before: fact.seq, into: &report)
        fact.violations.forEach { report.add($0) }
        // A leaf that does not decode is still hashed into the tree, so that one damaged leaf is not reported as a
        // rewritten tree (and checkpoints) for every entry after it.
        guard fact.hashed else {
            nextSeq = fact.seq + 1
            return
        }
        if fact.decoded { checkLinks(fact, into: &report) }
        applyEvent(fact, into: &report)
        try appendToTree(fact, into: &report)
        compareReachedCheckpoints(into: &report)
        remember(fact)
    }

    private func reportGap(before seq: UInt64, into report: inout VerifyReport) {
        guard seq > nextSeq else { return }
        let missing = seq - nextSeq == 1 ? "entry \(nextSeq) is missing"
                                         : "entries \(nextSeq) to \(seq - 1) are missing"
        report.add(Violation(seq: nextSeq, kind: .missingEntry, detail: missing))
    }

    /// The hash chain links and recordedAt never runs backwards.
    private func checkLinks(_ fact: EntryFacts, into report: inout VerifyReport) {
        if fact.previousHash != previousHash {
            report.add(Violation(seq: fact.seq, kind: .hashChain,
                                 detail: "the leaf does not link to the previous entry",
                                 expected: previousHash.hex, found: fact.previousHash.hex))
        }
        if fact.recordedAt < lastRecordedAt {
            report.add(Violation(seq: fact.seq, kind: .recordedAt, detail: "recordedAt runs backwards",
                                 expected: "≥ \(Timestamp.formatRFC3339(micros: lastRecordedAt))",
                                 found: Timestamp.formatRFC3339(micros: fact.recordedAt)))
        }
    }

    /// Appends the record hash to the recomputed tree and compares every stored hash it produces.
    private mutating func appendToTree(_ fact: EntryFacts, into report: inout VerifyReport) throws {
        var mismatches = [Violation]()
        let storedTree = storedTree
        // The workers' parent of (seq - 1, seq) is the first merge when the tree's last leaf is entry seq - 1.
        let parent = fact.seq > 0 && lastAppendedSeq == fact.seq - 1 ? fact.parentWithPrevious : nil
        lastAppendedSeq = fact.seq
        try tree.append(fact.recordHash, parentWithPrevious: parent) { index, hash in
            guard let stored = try storedTree.value(at: index), stored.count == 32 else {
                mismatches.append(Violation(seq: fact.seq, kind: .treeHash,
                                            detail: "stored tree hash \(index) is missing or not 32 bytes"))
                return
            }
            let storedHash = Hash(unsafeBytes: stored)
            if storedHash != hash {
                mismatches.append(Violation(seq: fact.seq, kind: .treeHash,
                                            detail: "stored tree hash \(index) differs from its recomputation",
                                            expected: hash.hex, found: storedHash.hex))
            }
        }
        mismatches.forEach { report.add($0) }
    }

    private mutating func compareReachedCheckpoints(into report: inout VerifyReport) {
        while let next = checkpoints.first, next.size <= UInt64(tree.size) {
            checkpoints.removeFirst()
            if next.size == UInt64(tree.size) { Self.compare(next, with: tree.rootHash(), into: &report) }
        }
    }

    /// What the next entries are checked against, and the index rows this entry implies.
    /// Applies an event entry to the grants in force: a read by a credential without a grant covering it, or an
    /// event that cannot follow the ones before it, is a violation.
    private mutating func applyEvent(_ fact: EntryFacts, into report: inout VerifyReport) {
        if let tag = fact.matterTag, !fact.isEvent { countRecord(tag, seq: fact.seq, into: &report) }
        guard let event = fact.event?.event else { return }
        if case .destroy(let destruction) = event { checkDestruction(destruction, seq: fact.seq, into: &report) }
        guard let problem = access.apply(event, seq: fact.seq) else { return }
        switch event {
        case .hold, .release, .destroy, .rotate:
            report.add(Violation(seq: fact.seq, kind: .retentionEvent, detail: problem))
        case .access, .export:
            report.add(Violation(seq: fact.seq, kind: .accessWithoutGrant, detail: problem))
        default:
            report.add(Violation(seq: fact.seq, kind: .accessEvent, detail: problem))
        }
    }

    /// A destroy entry states the matter's record entries exactly: their number and first and last seq.
    private func checkDestruction(_ destruction: AccessEvent.Destruction, seq: UInt64, into report: inout VerifyReport) {
        let span = spans[destruction.matter]
        let actual = span.map { "\($0.count) entries, seq \($0.first)–\($0.last)" } ?? "no entries"
        let stated = destruction.seqRange.map { "\(destruction.entries) entries, seq \($0.lowerBound)–\($0.upperBound)" }
            ?? "no entries"
        if actual != stated {
            report.add(Violation(seq: seq, kind: .destroyedMatter,
                                 detail: "the destroy entry does not state the matter's entries as the log holds them",
                                 expected: actual, found: stated))
        }
    }

    /// The matters that have record entries (one per matter).
    var mattersSeen: Set<Hash> { Set(spans.keys) }

    /// Destroyed matters as verify reports them, in destroy-entry order.
    var shreddedRanges: [ShreddedRange] {
        access.retention.destroyed.map { tag, record in
            ShreddedRange(matterTag: tag, entries: record.destruction.entries, seqRange: record.destruction.seqRange,
                          destroySeq: record.seq)
        }.sorted { $0.destroySeq < $1.destroySeq }
    }

    /// A record entry of a matter: counted, and refused once the matter is destroyed.
    private mutating func countRecord(_ tag: Hash, seq: UInt64, into report: inout VerifyReport) {
        if let destroyed = access.retention.destroyed[tag] {
            report.add(Violation(seq: seq, kind: .destroyedMatter,
                                 detail: "an entry was appended to a matter destroyed by entry \(destroyed.seq)"))
        }
        Self.extend(&spans[tag, default: (count: 0, first: seq, last: seq)], to: seq)  // one lookup, in place
    }

    private static func extend(_ span: inout (count: UInt64, first: UInt64, last: UInt64), to seq: UInt64) {
        span.count += 1
        span.last = seq
    }

    private mutating func remember(_ fact: EntryFacts) {
        previousHash = fact.recordHash
        if fact.seq == 0, fact.decoded { firstRecordedAt = fact.recordedAt }
        lastRecordedAt = max(lastRecordedAt, fact.recordedAt)
        expectedMatterRows.add(fact.matterRow)
        if fact.isEvent {
            eventCount += 1
            eventSeqs.append(fact.seq)
        }
        if fact.hasSource {
            sourced += 1
            expectedSourceRows.add(fact.sourceRow)
        }
        nextSeq = max(nextSeq, fact.seq + 1)
    }

    private static func compare(_ checkpoint: PendingCheckpoint, with root: Hash, into report: inout VerifyReport) {
        guard checkpoint.root == root else {
            let which = checkpoint.trusted ? "trusted" : "stored"
            report.add(Violation(seq: checkpoint.size == 0 ? nil : checkpoint.size - 1,
                                 kind: checkpoint.trusted ? .trustedCheckpoint : .checkpointRoot,
                                 detail: "the tree of \(checkpoint.size) entries does not have the root the \(which) "
                                     + "checkpoint signed: history was rewritten",
                                 expected: checkpoint.root.base64, found: root.base64))
            return
        }
        if !checkpoint.trusted { report.checkpointsChecked += 1 }
        // The newest verified checkpoint, the trusted one included: `--update-trusted` never moves backwards, even
        // when newer stored checkpoints were deleted.
        if checkpoint.size >= report.newestValidCheckpointSize {
            report.newestValidCheckpoint = checkpoint.note
            report.newestValidCheckpointSize = checkpoint.size
        }
    }
}
