extension BundleVerifier {
    /// The keys of an entries.jsonl line (docs/FORMAT.md, "Bundle v1").
    package static let entryKeys: Set<String> = ["index", "leaf", "inclusionProof", "disclosures", "redacted"]

    /// One entries.jsonl line taken apart: each text is a range of `text` (the line itself, or an arena of the
    /// generic parser's strings). nil where the JSON had the wrong type.
    package struct EntryParts {
        /// The field, reason and digest of one redaction.
        package typealias Redaction = (field: Range<Int>, reason: Range<Int>, digest: Range<Int>)

        package var index: Int64
        package var leaf: Range<Int>?
        package var proof: [Range<Int>]?
        package var disclosures: [Range<Int>?]?
        package var redacted: [Redaction?]?
    }
}
