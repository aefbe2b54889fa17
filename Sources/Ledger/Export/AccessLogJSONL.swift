import LedgerFormat
import Sodium

extension BundleWriter {
    /// access-log.jsonl (docs/FORMAT.md, "Bundle v1"): one line per access entry, seq order, in entries.jsonl's
    /// layout for `index`, `leaf` and `inclusionProof`.
    static func accessLogJSONL(_ entries: [BundleAccessEntry]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(entries.count * 1024)
        for entry in entries {
            writeLineHead(seq: entry.seq, leaf: entry.leaf, proof: entry.proof, into: &out)
            out.append(contentsOf: "}\n".utf8)
        }
        return out
    }
}
