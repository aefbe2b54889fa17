import LedgerFormat
import MerkleLog
import Transparency

/// A bundle's receipts (`receipts/<seq>.tlog-proof`, docs/FORMAT.md "Receipts"): when there are any, exactly one
/// per entry of entries.jsonl, each a strict c2sp.org/tlog-proof@v1 whose index is its entry's, whose checkpoint is
/// checkpoint.txt byte for byte, whose extra data (if any) is its entry's leaf, and whose proof leads from the record
/// hash of the entry's leaf (recomputed from entries.jsonl, never taken from the receipt) to the verified root.
enum ReceiptCheck {
    static func check(_ files: [String: [UInt8]], facts: [EntryFacts], checkpointNote: [UInt8],
                      tree: ConsistencyCheck.Tree?, into report: inout BundleReport) {
        let receipts = files.compactMap { name, bytes in
            BundleFormat.receiptSeq(name: name).map { (seq: $0, name: name, bytes: bytes) }
        }.sorted { $0.seq < $1.seq }
        guard !receipts.isEmpty else { return }
        report.receipts = receipts.count
        var entries = [UInt64: EntryFacts]()
        for fact in facts { if let seq = fact.seq { entries[seq] = fact } }
        let named = Set(receipts.map(\.seq))
        for fact in facts {
            guard let seq = fact.seq, !named.contains(seq) else { continue }
            report.fail(.receipt, "\(BundleFormat.receiptName(seq: seq)) is missing: a bundle with receipts has one "
                        + "for every entry", entry: seq, line: fact.line)
        }
        for receipt in receipts {
            let problem = check(receipt.bytes, seq: receipt.seq, entry: entries[receipt.seq],
                                checkpointNote: checkpointNote, tree: tree)
            if let problem { report.fail(.receipt, "\(receipt.name): \(problem)", entry: receipt.seq) }
        }
    }

    /// What is wrong with one receipt, or nil.
    private static func check(_ bytes: [UInt8], seq: UInt64, entry: EntryFacts?, checkpointNote: [UInt8],
                              tree: ConsistencyCheck.Tree?) -> String? {
        guard let entry else { return "entries.jsonl has no entry \(seq)" }
        let receipt: TlogProof
        do { receipt = try TlogProof(parsing: bytes) } catch { return "not a c2sp.org/tlog-proof@v1 receipt (\(error))" }
        guard receipt.index == seq else { return "its index is \(receipt.index), not \(seq)" }
        guard receipt.checkpointNote.utf8.elementsEqual(checkpointNote) else {
            return "its checkpoint is not checkpoint.txt (a receipt in a bundle proves against the bundle's checkpoint)"
        }
        // Reported with the entry when its leaf did not decode; with the checkpoint when it did not open.
        guard let hash = entry.recordHash, let tree else { return nil }
        if let extra = receipt.extra, recordHash(extra) != hash { return "its extra data is not the entry's leaf" }
        do {
            try checkRecord(proof: receipt.proof, treeSize: Int64(tree.size), root: tree.root, index: Int64(seq),
                            recordHash: hash)
        } catch {
            return "its inclusion proof does not lead from the entry's leaf to the checkpoint's root (\(error))"
        }
        return nil
    }
}
