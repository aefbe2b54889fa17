import LedgerBundle
import LedgerFormat
import LedgerReport
import RecordFormats

/// Where a report's records come from: the ledger (decrypted) or a verified bundle (revealed fields only).
public enum ReportSource {
    /// Records of the ledger (the fields the report reads), filtered like `ledger list`.
    public static func records(from ledger: Ledger, filter: EntryFilter) throws -> [ReportRecord] {
        try ledger.reportRecords(matching: filter)
    }

    /// Each entry's revealed fields, from a bundle verified in a single read (`BundleVerifier.open`); seq = the
    /// entry's leaf index, redacted fields simply absent. Throws `bundleRejected` when any check failed. Reads no file.
    public static func records(from verified: VerifiedBundle,
                               filter: EntryFilter = EntryFilter()) throws -> [ReportRecord] {
        guard verified.isValid else { throw ReportError.bundleRejected(violations: verified.report.violations.count) }
        return verified.entries.map(record).filter { matches($0, filter) }
    }

    private static func record(_ entry: VerifiedBundle.Entry) -> ReportRecord {
        ReportRecord(seq: entry.index, fields: JSONObject(entry.fields.map { ($0.name, $0.value) }))
    }

    /// The filter's matter and occurredAt bounds (`EntryFilter.admits`, inclusive).
    private static func matches(_ record: ReportRecord, _ filter: EntryFilter) -> Bool {
        if let matter = filter.matter, record.fields["matter"]?.stringValue != matter { return false }
        return filter.admits(occurredAt: record.fields["occurredAt"])
    }
}
