import LedgerFormat
import LedgerSupport
import MerkleLog
import Sodium

extension BundleWriter {
    /// access-log.jsonl (docs/FORMAT.md, "Bundle v1"): one line per access entry, seq order, in entries.jsonl's
    /// layout for `index`, `leaf` and `inclusionProof`.
    static func accessLogJSONL(_ entries: [BundleAccessEntry]) -> [UInt8] {
        proofLinesJSONL(entries.map { ($0.seq, $0.leaf, $0.proof) })
    }

    /// `{"index","leaf","inclusionProof"}` lines, one per leaf (access-log.jsonl and retention.jsonl share it).
    static func proofLinesJSONL(_ lines: [(seq: UInt64, leaf: [UInt8], proof: [Hash])]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(lines.count * 1024)
        for line in lines {
            writeLineHead(seq: line.seq, leaf: line.leaf, proof: line.proof, into: &out)
            out.append(contentsOf: "}\n".utf8)
        }
        return out
    }
}

extension BundleWriter {
    /// retention.jsonl (docs/FORMAT.md, "Bundle v1"): one line per hold, release or destroy event and per record leaf
    /// of a destroyed matter, seq order, in access-log.jsonl's layout.
    static func retentionJSONL(_ lines: [BundleRetentionLine]) -> [UInt8] {
        proofLinesJSONL(lines.map { ($0.seq, $0.leaf, $0.proof) })
    }

    /// report.html's section on the exported matters that were destroyed; empty when none was.
    static func destroyedSection(_ c: Context) -> String {
        guard !c.destroyed.isEmpty else { return "" }
        var h = "<h2>Destroyed matters</h2>\n<p>These matters' keys were destroyed: their entries can never be "
            + "decrypted again. The bundle holds only their leaves and inclusion proofs (retention.jsonl).</p>\n<ul>\n"
        for d in c.destroyed {
            let name = c.mattersShown ? html(d.matter) : BundleFormat.redactedMarker
            let range = d.destruction.seqRange.map { ", seq \($0.lowerBound)–\($0.upperBound)" } ?? ""
            h += "<li>\(name): destroyed on \(html(Timestamp.formatRFC3339(micros: d.recordedAt))) at entry "
                + "#\(d.seq): \(html(d.destruction.reason)); \(d.destruction.entries) entries\(range), "
                + "contents unrecoverable</li>\n"
        }
        return h + "</ul>\n"
    }

    /// README lines that only a bundle with retention.jsonl has.
    static let retentionFileLine = """
        retention.jsonl    legal holds, releases and destructions of these matters, and the leaves of a destroyed
                           matter's entries (contents unrecoverable): index, leaf, inclusionProof

        """
    /// README step for retention.jsonl, numbered after the access log's step when there is one.
    static func retentionStep(_ c: Context) -> String {
        "\(c.accessLog == nil ? 7 : 8)" + retentionStepText
    }

    static let retentionStepText = """
        . retention.jsonl: each leaf is an event leaf whose JSON body is a "hold", "release" or "destroy" event
           of these matters, or a record leaf of a destroyed matter; it names its own index and this bundle's
           ledger id, indexes ascend, and its inclusion proof checks as in step 3. Each destroy event's matter has
           exactly "entries" record leaves here, from "firstSeq" to "lastSeq", and none in entries.jsonl.

        """
}
