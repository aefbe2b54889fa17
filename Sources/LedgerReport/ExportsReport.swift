import LedgerFormat
import RecordFormats

/// One recorded export as the report shows it (ledger reports, master key).
public struct ExportedBundle: Sendable, Equatable {
    public var seq: UInt64
    public var at: Int64
    public var credential: String
    public var matters: [String]
    public var entries: UInt64
    public var profile: String
    /// SHA-256 (hex) of the recipient's key; nil when the bundle went out in clear.
    public var recipient: String?
    public var manifest: String

    public init(seq: UInt64, at: Int64, credential: String, matters: [String], entries: UInt64, profile: String,
                recipient: String?, manifest: String) {
        self.seq = seq
        self.at = at
        self.credential = credential
        self.matters = matters
        self.entries = entries
        self.profile = profile
        self.recipient = recipient
        self.manifest = manifest
    }
}

extension CommunicationReport {
    /// What went to whom: every recorded export of the reported matters.
    func exportSections() -> [Section] {
        guard let exports else { return [] }
        let rows = exports.map { e in
            [String(e.seq), Self.time(e.at), e.credential, e.matters.joined(separator: ", "), String(e.entries),
             e.profile, e.recipient.map { String($0.prefix(16)) } ?? "in clear", String(e.manifest.prefix(16))]
        }
        return [Section(title: "EXPORTS (bundles given away, as recorded in the ledger)",
                        header: ["SEQ", "AT", "WHO", "MATTERS", "ENTRIES", "PROFILE", "RECIPIENT", "MANIFEST"],
                        rows: rows, right: [0, 4], empty: "no exports recorded")]
    }

    func exportsJSON() -> JSONValue {
        .array((exports ?? []).map { e in
            .object(JSONObject([
                ("seq", .integer(Int64(e.seq))), ("at", .string(Timestamp.formatRFC3339(micros: e.at))),
                ("credential", .string(e.credential)), ("matters", .array(e.matters.map { .string($0) })),
                ("entries", .integer(Int64(e.entries))), ("profile", .string(e.profile)),
                ("recipient", e.recipient.map { .string($0) } ?? .null), ("manifestSHA256", .string(e.manifest)),
            ]))
        })
    }
}
