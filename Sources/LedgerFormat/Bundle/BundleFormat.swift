/// Bundle names and limits (docs/FORMAT.md, "Bundle v1" and "Bundle v2").
public enum BundleFormat {
    /// The version the exporter writes: 2, a manifest signed by the firm (manifest.note).
    public static let formatVersion = 2
    /// The first format: an unsigned manifest.json. Still read and verified, with a notice.
    public static let formatVersion1 = 1
    public static let formatName = "client-ledger-export-bundle"
    /// Bundle v1's unsigned manifest; never in a v2 bundle (manifest.note is the one source of truth).
    public static let manifest = "manifest.json"
    /// Bundle v2's manifest: a C2SP signed note by the checkpoint's key, `manifestHeader` then the canonical JSON.
    public static let manifestNote = "manifest.note"
    /// The first line of manifest.note's text: it has spaces, so it can never be a checkpoint's origin line.
    public static let manifestHeader = "client-ledger export manifest v2"
    /// What a verifier says of a v1 bundle, whose metadata nothing signs.
    public static let v1Notice = "bundle format 1: its metadata (reasons, profile, privilege log, report) is not signed"
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
    /// The files every bundle has, besides its manifest (manifest.json in v1, manifest.note in v2: exactly one).
    public static let required = [checkpoint, verifierKey, entries, privilegeLog, report, readme]
    public static let allowed = Set(required + [manifest, manifestNote, consistency, accessLog, retention])
    /// manifest.note's signed text: the header line, then the canonical manifest JSON on one line.
    public static func manifestText(json: [UInt8]) -> String {
        manifestHeader + "\n" + String(decoding: json, as: UTF8.self) + "\n"
    }
    /// Added with receipts: optional members `receipts/<seq>.tlog-proof` (`ledger export --receipts`), one
    /// c2sp.org/tlog-proof@v1 receipt per entry of entries.jsonl; the only names with a directory part.
    public static let receiptsDirectory = "receipts/"
    public static let receiptSuffix = ".tlog-proof"
    /// At most this many receipt members (entries.jsonl's 64 MiB hold fewer entries), each at most this size.
    public static let maxReceipts = 200_000
    public static let maxReceiptBytes: UInt64 = 256 << 10

    public static func receiptName(seq: UInt64) -> String { receiptsDirectory + String(seq) + receiptSuffix }

    /// The seq a receipt member's name gives, `receipts/<canonical decimal>.tlog-proof`; nil for any other name.
    public static func receiptSeq(name: String) -> UInt64? {
        guard name.hasPrefix(receiptsDirectory), name.hasSuffix(receiptSuffix) else { return nil }
        let digits = name.utf8.dropFirst(receiptsDirectory.utf8.count).dropLast(receiptSuffix.utf8.count)
        guard (1...19).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              digits.count == 1 || digits.first != 0x30, let seq = UInt64(String(decoding: digits, as: UTF8.self)),
              seq < UInt64(Int64.max) else { return nil }
        return seq
    }

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
