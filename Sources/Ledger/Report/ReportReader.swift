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
        let principal = try requireReader()
        // Copy a batch of stored entries, open it on every core, repeat: memory stays bounded by the batch size.
        return try LedgerError.wrap("read entries") {
            try store.environment.read { txn in
                var out = [ReportRecord]()
                var batch = [SealedEntry]()
                batch.reserveCapacity(Self.reportBatchSize)
                func flush() throws {
                    out += try parallelMap(batch, minimumChunk: 256) { try reportRecord($0, filter: filter) }
                        .compactMap { $0 }
                    batch.removeAll(keepingCapacity: true)
                }
                for seq in try seqs(matter: filter.matter, principal: principal, txn: txn) {
                    guard let sealed = try sealedEntry(seq, principal: principal, txn: txn) else { continue }
                    batch.append(sealed)
                    if batch.count == Self.reportBatchSize { try flush() }
                }
                try flush()
                return out
            }
        }
    }

    /// The report's fields of one entry, or nil when the time range excludes it.
    private func reportRecord(_ sealed: SealedEntry, filter: EntryFilter) throws -> ReportRecord? {
        guard Hash.sha256(sealed.ciphertext) == sealed.leaf.ciphertextHash else {
            throw LedgerError.corrupt("entry \(sealed.seq): the ciphertext does not match its leaf")
        }
        let payload = try sealed.ciphertext.withUnsafeBytes {
            try openPayload(seq: sealed.seq, leaf: sealed.leaf, ciphertext: $0, key: sealed.key)
        }
        var members = [(String, JSONValue)]()
        for (name, value) in zip(sealed.leaf.fieldNames, payload.values) where Self.reportFields.contains(name) {
            do { members.append((name, try JSONParser.parse(value))) } catch {
                throw LedgerError.corrupt("entry \(sealed.seq): field '\(name)' is not valid JSON")
            }
        }
        let record = ReportRecord(seq: sealed.seq, fields: JSONObject(members))
        return filter.admits(occurredAt: record.fields["occurredAt"]) ? record : nil
    }
}
