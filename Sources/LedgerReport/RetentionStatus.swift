import Foundation
import LedgerFormat
import RecordFormats

/// What the storage side knows of one matter.
public struct RetentionFacts: Sendable {
    /// Nil when unknown (a destroyed matter whose number the policy does not name).
    public var matter: String?
    /// The matter's keyed tag, 64 hex digits (always known).
    public var tagHex: String
    /// The values of the `tags` field over the matter's records.
    public var recordTags: Set<String>
    /// Record entries of the matter.
    public var entries: Int
    /// Holds in force.
    public var holds: [RetentionHold]
    /// The destruction of the matter's keys, if they were destroyed.
    public var destroyed: RetentionDestruction?

    public init(matter: String?, tagHex: String, recordTags: Set<String>, entries: Int, holds: [RetentionHold],
                destroyed: RetentionDestruction?) {
        self.matter = matter
        self.tagHex = tagHex
        self.recordTags = recordTags
        self.entries = entries
        self.holds = holds
        self.destroyed = destroyed
    }
}

/// A legal hold in force: the seq of its hold entry, when (µs) and by whom it was placed, and why.
public struct RetentionHold: Sendable, Equatable {
    public var seq: UInt64
    public var placedAt: Int64
    public var by: String
    public var reason: String

    public init(seq: UInt64, placedAt: Int64, by: String, reason: String) {
        self.seq = seq
        self.placedAt = placedAt
        self.by = by
        self.reason = reason
    }
}

/// A matter's keys destroyed: the seq of the destruction entry, when (µs), by whom, why, and whether it came before
/// the end of the retention period.
public struct RetentionDestruction: Sendable, Equatable {
    public var seq: UInt64
    public var at: Int64
    public var by: String
    public var reason: String
    public var beforeRetentionEnd: Bool

    public init(seq: UInt64, at: Int64, by: String, reason: String, beforeRetentionEnd: Bool) {
        self.seq = seq
        self.at = at
        self.by = by
        self.reason = reason
        self.beforeRetentionEnd = beforeRetentionEnd
    }
}

/// One matter's retention status at a given time (docs/RETENTION.md, "`ledger retention status`").
public struct RetentionStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        case open, retained, held, eligible, destroyed
    }

    public var matter: String?
    public var tagHex: String
    public var entries: Int
    public var closedAt: Int64?
    public var period: RetentionPeriod
    /// Why `period` applies: "matter", "tag 'NAME'" or "default".
    public var basis: String
    /// closedAt + period: the last instant of retention; nil while open (no closedAt).
    public var retainUntil: Int64?
    public var holds: [RetentionHold]
    public var destroyed: RetentionDestruction?
    /// destroyed > held (any hold in force) > open (no closedAt) > retained (now ≤ retainUntil) > eligible.
    public var state: State

    public var eligible: Bool { state == .eligible }

    /// Evaluates one matter at time `now` (µs). A matter becomes eligible strictly after `retainUntil`
    /// (at `retainUntil + 1 µs`): `retainUntil` itself is still inside the retention period.
    public static func evaluate(_ facts: RetentionFacts, policy: RetentionPolicy, now: Int64) -> RetentionStatus {
        let (period, basis) = policy.period(matter: facts.matter, recordTags: facts.recordTags)
        let closedAt = facts.matter.flatMap { policy.closed[$0] }
        let retainUntil = closedAt.map { period.end(from: $0) }
        return RetentionStatus(
            matter: facts.matter, tagHex: facts.tagHex, entries: facts.entries, closedAt: closedAt, period: period,
            basis: basis, retainUntil: retainUntil, holds: facts.holds, destroyed: facts.destroyed,
            state: state(facts, retainUntil: retainUntil, now: now))
    }

    /// The precedence rule: destroyed > held > open > retained > eligible.
    private static func state(_ facts: RetentionFacts, retainUntil: Int64?, now: Int64) -> State {
        if facts.destroyed != nil { return .destroyed }
        if !facts.holds.isEmpty { return .held }
        guard let retainUntil else { return .open }
        // Eligible only strictly after the last instant of retention.
        return now > retainUntil ? .eligible : .retained
    }
}

/// The renderings of `ledger retention status`: a text table and JSON lines (docs/RETENTION.md).
public enum RetentionStatusRendering {
    /// A text table, one row per matter sorted by matter (unknown matters last, by tag): matter (or "tag:" + first
    /// 16 hex), entries, closed at (date), retain until (date), hold (count and the seq of the first, e.g. "2 (#17)"),
    /// state ("eligible", "retained", "open", "held", "destroyed on YYYY-MM-DD"). Then a summary line:
    /// "N matters: E eligible for destruction, H under hold, D destroyed".
    public static func text(_ rows: [RetentionStatus]) -> String {
        let sorted = self.sorted(rows)
        let header = ["MATTER", "ENTRIES", "CLOSED", "RETAIN UNTIL", "HOLD", "STATE"]
        let cells = sorted.map { s in
            [matterLabel(s), String(s.entries), s.closedAt.map(date) ?? "-", s.retainUntil.map(date) ?? "-",
             holdLabel(s.holds), stateLabel(s)]
        }
        return CommunicationReport.table(header, cells, right: [1]) + summary(sorted) + "\n"
    }

    /// One JSON object per line, keys in canonical order (JSONWriter), rows sorted as in `text`.
    public static func jsonLines(_ rows: [RetentionStatus]) -> String {
        sorted(rows).map { JSONWriter.string(json($0)) + "\n" }.joined()
    }

    /// The JSON object of one row (the fields docs/RETENTION.md lists).
    package static func json(_ s: RetentionStatus) -> JSONValue {
        .object(JSONObject([
            ("matter", s.matter.map { .string($0) } ?? .null),
            ("tag", .string(s.tagHex)),
            ("entries", .integer(Int64(s.entries))),
            ("closedAt", time(s.closedAt)),
            ("retainUntil", time(s.retainUntil)),
            ("period", .string(s.period.description)),
            ("basis", .string(s.basis)),
            ("holds", .array(s.holds.map(json))),
            ("destroyed", s.destroyed.map(json) ?? .null),
            ("state", .string(s.state.rawValue)),
            ("eligible", .bool(s.eligible)),
        ]))
    }

    private static func json(_ h: RetentionHold) -> JSONValue {
        .object(JSONObject([
            ("seq", .integer(Int64(clamping: h.seq))), ("placedAt", time(h.placedAt)),
            ("by", .string(h.by)), ("reason", .string(h.reason)),
        ]))
    }

    private static func json(_ d: RetentionDestruction) -> JSONValue {
        .object(JSONObject([
            ("seq", .integer(Int64(clamping: d.seq))), ("at", time(d.at)), ("by", .string(d.by)),
            ("reason", .string(d.reason)), ("beforeRetentionEnd", .bool(d.beforeRetentionEnd)),
        ]))
    }

    private static func time(_ micros: Int64?) -> JSONValue {
        micros.map { .string(Timestamp.formatRFC3339(micros: $0)) } ?? .null
    }

    // MARK: - Text cells

    /// Known matters by number (UTF-8 byte order), then unknown ones by tag.
    package static func sorted(_ rows: [RetentionStatus]) -> [RetentionStatus] {
        rows.sorted { a, b in
            switch (a.matter, b.matter) {
            case let (x?, y?): return x.utf8.lexicographicallyPrecedes(y.utf8)
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return a.tagHex.utf8.lexicographicallyPrecedes(b.tagHex.utf8)
            }
        }
    }

    private static func matterLabel(_ s: RetentionStatus) -> String {
        s.matter ?? "tag:" + String(s.tagHex.prefix(16))
    }

    /// "-" without holds, else the count and the lowest (first placed) hold seq: "2 (#17)".
    private static func holdLabel(_ holds: [RetentionHold]) -> String {
        guard let first = holds.map(\.seq).min() else { return "-" }
        return "\(holds.count) (#\(first))"
    }

    private static func stateLabel(_ s: RetentionStatus) -> String {
        if let d = s.destroyed { return "destroyed on \(date(d.at))" }
        return s.state.rawValue
    }

    /// The UTC date of an instant, YYYY-MM-DD.
    private static func date(_ micros: Int64) -> String {
        let day: Int64 = 86_400_000_000
        return Timestamp.formatDate(days: micros >= 0 ? micros / day : (micros - (day - 1)) / day)  // floor division
    }

    private static func summary(_ rows: [RetentionStatus]) -> String {
        func count(_ state: RetentionStatus.State) -> Int { rows.count { $0.state == state } }
        return "\(rows.count) matters: \(count(.eligible)) eligible for destruction, \(count(.held)) under hold, "
            + "\(count(.destroyed)) destroyed"
    }
}
