import Dispatch
import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import RecordFormats
import SignedNote
import Sodium

/// The indexes (matters, sources, matter keys, tree rows) compared with what the entries imply.
extension Ledger {
    /// Runs only when an index digest disagrees: looks every entry's rows up to name the damaged ones.
    func locateIndexDamage(_ txn: ReadTransaction, matters: Bool, sources: Bool,
                           into report: inout VerifyReport) throws {
        var located = 0
        let staged = try stagedSourceMap(txn)
        // read with pread, as by the scan (this second pass walks the structure again: it runs only on damage)
        let entries = ScanRows(try txn.scanCheckingStructure(of: [Store.entriesName])[0], batchSize: 256)
        while let row = try entries.current() {
            entries.advance()
            // (format 3: a row that is not a well-formed group was reported by the scan)
            let values = store.entryLayout == .onePerRow ? [row.value]
                : ((try? store.entryLayout.entries(key: row.key, value: row.value)) ?? []).map(\.value)
            for value in values {
                try locateIndexDamage(value, txn: txn, staged: staged, matters: matters, sources: sources,
                                      located: &located, into: &report)
            }
        }
        if located == 0 {
            report.add(Violation(seq: nil, kind: matters ? .matterIndex : .sourceIndex,
                                 detail: "the \(matters ? "matter" : "source") index holds rows that match no entry"))
        }
    }

    /// One stored entry's rows looked up (`locateIndexDamage`).
    private func locateIndexDamage(_ value: UnsafeRawBufferPointer, txn: ReadTransaction, staged: [Hash: UInt64],
                                   matters: Bool, sources: Bool, located: inout Int,
                                   into report: inout VerifyReport) throws {
        guard let (leafBytes, _) = try? StoredEntry.split(value), let leaf = try? Leaf.decode(leafBytes) else { return }
        var found = [Violation]()
        try checkIndexes(leaf, txn: txn, staged: staged) { kind, detail, expected, found_ in
            found.append(Violation(seq: leaf.seq, kind: kind, detail: detail, expected: expected, found: found_))
        }
        for violation in found where (violation.kind == .matterIndex && matters)
                                     || (violation.kind == .sourceIndex && sources) {
            report.add(violation)
            located += 1
        }
    }

    /// The leaf's rows in the matters and sources indexes exist and agree with it (the slow, per-entry form of the
    /// index check, used to name the damaged entries once the set digests disagree).
    func checkIndexes(_ leaf: Leaf, txn: ReadTransaction, staged: [Hash: UInt64],
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
                ?? staged[tag]
            if stored != leaf.seq {
                violation(.sourceIndex, "the source index does not point at this entry", String(leaf.seq),
                          stored.map(String.init) ?? "no row")
            }
        }
    }

    /// The staged source rows (format 2) by tag, for the slow path that names damaged entries.
    private func stagedSourceMap(_ txn: ReadTransaction) throws -> [Hash: UInt64] {
        guard let staged = store.openedStagedSources else { return [:] }
        var map = [Hash: UInt64]()
        for row in try stagedRows(txn, staged) { map[Hash(bytes: row.tag.bytes)!] = row.seq }
        return map
    }

    /// Row counts: with every entry's row present, equal counts mean there are no extra rows.
    func checkIndexCounts(_ txn: ReadTransaction, entries: Int, records: Int, sourced: Int,
                          into report: inout VerifyReport) throws {
        let matters = try txn.count(store.matters)
        if matters != records {
            report.add(Violation(seq: nil, kind: .matterIndex,
                                 detail: "the matter index has rows for entries that do not exist",
                                 expected: "\(records) rows", found: "\(matters) rows"))
        }
        let sources = try txn.count(store.sources) + (store.openedStagedSources.map { try txn.count($0) } ?? 0)
        if sources != sourced {
            report.add(Violation(seq: nil, kind: .sourceIndex,
                                 detail: "the source index has rows for entries that do not exist",
                                 expected: "\(sourced) rows", found: "\(sources) rows"))
        }
        let treeRows = try txn.count(store.tree)
        let expected = Int(storedHashCount(Int64(entries)))
        if treeRows != expected {
            report.add(Violation(seq: nil, kind: .treeHash,
                                 detail: "the tree has hashes for entries that do not exist (entries removed?)",
                                 expected: "\(expected) stored hashes", found: "\(treeRows)"))
        }
    }

    /// Every matter-key row belongs to a matter that has entries (or was granted before its first entry: its key is
    /// then a key pair), and every stored key sits on exactly one matter's key chain (`KeyDirectory`).
    func checkKeyRows(_ txn: ReadTransaction, mattersSeen: Set<Hash>, context: ScanContext,
                      into report: inout VerifyReport) throws {
        let orphans = context.keys.index.keys.filter { !mattersSeen.contains($0) && !context.keys.currentIsKeyPair($0) }
        if !orphans.isEmpty {
            report.add(Violation(seq: nil, kind: .matterKeyIndex,
                                 detail: "the matter-key index has \(orphans.count) row(s) for matters with no entries"))
        }
        for problem in context.keys.problems.sorted() {
            report.add(Violation(seq: nil, kind: .matterKey, detail: problem))
        }
    }

    /// The stored grants are exactly those the grant and revoke entries leave in force, and every sealed role secret
    /// and reader wrap belongs to one of them (so no key was slipped to a credential outside the log).
    func checkAccessRegistry(_ txn: ReadTransaction, expected: AccessState, into report: inout VerifyReport) throws {
        var stored = [String: AccessEvent.Grant]()
        var keys = Set<[UInt8]>()
        if let access = store.openedAccess {  // opened before the transaction began
            let cursor = try txn.cursor(access)
            defer { cursor.close() }
            var row = try cursor.first()
            while let current = row {
                row = try cursor.next()
                switch current.key.first {
                case UInt8(ascii: "c"):
                    if case .grant(let grant)? = try? AccessEvent.decode(Array(current.value)) {
                        stored[String(decoding: current.key.dropFirst(), as: UTF8.self)] = grant
                    } else {
                        report.add(Violation(seq: nil, kind: .accessRegistry, detail: "a stored grant does not decode"))
                    }
                case UInt8(ascii: "r") where current.key.count == 33, UInt8(ascii: "w") where current.key.count == 37:
                    keys.insert(Array(current.key[1..<33]))
                case UInt8(ascii: "h") where current.key.count == 41, UInt8(ascii: "d") where current.key.count == 33:
                    continue  // holds and destructions: checkRetentionRegistry
                default:
                    report.add(Violation(seq: nil, kind: .accessRegistry,
                                         detail: "the access database holds a row the engine never writes"))
                }
            }
        }
        if stored != expected.grants {
            let differing = Set(stored.keys).symmetricDifference(expected.grants.keys)
                .union(stored.keys.filter { stored[$0] != expected.grants[$0] }).sorted()
            report.add(Violation(seq: nil, kind: .accessRegistry,
                                 detail: "the stored grants differ from the grant and revoke entries",
                                 expected: "\(expected.grants.count) grants", found: "differs for "
                                     + differing.map { "'\($0)'" }.joined(separator: ", ")))
        }
        let granted = Set(expected.grants.values.map(\.publicKey))
        if !keys.isSubset(of: granted) {
            report.add(Violation(seq: nil, kind: .accessRegistry,
                                 detail: "keys are sealed to \(keys.subtracting(granted).count) credential(s) holding no grant"))
        }
    }

    /// The `events` index lists exactly the event entries' seqs, so `access log`, `access grants` and the report's
    /// access section (which read through it) see every event and nothing else.
    func checkEventIndex(_ txn: ReadTransaction, expected: [UInt64], into report: inout VerifyReport) throws {
        var stored = [UInt64]()
        if let events = store.openedEvents {  // opened before the transaction began
            let cursor = try txn.cursor(events)
            defer { cursor.close() }
            var row = try cursor.first()
            while let current = row {
                row = try cursor.next()
                guard let seq = UInt64(bigEndianBytes: current.key), current.value.isEmpty else {
                    report.add(Violation(seq: nil, kind: .eventIndex, detail: "an events index row is malformed"))
                    continue
                }
                stored.append(seq)
            }
        }
        guard stored != expected else { return }
        let missing = Set(expected).subtracting(stored).sorted(), extra = Set(stored).subtracting(expected).sorted()
        report.add(Violation(seq: missing.first ?? extra.first, kind: .eventIndex,
                             detail: "the events index does not list exactly the event entries",
                             expected: "\(expected.count) rows" + (missing.isEmpty ? "" : ", missing \(missing.prefix(5))"),
                             found: "\(stored.count) rows" + (extra.isEmpty ? "" : ", extra \(extra.prefix(5))")))
    }
}
