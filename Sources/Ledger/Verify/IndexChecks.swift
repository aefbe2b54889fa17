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
    /// The matter-key index (matter tag → key id), small enough to hold: one row per matter.
    func loadMatterKeyIndex(_ txn: ReadTransaction) throws -> [Hash: UInt32] {
        var index = [Hash: UInt32]()
        let cursor = try txn.cursor(store.matterKeys)
        defer { cursor.close() }
        var pair = try cursor.first()
        while let row = pair {
            if row.key.count == 32, let id = UInt32(bigEndianBytes: row.value) {
                index[Hash(unsafeBytes: row.key)] = id
            }
            pair = try cursor.next()
        }
        return index
    }

    /// Runs only when an index digest disagrees: looks every entry's rows up to name the damaged ones.
    func locateIndexDamage(_ txn: ReadTransaction, matters: Bool, sources: Bool,
                           into report: inout VerifyReport) throws {
        var located = 0
        // read with pread, as by the scan (this second pass walks the structure again: it runs only on damage)
        let entries = ScanRows(try txn.scanCheckingStructure(of: [Store.entriesName])[0], batchSize: 256)
        while let row = try entries.current() {
            entries.advance()
            guard let (leafBytes, _) = try? StoredEntry.split(row.value),
                  let leaf = try? Leaf.decode(leafBytes) else { continue }
            var found = [Violation]()
            try checkIndexes(leaf, txn: txn) { kind, detail, expected, found_ in
                found.append(Violation(seq: leaf.seq, kind: kind, detail: detail, expected: expected, found: found_))
            }
            for violation in found where (violation.kind == .matterIndex && matters)
                                         || (violation.kind == .sourceIndex && sources) {
                report.add(violation)
                located += 1
            }
        }
        if located == 0 {
            report.add(Violation(seq: nil, kind: matters ? .matterIndex : .sourceIndex,
                                 detail: "the \(matters ? "matter" : "source") index holds rows that match no entry"))
        }
    }

    /// The leaf's rows in the matters and sources indexes exist and agree with it (the slow, per-entry form of the
    /// index check, used to name the damaged entries once the set digests disagree).
    func checkIndexes(_ leaf: Leaf, txn: ReadTransaction,
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
                violation(.sourceIndex, "the source index does not point at this entry", String(leaf.seq),
                          stored.map(String.init) ?? "no row")
            }
        }
    }

    /// Row counts: with every entry's row present, equal counts mean there are no extra rows.
    func checkIndexCounts(_ txn: ReadTransaction, entries: Int, sourced: Int, into report: inout VerifyReport) throws {
        let matters = try txn.count(store.matters)
        if matters != entries {
            report.add(Violation(seq: nil, kind: .matterIndex,
                                 detail: "the matter index has rows for entries that do not exist",
                                 expected: "\(entries) rows", found: "\(matters) rows"))
        }
        let sources = try txn.count(store.sources)
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

    /// Every matter-key row belongs to a matter that has entries, and every such matter has exactly one sealed key.
    func checkKeyRows(_ txn: ReadTransaction, mattersSeen: Set<Hash>, context: ScanContext,
                              into report: inout VerifyReport) throws {
        let orphans = context.matterKeys.keys.filter { !mattersSeen.contains($0) }.count
        if orphans > 0 {
            report.add(Violation(seq: nil, kind: .matterKeyIndex,
                                 detail: "the matter-key index has \(orphans) row(s) for matters with no entries"))
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
            report.add(Violation(seq: nil, kind: .matterKey,
                                 detail: "the sealed keys do not correspond one to one with the matter-key index"
                                     + (missing.isEmpty ? "" : " (no sealed key for key id \(missing))"),
                                 expected: "\(indexedIDs.count) sealed keys", found: "\(sealedIDs.count)"))
        }
    }
}
