import LMDB
import LedgerFormat
import LedgerReport
import LedgerSupport
import MerkleLog
import RecordFormats
import Sodium

extension Ledger {
    /// The fields a report reads (docs/REPORT.md); the others are neither parsed nor kept.
    /// Entries copied and opened per round.
    static let reportBatchSize = 16_384

    static let reportFields: Set<String> = ["matter", "author", "channel", "direction", "kind", "urgency", "occurredAt",
                                            "inReplyTo", "corrects", "followUpDue", "sourceId"]

    /// The report's records, read for speed: the stored entries are copied in one read transaction, then opened on
    /// every core. Each ciphertext must hash to its leaf's ciphertext digest and open with its associated data (the
    /// leaf commits to the exact bytes, so the record is the one appended); only the report's fields are parsed.
    /// Same selection and errors as `entries(matching:)`.
    func reportRecords(matching filter: EntryFilter) throws -> [ReportRecord] {
        let ring = try requireKeys()
        struct Raw: Sendable {
            var seq: UInt64
            var leaf: Leaf
            var ciphertext: [UInt8]
            var key: SecretBytes
        }
        func open(_ raw: Raw) throws -> ReportRecord? {
            guard Hash.sha256(raw.ciphertext) == raw.leaf.ciphertextHash else {
                throw LedgerError.corrupt("entry \(raw.seq): the ciphertext does not match its leaf")
            }
            let payload = try raw.ciphertext.withUnsafeBytes { try openPayload(seq: raw.seq, leaf: raw.leaf, ciphertext: $0, key: raw.key) }
            var members = [(String, JSONValue)]()
            for (name, value) in zip(raw.leaf.fieldNames, payload.values) where Self.reportFields.contains(name) {
                do { members.append((name, try JSONParser.parse(value))) } catch {
                    throw LedgerError.corrupt("entry \(raw.seq): field '\(name)' is not valid JSON")
                }
            }
            let record = ReportRecord(seq: raw.seq, fields: JSONObject(members))
            if filter.from != nil || filter.to != nil {
                guard let t = record.fields["occurredAt"]?.stringValue.flatMap(Timestamp.parseRFC3339),
                      filter.from.map({ t >= $0 }) ?? true, filter.to.map({ t <= $0 }) ?? true else { return nil }
            }
            return record
        }
        // Copy a batch of stored entries, open it on every core, repeat: memory stays bounded by the batch size.
        return try LedgerError.wrap("read entries") {
            try store.environment.read { txn in
                var out = [ReportRecord]()
                var batch = [Raw]()
                batch.reserveCapacity(Self.reportBatchSize)
                func flush() throws {
                    out.append(contentsOf: try parallelMap(batch, minimumChunk: 256, open).compactMap { $0 })
                    batch.removeAll(keepingCapacity: true)
                }
                for seq in try seqs(matter: filter.matter, ring: ring, txn: txn) {
                    guard let (rawLeaf, ciphertext) = try txn.storedEntry(store, seq) else {
                        throw LedgerError.corrupt("the matter index names entry \(seq), which does not exist")
                    }
                    let leaf: Leaf
                    do { leaf = try Leaf.decode(rawLeaf) } catch { throw LedgerError.corrupt("entry \(seq): \(error)") }
                    batch.append(Raw(seq: seq, leaf: leaf, ciphertext: Array(ciphertext),
                                     key: try matterKey(id: leaf.keyID, ring: ring, txn: txn)))
                    if batch.count == Self.reportBatchSize { try flush() }
                }
                try flush()
                return out
            }
        }
    }
}
