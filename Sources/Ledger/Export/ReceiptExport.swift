import LedgerFormat
import MerkleLog
import Transparency

/// `ledger export --receipts`: one c2sp.org/tlog-proof receipt per exported entry (docs/FORMAT.md, "Receipts").
extension BundleWriter {
    /// `receipts/<seq>.tlog-proof` for every entry of entries.jsonl: its index, the inclusion proof it already
    /// carries, `note` (the bundle's checkpoint.txt, byte for byte) and the leaf as the extra data. Stored, not
    /// deflated: each is well under a kilobyte plus the checkpoint, and zlib's setup would cost more than it saves.
    static func receiptMembers(_ entries: [BundleEntry], note: String) throws -> [ZipMember] {
        try entries.map { entry in
            let receipt = TlogProof(extra: entry.leaf, index: entry.seq, proof: entry.proof, checkpointNote: note)
            return try ZipMember.make(BundleFormat.receiptName(seq: entry.seq), Array(receipt.text.utf8),
                                      method: .none)
        }
    }

    /// README lines that only a bundle with receipts has.
    static let receiptsFileLine = """
        receipts/N.tlog-proof  one receipt per entry (c2sp.org/tlog-proof@v1): index N, inclusion proof, this
                           checkpoint with any witnesses' cosignatures, the entry's leaf as extra data

        """

    /// README step for the receipts, numbered after the access log's and retention's steps when there are any.
    static func receiptsStep(_ c: Context) -> String {
        "\(7 + (c.accessLog == nil ? 0 : 1) + (c.retention == nil ? 0 : 1))" + receiptsStepText
    }

    static let receiptsStepText = """
        . receipts/N.tlog-proof: the receipt's index is N and an entry of entries.jsonl; its checkpoint is
           checkpoint.txt byte for byte; its inclusion proof leads from SHA-256(0x00 || that entry's leaf) to the
           checkpoint's root; its extra data, if any, is that leaf. Check one alone with
           `ledger verify-receipt N.tlog-proof --verifier-key FIRM.key [--policy POLICY]`.

        """
}
