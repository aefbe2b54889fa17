import LedgerFormat
import RecordFormats

/// A destroyed matter as the report shows it: its entries are counted but can never be read again.
public struct DestroyedMatterSummary: Sendable, Equatable {
    /// The matter number when the caller could name it (a `--matter` or a policy naming it), else "tag:" + 16 hex.
    public var matter: String
    public var entries: UInt64
    public var seqRange: ClosedRange<UInt64>?
    public var destroySeq: UInt64
    public var destroyedAt: Int64
    public var by: String
    public var reason: String

    public init(matter: String, entries: UInt64, seqRange: ClosedRange<UInt64>?, destroySeq: UInt64,
                destroyedAt: Int64, by: String, reason: String) {
        self.matter = matter
        self.entries = entries
        self.seqRange = seqRange
        self.destroySeq = destroySeq
        self.destroyedAt = destroyedAt
        self.by = by
        self.reason = reason
    }
}

extension CommunicationReport {
    /// The destroyed-matters table: what the report counted but could not read.
    func destroyedSections() -> [Section] {
        guard let destroyed, !destroyed.isEmpty else { return [] }
        let rows = destroyed.map { d in
            [d.matter, String(d.entries), d.seqRange.map { "\($0.lowerBound)–\($0.upperBound)" } ?? "-",
             Self.time(d.destroyedAt), "#\(d.destroySeq)", d.by, d.reason]
        }
        let total = destroyed.reduce(0) { $0 + $1.entries }
        return [Section(title: "DESTROYED MATTERS (\(total) entries counted, not readable: their keys were destroyed)",
                        header: ["MATTER", "ENTRIES", "SEQS", "DESTROYED", "ENTRY", "BY", "REASON"],
                        rows: rows, right: [1])]
    }

    func destroyedJSON() -> JSONValue {
        .array((destroyed ?? []).map { d in
            var members: [(String, JSONValue)] = [
                ("matter", .string(d.matter)), ("entries", .integer(Int64(d.entries))),
                ("destroySeq", .integer(Int64(d.destroySeq))),
                ("destroyedAt", .string(Timestamp.formatRFC3339(micros: d.destroyedAt))),
                ("by", .string(d.by)), ("reason", .string(d.reason)), ("readable", .bool(false)),
            ]
            if let range = d.seqRange {
                members.append(("firstSeq", .integer(Int64(range.lowerBound))))
                members.append(("lastSeq", .integer(Int64(range.upperBound))))
            }
            return .object(JSONObject(members))
        })
    }
}
