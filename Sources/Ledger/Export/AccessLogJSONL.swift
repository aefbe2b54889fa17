import LedgerFormat
import Sodium

extension BundleWriter {
    /// access-log.jsonl (docs/FORMAT.md, "Bundle v1"): one line per access entry, seq order, in entries.jsonl's
    /// layout for `index`, `leaf` and `inclusionProof`.
    static func accessLogJSONL(_ entries: [BundleAccessEntry]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(entries.count * 1024)
        func ascii(_ s: String) { out.append(contentsOf: s.utf8) }
        for entry in entries {
            ascii(#"{"index":"#)
            ascii(String(entry.seq))
            ascii(#","leaf":""#)
            ascii(Base64.encode(entry.leaf))
            ascii(#"","inclusionProof":["#)
            ascii(entry.proof.map { "\"\($0.base64)\"" }.joined(separator: ","))
            ascii("]}\n")
        }
        return out
    }
}
