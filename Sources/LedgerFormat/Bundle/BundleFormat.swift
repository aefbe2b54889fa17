/// Bundle v1 names and limits (docs/FORMAT.md, "Bundle v1").
public enum BundleFormat {
    public static let formatVersion = 1
    public static let formatName = "client-ledger-export-bundle"
    public static let manifest = "manifest.json"
    public static let checkpoint = "checkpoint.txt"
    public static let verifierKey = "verifier.key"
    public static let entries = "entries.jsonl"
    public static let privilegeLog = "privilege-log.csv"
    public static let report = "report.html"
    public static let readme = "README.txt"
    public static let consistency = "consistency.json"
    /// Added with access control: an optional member (`ledger export --include-access-log`), still format version 1.
    public static let accessLog = "access-log.jsonl"
    /// Added with retention: an optional member (holds, releases and destructions of the exported matters, and the
    /// leaves of a destroyed matter's entries), still format version 1.
    public static let retention = "retention.jsonl"
    public static let required = [manifest, checkpoint, verifierKey, entries, privilegeLog, report, readme]
    public static let allowed = Set(required + [consistency, accessLog, retention])
    public static let maxFileBytes: UInt64 = 64 << 20
    public static let maxTotalBytes: UInt64 = 512 << 20
    public static let redactedMarker = "[redacted]"
    public static let privilegeLogHeader = ["seq", "occurredAt", "matter", "author", "channel", "direction",
                                            "field", "reason", "description"]
    package static let privilegeLogMetadata = ["occurredAt", "matter", "author", "channel", "direction"]

    /// What the privilege log says about a withheld field: its kind only, never its value.
    package static func describe(_ field: String) -> String {
        switch field {
        case "client": return "client name or identifier withheld"
        case "subject": return "subject line of the communication withheld"
        case "summary": return "summary of what was communicated withheld"
        case "decisions": return "advice given and client decisions withheld"
        case "recipients": return "list of recipients withheld"
        case "attachments": return "names and digests of attached documents withheld"
        case "tags": return "internal classification tags withheld"
        case "sourceSystem", "sourceId": return "practice-management system reference withheld"
        case "privileged": return "privilege flag withheld"
        case "author": return "name of the staff member withheld"
        default: return field.hasPrefix("x-") ? "firm-specific field withheld" : "\(field) withheld"
        }
    }
}
