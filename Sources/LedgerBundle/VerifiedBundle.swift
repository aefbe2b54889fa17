import RecordFormats

/// A bundle read once and checked: the report and, from the same bytes, what each entry reveals. Whoever reports on
/// these values (`ledger report --bundle`) reports on exactly what was verified, never on a second read of the file.
public struct VerifiedBundle: Sendable {
    /// One line of entries.jsonl.
    public struct Entry: Sendable {
        /// The entry's leaf index: its seq in the firm's log.
        public let index: UInt64
        /// The revealed fields as (name, value), in the order of the entry's disclosures. Withheld fields are absent.
        public let fields: [(name: String, value: JSONValue)]
    }

    public let report: BundleReport
    /// The entries in line order. A line too malformed to have an index is left out (the report names it).
    public let entries: [Entry]

    /// Every check holds: only then do the entries mean what they say.
    public var isValid: Bool { report.isValid }

    init(report: BundleReport, facts: [EntryFacts]) {
        self.report = report
        entries = facts.compactMap { fact in fact.seq.map { Entry(index: $0, fields: fact.revealed) } }
    }
}
