import LMDB
import LedgerFormat
import MerkleLog

/// One access entry for a bundle's access-log.jsonl: its seq, exact event leaf bytes and inclusion proof.
struct BundleAccessEntry {
    let seq: UInt64
    let leaf: [UInt8]
    var proof: [Hash]
}

extension Ledger {
    /// The access entries below `size` that read one of the exported matters (`tags`: the exported entries' and the
    /// destroyed exported matters') or every matter, seq order, each with its inclusion proof against `size`
    /// (docs/EXPORT.md, "Access log").
    func selectAccessEntries(for tags: Set<Hash>, size: UInt64, reader: any HashReader,
                             txn: ReadTransaction) throws -> [BundleAccessEntry] {
        var selected = [BundleAccessEntry]()
        for (seq, leaf) in try eventLeaves(below: size, txn: txn) {
            guard case .access(let access) = try accessEvent(seq, leaf) else { continue }
            // The bundle's rule: a read of every matter, or of at least one exported matter.
            guard access.allMatters || access.matters.contains(where: tags.contains) else { continue }
            let proof = try proveRecord(treeSize: Int64(size), index: Int64(seq), reader: reader)
            selected.append(BundleAccessEntry(seq: seq, leaf: leaf, proof: proof))
        }
        return selected
    }

    /// The event an event leaf records; one that does not decode is corruption.
    private func accessEvent(_ seq: UInt64, _ leaf: [UInt8]) throws -> AccessEvent {
        guard let decoded = try? leaf.withUnsafeBytes({ try EventLeaf.decode($0) }),
              let event = try? AccessEvent.decode(decoded.body) else {
            throw LedgerError.corrupt("entry \(seq): an event entry does not decode (run `ledger verify`)")
        }
        return event
    }

    /// The matter tags of the exported entries, read from their leaves (what a verifier compares against).
    func exportedMatterTags(_ entries: [BundleEntry]) throws -> Set<Hash> {
        Set(try entries.map { entry in
            do { return try Leaf.decode(entry.leaf).matterTag } catch {
                throw LedgerError.corrupt("entry \(entry.seq): \(error)")
            }
        })
    }

    /// The event leaves of seqs below `size`, copied out (a scan of the entries' first bytes; events are few).
    private func eventLeaves(below size: UInt64, txn: ReadTransaction) throws -> [(UInt64, [UInt8])] {
        var out = [(UInt64, [UInt8])]()
        try txn.forEachStoredEntry(store, from: 0) { seq, value in
            guard seq < size else { return false }
            if let (leaf, _) = try? StoredEntry.split(value), EventLeaf.isEvent(leaf) { out.append((seq, Array(leaf))) }
            return true
        }
        return out
    }
}
