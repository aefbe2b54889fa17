import LMDB
import LedgerFormat
import MerkleLog

extension Ledger {
    /// The matters whose destroy entry the `events` index lists, read before the scan so that the entry checks know
    /// which keys are meant to be gone. The index itself is checked afterwards (`checkEventIndex`): a destroy entry
    /// left out of it makes its matter's entries fail, never pass.
    func destroyedTags(_ txn: ReadTransaction) throws -> Set<Hash> {
        guard let index = store.openedEvents else { return [] }
        let cursor = try txn.cursor(index)
        defer { cursor.close() }
        var tags = Set<Hash>()
        // A destroy body is canonical JSON, so it starts with its first key in sorted order: the many access entries
        // are passed over without being parsed (the scan decodes every event anyway).
        let destroyPrefix = Array(#"{"beforeRetentionEnd":"#.utf8)
        var row = try cursor.first()
        while let current = row {
            row = try cursor.next()
            guard let seq = UInt64(bigEndianBytes: current.key), let (leaf, _) = try txn.storedEntry(store, seq),
                  let event = try? EventLeaf.decode(leaf), event.body.starts(with: destroyPrefix),
                  case .destroy(let destruction)? = try? AccessEvent.decode(event.body)
            else { continue }
            tags.insert(destruction.matter)
        }
        return tags
    }

    /// The holds and destructions stored in the `access` database ("h" and "d" rows) are exactly those the entries
    /// leave in force, and meta `keyEpoch` counts the rotation entries.
    func checkRetentionRegistry(_ txn: ReadTransaction, expected: RetentionState, into report: inout VerifyReport) throws {
        var holds = [Hash: [UInt64]](), destroyed = [Hash: [UInt8]]()
        if let access = store.openedAccess {
            try readRetentionRows(txn, access, holds: &holds, destroyed: &destroyed, into: &report)
        }
        let expectedDestroyed = expected.destroyed.mapValues { $0.seq.bigEndianBytes + AccessEvent.destroy($0.destruction).encoded() }
        if holds != expected.holds {
            report.add(Violation(seq: nil, kind: .retentionRegistry,
                                 detail: "the stored legal holds differ from the hold and release entries",
                                 expected: "\(expected.holds.values.map(\.count).reduce(0, +)) holds in force",
                                 found: "\(holds.values.map(\.count).reduce(0, +))"))
        }
        if destroyed != expectedDestroyed {
            report.add(Violation(seq: nil, kind: .retentionRegistry,
                                 detail: "the stored destructions differ from the destroy entries",
                                 expected: "\(expectedDestroyed.count) destroyed matters", found: "\(destroyed.count)"))
        }
        let epoch = try keyEpoch(txn)
        if epoch != expected.keyEpoch {
            report.add(Violation(seq: nil, kind: .retentionRegistry,
                                 detail: "meta keyEpoch does not count the rotation entries",
                                 expected: String(expected.keyEpoch), found: String(epoch)))
        }
        report.scrubPending = try txn.meta(store, .scrubPending) != nil
    }

    private func readRetentionRows(_ txn: ReadTransaction, _ access: Database, holds: inout [Hash: [UInt64]],
                                   destroyed: inout [Hash: [UInt8]], into report: inout VerifyReport) throws {
        let cursor = try txn.cursor(access)
        defer { cursor.close() }
        var row = try cursor.seek(atLeast: [UInt8(ascii: "d")])
        while let current = row, current.key.first == UInt8(ascii: "d") {
            row = try cursor.next()
            guard current.key.count == 33 else { continue }  // the access registry check reports malformed rows
            destroyed[Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: current.key[1...]))] = Array(current.value)
        }
        row = try cursor.seek(atLeast: [UInt8(ascii: "h")])
        while let current = row, current.key.first == UInt8(ascii: "h") {
            row = try cursor.next()
            guard current.key.count == 41,
                  let seq = UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: current.key[33...])) else { continue }
            let tag = Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: current.key[1..<33]))
            holds[tag, default: []].append(seq)
            if case .hold(let hold)? = try? AccessEvent.decode(Array(current.value)), hold.matter == tag { continue }
            report.add(Violation(seq: seq, kind: .retentionRegistry, detail: "a stored hold does not decode, or names "
                                 + "another matter than its row"))
        }
    }
}
