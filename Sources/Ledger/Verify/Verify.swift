import Dispatch
import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import RecordFormats
import SignedNote
import Sodium

/// What `verify` checks beyond the stored data itself.
public struct VerifyOptions: Sendable {
    /// A verifier key held outside the ledger (text form). Without it, the ledger's own key is used.
    public var pinnedVerifierKey: String?
    /// A checkpoint note held outside the ledger (last night's, or an insurer's copy).
    public var trustedCheckpoint: String?
    /// Also decrypt every entry and check every disclosure (needs the unlocked ledger).
    public var deep = false
    /// Entries per parallel chunk. Two chunks of entries are held in memory (about 3.5 MiB each at 1.7 KB per
    /// entry); larger chunks leave the cores idle less often at the ends of chunks.
    public var chunkSize = 2048

    public init(pinnedVerifierKey: String? = nil, trustedCheckpoint: String? = nil, deep: Bool = false) {
        self.pinnedVerifierKey = pinnedVerifierKey
        self.trustedCheckpoint = trustedCheckpoint
        self.deep = deep
    }
}

/// What the sequential pass needs from one entry, computed in parallel.
private struct EntryFacts {
    var seq: UInt64
    var recordHash = Hash.zero
    var previousHash = Hash.zero
    var recordedAt: Int64 = .min
    var hasSource = false
    /// The leaf bytes could be cut out of the stored entry (and `recordHash` is their hash).
    var hashed = false
    var decoded = false
    /// Keyed digests of the index rows this entry should have (see IndexSetDigest).
    var matterRow = Hash.zero
    var sourceRow = Hash.zero
    var matterTag: Hash?
    var violations: [Violation] = []
}

/// A stored checkpoint that verified, waiting for the scan to reach its size.
private struct PendingCheckpoint {
    let size: UInt64
    let root: Hash
    let note: String
    let trusted: Bool
}

extension Ledger {
    /// Re-hashes every stored byte and checks every link (docs/VERIFY.md). Violations are reported, not thrown;
    /// errors that stop verification (unreadable storage, malformed pinned key) are thrown.
    public func verify(_ options: VerifyOptions = VerifyOptions()) throws -> VerifyReport {
        let started = DispatchTime.now()
        var report = VerifyReport()
        report.origin = origin
        report.deep = options.deep
        report.verifierKeyPinned = options.pinnedVerifierKey != nil
        let ring: KeyRing? = options.deep ? try requireKeys() : nil
        let key = try verifierKey(options, into: &report)
        var pending = [PendingCheckpoint]()
        if let trusted = options.trustedCheckpoint, let key {
            if let checkpoint = checkTrustedCheckpoint(trusted, key: key, into: &report) { pending.append(checkpoint) }
        }
        try LedgerError.wrap("verify") {
            var timer = PhaseTimer(logger: Self.logger)
            defer { Self.logger.debug("verify", metadata: ["phases": "\(timer)"]) }
            try store.environment.read { txn in
                // LMDB trusts its file: a damaged page below a root would be followed through the map
                // (SIGSEGV/SIGBUS). Every page of this snapshot is walked with pread first, so damage is an error
                // and not a crash; the entries' pages are checked as the scan reads them (with pread too).
                let scans = try txn.scanCheckingStructure(of: [Store.entriesName, Store.sourcesName, Store.treeName])
                timer.lap("structure")
                if let key { pending += try storedCheckpoints(txn, key: key, into: &report) }
                pending.sort { $0.size < $1.size }
                timer.lap("checkpoints")
                let firstRecordedAt = try scan(txn, entries: scans[0], sources: scans[1], tree: scans[2], options: options, ring: ring,
                                               pending: pending, into: &report)
                timer.lap("scan")
                try checkMetadata(txn, firstRecordedAt: firstRecordedAt, into: &report)
                if let ring { try checkMatterKeys(txn, ring: ring, into: &report) }
            }
        }
        report.ledgerBytes = dataFileSize()
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        if !report.isIntact { report.newestValidCheckpoint = nil }
        return report
    }

    // MARK: - Keys and checkpoints

    /// The key that checkpoints must verify with: the pinned one if given (a mismatch with the ledger's own is a violation).
    private func verifierKey(_ options: VerifyOptions, into report: inout VerifyReport) throws -> NoteVerifierKey? {
        let stored = try? NoteVerifierKey(text: storedVerifierKey)
        if stored == nil {
            report.add(Violation(seq: nil, kind: .metadata, detail: "the ledger's stored verifier key does not parse"))
        }
        let fileText = try? String(contentsOfFile: (directory as NSString).appendingPathComponent(Self.verifierKeyFileName), encoding: .utf8)
        if let fileText, fileText.trimmingCharacters(in: .newlines) != storedVerifierKey {
            report.add(Violation(seq: nil, kind: .verifierKey, detail: "\(Self.verifierKeyFileName) differs from the key in the ledger's metadata"))
        }
        guard let pinnedText = options.pinnedVerifierKey else { return stored }
        let pinned: NoteVerifierKey
        do {
            pinned = try NoteVerifierKey(text: pinnedText.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw LedgerError.invalidArgument("the pinned verifier key is malformed: \(error)")
        }
        if pinned.text != storedVerifierKey {
            report.add(Violation(seq: nil, kind: .verifierKey, detail: "the ledger's verifier key is not the pinned key",
                                 expected: pinned.text, found: storedVerifierKey))
        }
        return pinned
    }

    private func checkTrustedCheckpoint(_ note: String, key: NoteVerifierKey, into report: inout VerifyReport) -> PendingCheckpoint? {
        do {
            let checkpoint = try openCheckpoint(note, key: key)
            report.trustedCheckpointSize = checkpoint.size
            return PendingCheckpoint(size: checkpoint.size, root: checkpoint.root, note: note, trusted: true)
        } catch {
            report.add(Violation(seq: nil, kind: .trustedCheckpoint, detail: "the trusted checkpoint does not verify: \(error)"))
            return nil
        }
    }

    private func storedCheckpoints(_ txn: ReadTransaction, key: NoteVerifierKey, into report: inout VerifyReport) throws -> [PendingCheckpoint] {
        var result = [PendingCheckpoint]()
        let cursor = try txn.cursor(store.checkpoints)
        defer { cursor.close() }
        var pair = try cursor.first()
        while let row = pair {
            pair = try cursor.next()
            guard let size = UInt64(bigEndianBytes: row.key) else {
                report.add(Violation(seq: nil, kind: .checkpointSignature, detail: "a checkpoints key is not 8 bytes"))
                continue
            }
            let note = String(decoding: row.value, as: UTF8.self)
            do {
                let checkpoint = try openCheckpoint(note, key: key)
                guard checkpoint.size == size else {
                    report.add(Violation(seq: nil, kind: .checkpointSignature, detail: "checkpoint stored under size \(size) names another size",
                                         expected: String(size), found: String(checkpoint.size)))
                    continue
                }
                result.append(PendingCheckpoint(size: size, root: checkpoint.root, note: note, trusted: false))
            } catch {
                report.add(Violation(seq: nil, kind: .checkpointSignature, detail: "checkpoint at size \(size) does not verify: \(error)"))
            }
        }
        return result
    }

    // MARK: - The scan

    /// Entries scanned between releases of the mapped pages (those of the matters index, the only rows the scan
    /// reads through the map; each 4 KiB page touched may map a large folio of up to 2 MiB).
    private static let releaseInterval = 256

    /// Returns when entry 0 was recorded (nil without a decodable entry 0).
    private func scan(_ txn: ReadTransaction, entries: DatabaseScan, sources: DatabaseScan, tree treeScan: DatabaseScan,
                      options: VerifyOptions, ring: KeyRing?, pending: [PendingCheckpoint], into report: inout VerifyReport) throws -> Int64? {
        var tree = TreeBuilder()
        var nextSeq: UInt64 = 0
        var previousHash = Hash.zero
        var lastRecordedAt = Int64.min
        var firstRecordedAt: Int64?
        var sourced = 0
        var checkpoints = pending[...]
        var scannedSinceRelease = 0
        let context = try ScanContext(runKey: SecureRandom.bytes(PrefixedSHA256.prefixByteCount), matterKeys: loadMatterKeyIndex(txn),
                                      ledgerID: ledgerID, deep: ring != nil)
        var expectedMatterRows = IndexSetDigest(), expectedSourceRows = IndexSetDigest()
        var mattersSeen = Set<Hash>()  // one per matter, not per entry
        var checkNanos: UInt64 = 0, foldNanos: UInt64 = 0  // "check" = time the fold waited for the workers
        defer { Self.logger.debug("verify scan", metadata: ["wait": "\(checkNanos / 1_000_000)ms", "fold": "\(foldNanos / 1_000_000)ms"]) }
        // Checkpoints of the empty tree: the loop below only compares at sizes it reaches after an append.
        while let zero = checkpoints.first, zero.size == 0 {
            checkpoints.removeFirst()
            compare(zero, with: Hash.emptyTree, into: &report)
        }
        // The entries, source index rows and tree hashes are copied out of the file (never mapped: see
        // DatabaseScan), the first two into two batches, one being checked while the next is read. The index rows
        // are read alongside the entries, so that their keyed digests are computed by the same workers, while the
        // entries are checked, instead of in a pass of their own afterwards.
        let matterRows = try IndexRows(txn, store.matters)  // sorted duplicates: read with a cursor
        let storedTree = StoredTreeHashes(treeScan)
        var storedMatterRows = IndexSetDigest(), storedSourceRows = IndexSetDigest()
        /// The next chunk of stored entries and source rows (copies in a batch, valid until the chunk after next
        /// is read) and matter rows (views into the map, valid for this read transaction).
        var batches = (RowBatch(), RowBatch())
        func nextChunk() throws -> ScanChunk {
            batches = (batches.1, batches.0)  // the other batch's chunk has been checked
            batches.0.removeAll()
            var chunk = ScanChunk(batch: batches.0)
            let count = try entries.next(options.chunkSize, into: batches.0)
            chunk.entries.reserveCapacity(count)
            for row in batches.0.rows {
                chunk.entries.append((UInt64(bigEndianBytes: row.key), row.value))
                report.bytesHashed += row.value.count
            }
            _ = try sources.next(options.chunkSize, into: batches.0)
            chunk.sourceRows = batches.0.rows[count...]
            chunk.matterRows = try matterRows.next(options.chunkSize)
            return chunk
        }
        /// Folds one chunk's facts, in seq order, into the chain, the tree, the checkpoints and the index digests.
        func fold(_ facts: [EntryFacts]) throws {
            for fact in facts {
                guard fact.seq != .max else {
                    report.add(Violation(seq: nil, kind: .unexpectedEntry, detail: "an entries key is not an 8-byte sequence number"))
                    continue
                }
                if fact.seq > nextSeq {
                    let missing = fact.seq - nextSeq == 1 ? "entry \(nextSeq) is missing" : "entries \(nextSeq) to \(fact.seq - 1) are missing"
                    report.add(Violation(seq: nextSeq, kind: .missingEntry, detail: missing))
                }
                fact.violations.forEach { report.add($0) }
                // A leaf that does not decode is still hashed into the tree, so that one damaged leaf is not
                // reported as a rewritten tree (and checkpoints) for every entry after it.
                guard fact.hashed else { nextSeq = fact.seq + 1; continue }
                if fact.decoded, fact.previousHash != previousHash {
                    report.add(Violation(seq: fact.seq, kind: .hashChain, detail: "the leaf does not link to the previous entry",
                                         expected: previousHash.hex, found: fact.previousHash.hex))
                }
                if fact.decoded, fact.recordedAt < lastRecordedAt {
                    report.add(Violation(seq: fact.seq, kind: .recordedAt, detail: "recordedAt runs backwards",
                                         expected: "≥ \(Timestamp.formatRFC3339(micros: lastRecordedAt))",
                                         found: Timestamp.formatRFC3339(micros: fact.recordedAt)))
                }
                try appendToTree(&tree, fact: fact, stored: storedTree, into: &report)
                while let next = checkpoints.first, next.size <= UInt64(tree.size) {
                    checkpoints.removeFirst()
                    if next.size == UInt64(tree.size) { compare(next, with: tree.rootHash(), into: &report) }
                }
                previousHash = fact.recordHash
                if fact.seq == 0, fact.decoded { firstRecordedAt = fact.recordedAt }
                lastRecordedAt = max(lastRecordedAt, fact.recordedAt)
                expectedMatterRows.add(fact.matterRow)
                if let tag = fact.matterTag { mattersSeen.insert(tag) }
                if fact.hasSource {
                    sourced += 1
                    expectedSourceRows.add(fact.sourceRow)
                }
                nextSeq = max(nextSeq, fact.seq + 1)
            }
        }
        // Pipeline: the workers check chunk k+1 while this thread folds chunk k (the fold is sequential); then
        // this thread helps check chunk k+1 until it is done.
        var running: ChunkCheck? = ChunkCheck.start(try nextChunk(), ledger: self, ring: ring, context: context)
        while let check = running {
            let upcoming = try nextChunk()
            let waitStart = DispatchTime.now().uptimeNanoseconds
            let (checked, lastValue) = try check.finish()
            let facts = checked.facts
            storedMatterRows.add(checked.matterRows)
            storedSourceRows.add(checked.sourceRows)
            let foldStart = DispatchTime.now().uptimeNanoseconds
            checkNanos += foldStart - waitStart
            running = ChunkCheck.start(upcoming, ledger: self, ring: ring, context: context)
            scannedSinceRelease += facts.count
            if scannedSinceRelease >= Self.releaseInterval, let pointer = lastValue {
                store.environment.releaseMappedPages(containing: pointer)  // constant memory: mapped pages do not pile up in RSS
                scannedSinceRelease = 0
            }
            try fold(facts)
            foldNanos += DispatchTime.now().uptimeNanoseconds - foldStart
        }
        report.entries = UInt64(tree.size)
        report.root = tree.rootHash()
        for beyond in checkpoints where beyond.size > UInt64(tree.size) {
            report.add(Violation(seq: nil, kind: beyond.trusted ? .trustedCheckpoint : .checkpointBeyondLog,
                                 detail: "a \(beyond.trusted ? "trusted" : "stored") checkpoint names \(beyond.size) entries but the ledger holds \(tree.size): entries were removed, or the ledger was replaced by an older copy"))
        }
        Self.logger.debug("verify entries scanned", metadata: ["hwm": "\((ProcessMemory.peakResidentBytes() ?? 0) >> 20)M"])
        try checkIndexCounts(txn, entries: Int(tree.size), sourced: sourced, into: &report)
        try checkKeyRows(txn, mattersSeen: mattersSeen, context: context, into: &report)
        if storedMatterRows != expectedMatterRows || storedSourceRows != expectedSourceRows {
            try locateIndexDamage(txn, matters: storedMatterRows != expectedMatterRows, sources: storedSourceRows != expectedSourceRows,
                                  into: &report)
        }
        return firstRecordedAt
    }

    /// The matter-key index (matter tag → key id), small enough to hold: one row per matter.
    private func loadMatterKeyIndex(_ txn: ReadTransaction) throws -> [Hash: UInt32] {
        var index = [Hash: UInt32]()
        let cursor = try txn.cursor(store.matterKeys)
        defer { cursor.close() }
        var pair = try cursor.first()
        while let row = pair {
            if row.key.count == 32, let id = UInt32(bigEndianBytes: row.value) { index[Hash(unsafeBytes: row.key)] = id }
            pair = try cursor.next()
        }
        return index
    }

    /// Runs only when an index digest disagrees: looks every entry's rows up to name the damaged ones.
    private func locateIndexDamage(_ txn: ReadTransaction, matters: Bool, sources: Bool, into report: inout VerifyReport) throws {
        var located = 0
        // read with pread, as by the scan (this second pass walks the structure again: it runs only on damage)
        let entries = ScanRows(try txn.scanCheckingStructure(of: [Store.entriesName])[0], batchSize: 256)
        while let row = try entries.current() {
            entries.advance()
            guard let (leafBytes, _) = try? StoredEntry.split(row.value), let leaf = try? Leaf.decode(leafBytes) else { continue }
            var found = [Violation]()
            try checkIndexes(leaf, txn: txn) { kind, detail, expected, found_ in
                found.append(Violation(seq: leaf.seq, kind: kind, detail: detail, expected: expected, found: found_))
            }
            for violation in found where (violation.kind == .matterIndex && matters) || (violation.kind == .sourceIndex && sources) {
                report.add(violation)
                located += 1
            }
        }
        if located == 0 {
            report.add(Violation(seq: nil, kind: matters ? .matterIndex : .sourceIndex,
                                 detail: "the \(matters ? "matter" : "source") index holds rows that match no entry"))
        }
    }

    private func compare(_ checkpoint: PendingCheckpoint, with root: Hash, into report: inout VerifyReport) {
        if checkpoint.root == root {
            if !checkpoint.trusted { report.checkpointsChecked += 1 }
            // The newest verified checkpoint, the trusted one included: `--update-trusted` never moves backwards,
            // even when newer stored checkpoints were deleted.
            if checkpoint.size >= report.newestValidCheckpointSize {
                report.newestValidCheckpoint = checkpoint.note
                report.newestValidCheckpointSize = checkpoint.size
            }
        } else {
            report.add(Violation(seq: checkpoint.size == 0 ? nil : checkpoint.size - 1,
                                 kind: checkpoint.trusted ? .trustedCheckpoint : .checkpointRoot,
                                 detail: "the tree of \(checkpoint.size) entries does not have the root the \(checkpoint.trusted ? "trusted" : "stored") checkpoint signed: history was rewritten",
                                 expected: checkpoint.root.base64, found: root.base64))
        }
    }

    /// Appends a record hash to the recomputed tree and compares every stored hash it produces.
    private func appendToTree(_ tree: inout TreeBuilder, fact: EntryFacts, stored storedTree: StoredTreeHashes,
                              into report: inout VerifyReport) throws {
        var mismatches = [Violation]()
        try tree.append(fact.recordHash) { index, hash in
            let stored = try storedTree.value(at: index)
            guard let stored, stored.count == 32 else {
                mismatches.append(Violation(seq: fact.seq, kind: .treeHash, detail: "stored tree hash \(index) is missing or not 32 bytes"))
                return
            }
            let storedHash = Hash(unsafeBytes: stored)
            if storedHash != hash {
                mismatches.append(Violation(seq: fact.seq, kind: .treeHash, detail: "stored tree hash \(index) differs from its recomputation",
                                            expected: hash.hex, found: storedHash.hex))
            }
        }
        mismatches.forEach { report.add($0) }
    }

    /// Everything that can be checked about one entry on its own: leaf, ciphertext digest, indexes, and (deep) contents.
    fileprivate func checkEntry(_ seq: UInt64?, _ value: UnsafeRawBufferPointer, ring: KeyRing?, context: ScanContext,
                                worker: Int) throws -> EntryFacts {
        guard let seq else { return EntryFacts(seq: .max) }
        var facts = EntryFacts(seq: seq)
        func violation(_ kind: Violation.Kind, _ detail: String, expected: String? = nil, found: String? = nil) {
            facts.violations.append(Violation(seq: seq, kind: kind, detail: detail, expected: expected, found: found))
        }
        guard let (leafBytes, ciphertext) = try? StoredEntry.split(value) else {
            violation(.leafMalformed, "the stored entry is truncated")
            return facts
        }
        facts.hashed = true
        facts.recordHash = recordHash(leafBytes)
        guard let leaf = LeafView(leafBytes) else {
            // LeafView accepts exactly what Leaf.decode accepts: decode again only to name the error.
            do { _ = try Leaf.decode(leafBytes) } catch {
                violation(.leafMalformed, "the leaf does not decode: \(error)")
                return facts
            }
            violation(.leafMalformed, "the leaf does not decode")
            return facts
        }
        facts.decoded = true
        facts.previousHash = leaf.previousHash
        facts.recordedAt = leaf.recordedAt
        facts.hasSource = leaf.sourceTag != nil
        if leaf.seq != seq { violation(.leafSequence, "the leaf names another position", expected: String(seq), found: String(leaf.seq)) }
        if !FastJSON.bytesEqual(leaf.ledgerID, context.ledgerID) {
            violation(.ledgerID, "the leaf belongs to another ledger", expected: Hex.encode(context.ledgerID), found: Hex.encode(leaf.ledgerID))
        }
        let digest = Hash.sha256(ciphertext)
        if digest != leaf.ciphertextHash {
            violation(.ciphertextDigest, "the ciphertext does not match the leaf's digest", expected: leaf.ciphertextHash.hex, found: digest.hex)
        }
        facts.matterTag = leaf.matterTag
        facts.matterRow = context.rowDigest(domain: IndexSetDigest.matterDomain, key: leaf.matterTag, seq: seq, worker: worker)
        if let tag = leaf.sourceTag {
            facts.sourceRow = context.rowDigest(domain: IndexSetDigest.sourceDomain, key: tag, seq: seq, worker: worker)
        }
        if let keyID = context.matterKeys[leaf.matterTag], keyID == leaf.keyID {} else {
            violation(.matterKeyIndex, "the matter-key index disagrees with the leaf's key id", expected: String(leaf.keyID),
                      found: context.matterKeys[leaf.matterTag].map(String.init) ?? "no row")
        }
        if let ring {
            try checkContents(leaf, ciphertext: ciphertext, ring: ring, scratch: context.scratches[worker]) { kind, detail, expected, found in
                violation(kind, detail, expected: expected, found: found)
            }
        }
        return facts
    }

    /// The leaf's rows in the matters and sources indexes exist and agree with it (the slow, per-entry form of the
    /// index check, used to name the damaged entries once the set digests disagree).
    private func checkIndexes(_ leaf: Leaf, txn: ReadTransaction,
                              violation: (Violation.Kind, String, String?, String?) -> Void) throws {
        let seqKey = leaf.seq.bigEndianBytes
        let cursor = try txn.cursor(store.matters)
        defer { cursor.close() }
        let row = try cursor.seek(key: leaf.matterTag.bytes, valueAtLeast: seqKey)
        if row.map({ Array($0.key) != leaf.matterTag.bytes || Array($0.value) != seqKey }) ?? true {
            violation(.matterIndex, "the matter index has no row for this entry", nil, nil)
        }
        if let tag = leaf.sourceTag {
            let stored = try txn.get(store.sources, key: tag.bytes).flatMap { UInt64(bigEndianBytes: $0) }
            if stored != leaf.seq {
                violation(.sourceIndex, "the source index does not point at this entry", String(leaf.seq), stored.map(String.init) ?? "no row")
            }
        }
    }

    /// Row counts: with every entry's row present, equal counts mean there are no extra rows.
    private func checkIndexCounts(_ txn: ReadTransaction, entries: Int, sourced: Int, into report: inout VerifyReport) throws {
        let matters = try txn.count(store.matters)
        if matters != entries {
            report.add(Violation(seq: nil, kind: .matterIndex, detail: "the matter index has rows for entries that do not exist",
                                 expected: "\(entries) rows", found: "\(matters) rows"))
        }
        let sources = try txn.count(store.sources)
        if sources != sourced {
            report.add(Violation(seq: nil, kind: .sourceIndex, detail: "the source index has rows for entries that do not exist",
                                 expected: "\(sourced) rows", found: "\(sources) rows"))
        }
        let treeRows = try txn.count(store.tree)
        let expected = Int(storedHashCount(Int64(entries)))
        if treeRows != expected {
            report.add(Violation(seq: nil, kind: .treeHash, detail: "the tree has hashes for entries that do not exist (entries removed?)",
                                 expected: "\(expected) stored hashes", found: "\(treeRows)"))
        }
    }

    /// Every matter-key row belongs to a matter that has entries, and every such matter has exactly one sealed key.
    private func checkKeyRows(_ txn: ReadTransaction, mattersSeen: Set<Hash>, context: ScanContext,
                              into report: inout VerifyReport) throws {
        let orphans = context.matterKeys.keys.filter { !mattersSeen.contains($0) }.count
        if orphans > 0 {
            report.add(Violation(seq: nil, kind: .matterKeyIndex, detail: "the matter-key index has \(orphans) row(s) for matters with no entries"))
        }
        var sealedIDs = Set<UInt32>()
        let cursor = try txn.cursor(store.keys)  // one row per matter
        defer { cursor.close() }
        var pair = try cursor.first()
        while let row = pair {
            if let id = UInt32(bigEndianBytes: row.key) { sealedIDs.insert(id) }
            pair = try cursor.next()
        }
        let indexedIDs = Set(context.matterKeys.values)
        if sealedIDs != indexedIDs || indexedIDs.count != context.matterKeys.count {
            let missing = indexedIDs.subtracting(sealedIDs).sorted().map(String.init).joined(separator: ", ")
            report.add(Violation(seq: nil, kind: .matterKey, detail: "the sealed keys do not correspond one to one with the matter-key index"
                                 + (missing.isEmpty ? "" : " (no sealed key for key id \(missing))"),
                                 expected: "\(indexedIDs.count) sealed keys", found: "\(sealedIDs.count)"))
        }
    }

    /// Deep: every sealed matter key unwraps with the master key.
    private func checkMatterKeys(_ txn: ReadTransaction, ring: KeyRing, into report: inout VerifyReport) throws {
        let cursor = try txn.cursor(store.keys)
        defer { cursor.close() }
        var pair = try cursor.first()
        while let row = pair {
            if let id = UInt32(bigEndianBytes: row.key) {
                if (try? ring.unwrapMatterKey(row.value, ledgerID: ledgerID, keyID: id)) == nil {
                    report.add(Violation(seq: nil, kind: .matterKey, detail: "sealed matter key \(id) does not unwrap"))
                }
            } else {
                report.add(Violation(seq: nil, kind: .matterKey, detail: "a keys database key is not 4 bytes"))
            }
            pair = try cursor.next()
        }
    }
}

/// Per-run state shared by the scan's workers (read-only, except what each worker index owns).
private final class ScanContext: @unchecked Sendable {
    // @unchecked: immutable after init; the per-participant arrays are indexed only by their own participant.
    let matterKeys: [Hash: UInt32]
    let ledgerID: [UInt8]
    /// Deep only: one scratch per participant of a `ChunkCheck` (the workers, then the scanning thread).
    let scratches: [DeepScratch]
    /// SHA-256 with the run key absorbed, one per participant.
    private let keyed: [PrefixedSHA256]

    /// `runKey`: fresh random bytes per run, chosen after the files are fixed, so nobody can build index rows
    /// that collide.
    init(runKey: [UInt8], matterKeys: [Hash: UInt32], ledgerID: [UInt8], deep: Bool) {
        self.matterKeys = matterKeys
        self.ledgerID = ledgerID
        scratches = deep ? (0...availableCores).map { _ in DeepScratch(ledgerID: ledgerID) } : []
        keyed = (0...availableCores).map { _ in runKey.withUnsafeBytes { PrefixedSHA256(prefix: $0) } }
    }

    /// SHA-256(run key || domain || key || value): a PRF of one index row (fixed-length inputs). The run key fills
    /// the first block, absorbed once per run; the rest is assembled on the stack.
    func rowDigest(domain: UInt8, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, worker: Int) -> Hash {
        withUnsafeTemporaryAllocation(byteCount: 1 + key.count + value.count, alignment: 8) { message in
            message[0] = domain
            if let base = key.baseAddress { (message.baseAddress! + 1).copyMemory(from: base, byteCount: key.count) }
            if let base = value.baseAddress { (message.baseAddress! + 1 + key.count).copyMemory(from: base, byteCount: value.count) }
            return keyed[worker].hash(UnsafeRawBufferPointer(message))
        }
    }

    /// The row digest of (tag, big-endian seq): the row a leaf implies in the matters or sources index.
    func rowDigest(domain: UInt8, key: Hash, seq: UInt64, worker: Int) -> Hash {
        withUnsafeBytes(of: seq.bigEndian) { value in key.withUnsafeBytes { rowDigest(domain: domain, key: $0, value: value, worker: worker) } }
    }
}

/// XOR of keyed row digests: equal for two sets of unique rows only if the sets are equal (except with
/// probability 2^-256), because every row's digest is unpredictable without the run key. Lets the verifier
/// compare an index with the leaves by two sequential scans instead of one random lookup per entry.
struct IndexSetDigest: Equatable {
    static let matterDomain: UInt8 = 0x4d  // "M"
    static let sourceDomain: UInt8 = 0x53  // "S"

    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    mutating func add(_ hash: Hash) {
        hash.withUnsafeBytes { raw in
            words.0 ^= raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            words.1 ^= raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            words.2 ^= raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            words.3 ^= raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        }
    }

    /// Adds every row of another digest (the union of disjoint row sets).
    mutating func add(_ other: IndexSetDigest) {
        words.0 ^= other.words.0
        words.1 ^= other.words.1
        words.2 ^= other.words.2
        words.3 ^= other.words.3
    }

    static func == (a: IndexSetDigest, b: IndexSetDigest) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }
}

/// Stored entries (copies, in `batch`) and index rows (views into the map) read together, checked by the
/// workers as one piece of work.
private struct ScanChunk {
    /// Holds the entries' bytes until the chunk has been checked.
    let batch: RowBatch
    var entries: [(seq: UInt64?, value: UnsafeRawBufferPointer)] = []
    var matterRows: [Cursor.Pair] = []
    var sourceRows: ArraySlice<RowBatch.Row> = []

    init(batch: RowBatch) { self.batch = batch }

    var isEmpty: Bool { entries.isEmpty && matterRows.isEmpty && sourceRows.isEmpty }
    /// A pointer into the map, to release the pages read so far.
    var lastMappedValue: UnsafeRawPointer? {
        matterRows.last?.value.baseAddress
    }
}

/// What the workers found in one chunk: its entries' facts (in seq order) and its index rows' keyed digests.
private struct CheckedChunk {
    var facts: [EntryFacts]
    var matterRows = IndexSetDigest()
    var sourceRows = IndexSetDigest()
}

/// Reads the rows of an index database in order, a chunk at a time (views into the map).
private final class IndexRows {
    private let cursor: Cursor
    private var pair: Cursor.Pair?

    init(_ txn: ReadTransaction, _ db: Database) throws {
        cursor = try txn.cursor(db)
        pair = try cursor.first()
    }

    deinit { cursor.close() }

    func next(_ count: Int) throws -> [Cursor.Pair] {
        var rows = [Cursor.Pair]()
        while let row = pair, rows.count < count {
            rows.append(row)
            pair = try cursor.next()
        }
        return rows
    }
}

/// The rows of a `DatabaseScan` one at a time (copies, read a batch at a time): a row is valid until the
/// next call of `current()` after `advance()`.
private final class ScanRows {
    private let scan: DatabaseScan
    private let batchSize: Int
    private let batch = RowBatch()
    private var next = 0

    init(_ scan: DatabaseScan, batchSize: Int) {
        self.scan = scan
        self.batchSize = batchSize
    }

    /// The current row, refilling the batch when it is used up; nil after the last.
    func current() throws -> RowBatch.Row? {
        if next == batch.rows.count {
            batch.removeAll()
            next = 0
            guard try scan.next(batchSize, into: batch) > 0 else { return nil }
        }
        return batch.rows[next]
    }

    func advance() { next += 1 }
}

/// The stored tree hashes, read in index order: the fold asks for them in increasing order (the order
/// TreeBuilder emits them), so each is the next row or missing, without a lookup from the root.
private final class StoredTreeHashes {
    private let rows: ScanRows

    init(_ scan: DatabaseScan) {
        rows = ScanRows(scan, batchSize: 1024)
    }

    /// The value stored under `index` (as `txn.get` would return it; valid until the next call), or nil. Rows
    /// whose keys are not 8 bytes are passed over: no index names them (the row count check reports extra rows).
    func value(at index: Int64) throws -> UnsafeRawBufferPointer? {
        let wanted = UInt64(index)
        while let row = try rows.current() {
            guard let key = UInt64(bigEndianBytes: row.key), key >= wanted else {
                rows.advance()
                continue
            }
            return key == wanted ? row.value : nil
        }
        return nil
    }
}

/// One chunk being checked (`SharedBatches`): by the worker threads while the scanning thread folds the previous
/// chunk, then by the scanning thread too. Entries go out 8 at a time, index rows 64 at a time.
private final class ChunkCheck: @unchecked Sendable {
    // @unchecked: result slot i is written only by the participant that took item i, digest slot p only by
    // participant p, and both are read only after `SharedBatches.finish` has waited for every participant.
    private let chunk: ScanChunk
    private let ledger: Ledger
    private let ring: KeyRing?
    private let context: ScanContext
    private let results: UnsafeMutableBufferPointer<EntryFacts>
    /// Each participant's keyed digests of the index rows it hashed.
    private let digests: UnsafeMutableBufferPointer<(IndexSetDigest, IndexSetDigest)>
    private var batches: SharedBatches?
    private static let entryBatch = 8, rowBatch = 64

    private init(_ chunk: ScanChunk, ledger: Ledger, ring: KeyRing?, context: ScanContext) {
        self.chunk = chunk
        self.ledger = ledger
        self.ring = ring
        self.context = context
        results = .allocate(capacity: chunk.entries.count)
        results.initialize(repeating: EntryFacts(seq: 0))
        digests = .allocate(capacity: SharedBatches.participants)
        digests.initialize(repeating: (IndexSetDigest(), IndexSetDigest()))
    }

    deinit {
        results.deinitialize()
        results.deallocate()
        digests.deinitialize()
        digests.deallocate()
    }

    /// Starts the workers on `chunk` (nil when it is empty). Items: entries, then matter rows, then source rows.
    static func start(_ chunk: ScanChunk, ledger: Ledger, ring: KeyRing?, context: ScanContext) -> ChunkCheck? {
        guard !chunk.isEmpty else { return nil }
        let check = ChunkCheck(chunk, ledger: ledger, ring: ring, context: context)
        let entries = chunk.entries.count
        let total = entries + chunk.matterRows.count + chunk.sourceRows.count
        check.batches = SharedBatches(count: total, nextBatch: { next in
            next < entries ? next..<min(entries, next + entryBatch) : next..<(next + rowBatch)
        }, work: { [weak check] participant, items in  // weak: the batches must not keep their owner alive
            try check?.check(items, participant: participant)
        })
        return check
    }

    /// Helps until every item is taken, waits for the workers, and returns the chunk's findings (facts in seq
    /// order) and a pointer into the map.
    func finish() throws -> (CheckedChunk, UnsafeRawPointer?) {
        try batches!.finish()
        var checked = CheckedChunk(facts: Array(results))
        for (matters, sources) in digests {
            checked.matterRows.add(matters)
            checked.sourceRows.add(sources)
        }
        return (checked, chunk.lastMappedValue)
    }

    /// Checks `items` as participant `p` (its own scratch and keyed hash).
    private func check(_ items: Range<Int>, participant p: Int) throws {
        let entries = chunk.entries.count, matters = chunk.matterRows.count
        for i in items {
            if i < entries {
                let entry = chunk.entries[i]
                results[i] = try ledger.checkEntry(entry.seq, entry.value, ring: ring, context: context, worker: p)
            } else if i < entries + matters {
                let row = chunk.matterRows[i - entries]
                digests[p].0.add(context.rowDigest(domain: IndexSetDigest.matterDomain, key: row.key, value: row.value,
                                                   worker: p))
            } else {
                let row = chunk.sourceRows[chunk.sourceRows.startIndex + i - entries - matters]
                digests[p].1.add(context.rowDigest(domain: IndexSetDigest.sourceDomain, key: row.key, value: row.value,
                                                   worker: p))
            }
        }
    }
}
