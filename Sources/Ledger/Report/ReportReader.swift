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
            _ = try store.access()  // opened outside the transaction: destroyed matters are listed there
            return try store.environment.read { txn in
                let destroyed = try destroyedMatters(access: store.openedAccess, txn: txn)
                var out = [ReportRecord]()
                var batch = [SealedEntry]()
                batch.reserveCapacity(Self.reportBatchSize)
                func flush() throws {
                    out += try parallelMap(batch, minimumChunk: 256) { try reportRecord($0, filter: filter) }
                        .compactMap { $0 }
                    batch.removeAll(keepingCapacity: true)
                }
                for seq in try seqs(matter: filter.matter, principal: principal, txn: txn) {
                    // A destroyed matter's entries cannot be opened: `destroyedSummaries` counts them instead.
                    if !destroyed.isEmpty, let tag = try recordTag(seq, txn: txn), destroyed[tag] != nil { continue }
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

    /// The destroyed matters the principal may read (only `matter` when given), for the report's count of what it
    /// cannot read. `names` are matter numbers that label a destroyed matter when one of them has its tag.
    public func destroyedSummaries(matter: String?, names: [String]) throws -> [DestroyedMatterSummary] {
        let principal = try requireReader()
        let labels = Dictionary((names + (matter.map { [$0] } ?? [])).compactMap { name in
            principal.matterTag(name).map { ($0, name) }
        }, uniquingKeysWith: { a, _ in a })
        let wanted = matter.flatMap { principal.matterTag($0) }
        let access = try store.access()
        return try store.environment.read { txn in
            try destroyedMatters(access: access, txn: txn).filter { tag, _ in
                principal.mayRead(tag: tag) && (wanted.map { $0 == tag } ?? true)
            }.map { tag, record in
                DestroyedMatterSummary(matter: labels[tag] ?? "tag:" + tag.hex.prefix(16), entries: record.destruction.entries,
                                       seqRange: record.destruction.seqRange, destroySeq: record.seq,
                                       destroyedAt: record.destroyedAt, by: record.destruction.by,
                                       reason: record.destruction.reason)
            }.sorted { $0.destroySeq < $1.destroySeq }
        }
    }
}
