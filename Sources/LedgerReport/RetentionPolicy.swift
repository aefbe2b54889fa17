import Foundation
import LedgerFormat
import RecordFormats

/// A retention period: how long a matter's files are kept after it closes (docs/RETENTION.md,
/// "Retention policy file"). Calendar units, added in UTC on the proleptic Gregorian calendar.
public struct RetentionPeriod: Sendable, Equatable, CustomStringConvertible {
    public var years: Int
    public var months: Int
    public var days: Int

    public init(years: Int = 0, months: Int = 0, days: Int = 0) {
        self.years = years
        self.months = months
        self.days = days
    }

    /// The largest value the policy file accepts for each key.
    package static let maxYears = 100, maxMonths = 1200, maxDays = 36_500

    private static let microsPerDay: Int64 = 86_400_000_000

    /// `from` (µs since epoch) plus the period, calendar arithmetic in UTC as Foundation's Calendar does it: years
    /// first, then months, each clamping the day to the last day of the month reached (2024-02-29 + 1 year =
    /// 2025-02-28; + 1 year 1 month = 2025-03-28), then days; the time of day is kept. Saturates at
    /// `Int64.min`/`Int64.max` instead of trapping.
    public func end(from micros: Int64) -> Int64 {
        // Beyond a million years every Int64 instant saturates anyway; the bound keeps the Int arithmetic in range.
        guard years.magnitude <= 1_000_000, months.magnitude <= 12_000_000, days.magnitude <= 400_000_000 else {
            return saturated
        }
        let day = Self.microsPerDay
        let startDay = micros >= 0 ? micros / day : (micros - (day - 1)) / day  // floor division
        let timeOfDay = micros - startDay * day
        let (y, m, d) = Timestamp.civil(fromDays: Int(startDay))
        let (y1, m1, d1) = Self.addMonths(years * 12, to: (y, m, d))
        let (y2, m2, d2) = Self.addMonths(months, to: (y1, m1, d1))
        let endDay = Int64(Timestamp.days(fromCivil: y2, m2, d2)) + Int64(days)
        let (scaled, o1) = endDay.multipliedReportingOverflow(by: day)
        let (result, o2) = scaled.addingReportingOverflow(timeOfDay)
        return o1 || o2 ? (endDay < 0 ? Int64.min : Int64.max) : result
    }

    /// A civil date moved by `count` months, the day clamped to the length of the month reached (Jan 31 + 1 month =
    /// Feb 28 or 29).
    private static func addMonths(_ count: Int, to date: (Int, Int, Int)) -> (Int, Int, Int) {
        let index = date.0 * 12 + (date.1 - 1) + count
        let year = index >= 0 ? index / 12 : (index - 11) / 12  // floor division
        let month = index - year * 12 + 1
        return (year, month, min(date.2, Timestamp.daysInMonth(year, month)))
    }

    /// The saturated end when the arithmetic leaves Int64: the direction of the period decides which bound.
    private var saturated: Int64 { nominalLength < 0 ? Int64.min : Int64.max }

    /// A length for comparing periods, in 1/4800 day: a year is 365.2425 days and a month a twelfth of that (the
    /// Gregorian averages), so which of two periods is longer does not depend on the date. Exact, no rounding.
    package var nominalLength: Int64 {
        let perMonth: Int128 = 146_097  // 400 Gregorian years: 146,097 days = 4,800 months
        // In Int128 no product or sum of three Int values overflows; the result clamps to Int64.
        return Int64(clamping: Int128(years) * perMonth * 12 + Int128(months) * perMonth + Int128(days) * 4800)
    }

    /// "7 years", "6 years 3 months", "30 days", "1 year 1 day"; "0 days" for the empty period.
    public var description: String {
        func unit(_ n: Int, _ name: String) -> String? { n == 0 ? nil : "\(n) \(name)\(n == 1 ? "" : "s")" }
        let parts = [unit(years, "year"), unit(months, "month"), unit(days, "day")].compactMap { $0 }
        return parts.isEmpty ? "0 days" : parts.joined(separator: " ")
    }
}

/// The retention policy: how long each matter is kept after it closes, and which matters are closed
/// (docs/RETENTION.md, "Retention policy file").
public struct RetentionPolicy: Sendable {
    /// The period for a matter that neither its own entry nor any of its tags name (7 years unless the file says).
    public var defaultPeriod: RetentionPeriod
    /// Record tag (a value of the records' `tags` field, e.g. a practice area) → period.
    public var byTag: [String: RetentionPeriod]
    /// Matter number → period; wins over tags and the default.
    public var byMatter: [String: RetentionPeriod]
    /// Matter → closedAt (µs since the epoch); a matter not named here is open.
    public var closed: [String: Int64]

    /// The defaults: 7 years, no tags, no matters, nothing closed.
    public init() {
        defaultPeriod = RetentionPeriod(years: 7)
        byTag = [:]
        byMatter = [:]
        closed = [:]
    }

    package static let maxTagBytes = 200
    /// Matter numbers are one line of at most 256 bytes (docs/SCHEMA.md).
    package static let maxMatterBytes = 256

    /// The period that applies and why: the matter's own entry; else the LONGEST period among the policy's tags that
    /// occur in `recordTags` (obligations stack, the longest wins; ties broken by tag name); else the default.
    /// Basis: "matter", "tag 'litigation'", "default".
    public func period(matter: String, recordTags: Set<String>) -> (period: RetentionPeriod, basis: String) {
        period(matter: Optional(matter), recordTags: recordTags)
    }

    /// As above for a matter whose number may be unknown (nil: only its tags and the default can apply).
    package func period(matter: String?, recordTags: Set<String>) -> (period: RetentionPeriod, basis: String) {
        if let matter, let own = byMatter[matter] { return (own, "matter") }
        var best: (tag: String, period: RetentionPeriod)?
        for tag in recordTags {
            guard let p = byTag[tag] else { continue }
            guard let b = best else { best = (tag, p); continue }
            // Longest nominal length wins; on a tie the tag name first in UTF-8 byte order, so the result is stable.
            let longer = p.nominalLength > b.period.nominalLength
            let tieFirst = p.nominalLength == b.period.nominalLength && tag.utf8.lexicographicallyPrecedes(b.tag.utf8)
            if longer || tieFirst { best = (tag, p) }
        }
        if let best { return (best.period, "tag '\(best.tag)'") }
        return (defaultPeriod, "default")
    }
}

// MARK: - Parsing

extension RetentionPolicy {
    private static let rootKeys = ["formatVersion", "defaultRetention", "tags", "matters", "closed"]

    /// Parses a policy file strictly: unknown keys, wrong types and out-of-range values are rejected with a
    /// `ReportError.invalidPolicy` whose message starts with the key path.
    public static func parse(_ bytes: [UInt8]) throws -> RetentionPolicy {
        let root = try parseRoot(bytes)
        try rejectUnknown(root, known: rootKeys, at: "")
        if let version = root["formatVersion"], version.integerValue != 1 {
            throw ReportError.invalidPolicy("'formatVersion' must be the integer 1")
        }
        var policy = RetentionPolicy()
        if let value = root["defaultRetention"] { policy.defaultPeriod = try parsePeriod(value, at: "defaultRetention") }
        if let value = root["tags"] { policy.byTag = try parseTags(value) }
        if let value = root["matters"] { policy.byMatter = try parseMatters(value) }
        // `closed` has exactly the report policy's syntax, so both files share one parser.
        if let value = root["closed"] { policy.closed = try ReportPolicy.parseClosed(value) }
        return policy
    }

    private static func parseRoot(_ bytes: [UInt8]) throws -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ReportError.invalidPolicy("not valid JSON (\(error))")
        }
        guard case .object(let o) = value else {
            throw ReportError.invalidPolicy("the retention policy must be a JSON object")
        }
        return o
    }

    /// `tags`: tag name (1–200 bytes, one line) → period.
    private static func parseTags(_ value: JSONValue) throws -> [String: RetentionPeriod] {
        guard case .object(let tags) = value else {
            throw ReportError.invalidPolicy("'tags' must be an object of tag → period")
        }
        var byTag = [String: RetentionPeriod]()
        for (tag, period) in tags {
            // The name is not echoed when too long or not one line: it could be anything.
            guard (1...maxTagBytes).contains(tag.utf8.count), isOneLine(tag) else {
                throw ReportError.invalidPolicy(
                    "'tags' has a key of \(tag.utf8.count) bytes; tag names must be one line of 1 to \(maxTagBytes) bytes")
            }
            byTag[tag] = try parsePeriod(period, at: "tags.\(tag)")
        }
        return byTag
    }

    /// `matters`: matter number (1–256 bytes, one line) → period.
    private static func parseMatters(_ value: JSONValue) throws -> [String: RetentionPeriod] {
        guard case .object(let matters) = value else {
            throw ReportError.invalidPolicy("'matters' must be an object of matter → period")
        }
        var byMatter = [String: RetentionPeriod]()
        for (matter, period) in matters {
            guard (1...maxMatterBytes).contains(matter.utf8.count), isOneLine(matter) else {
                throw ReportError.invalidPolicy("'matters' has a key of \(matter.utf8.count) bytes; "
                    + "matter numbers must be one line of 1 to \(maxMatterBytes) bytes")
            }
            byMatter[matter] = try parsePeriod(period, at: "matters.\(matter)")
        }
        return byMatter
    }

    /// A period object `{years, months, days}`: at least one key, each a bounded non-negative integer, not all zero.
    package static func parsePeriod(_ value: JSONValue, at path: String) throws -> RetentionPeriod {
        guard case .object(let o) = value else {
            throw ReportError.invalidPolicy("'\(path)' must be an object {years, months, days}, not \(value.typeName)")
        }
        try rejectUnknown(o, known: ["years", "months", "days"], at: "\(path).")
        guard !o.isEmpty else {
            throw ReportError.invalidPolicy("'\(path)' must give at least one of years, months, days")
        }
        func component(_ key: String, _ max: Int) throws -> Int {
            guard let v = o[key] else { return 0 }
            guard let i = v.integerValue, (0...Int64(max)).contains(i) else {
                throw ReportError.invalidPolicy("'\(path).\(key)' must be an integer from 0 to \(max)")
            }
            return Int(i)
        }
        let period = RetentionPeriod(years: try component("years", RetentionPeriod.maxYears),
                                     months: try component("months", RetentionPeriod.maxMonths),
                                     days: try component("days", RetentionPeriod.maxDays))
        // An all-zero period would make a matter eligible for destruction the moment it closes.
        guard period.nominalLength > 0 else {
            throw ReportError.invalidPolicy("'\(path)' must be longer than zero (all of years, months, days are 0)")
        }
        return period
    }

    private static func rejectUnknown(_ o: JSONObject, known: [String], at prefix: String) throws {
        let unknown = o.keys.filter { !known.contains($0) }
        guard !unknown.isEmpty else { return }
        // Long or multi-line unknown keys are described by size only, so a message stays one readable line.
        let names = unknown.prefix(5).map { key in
            key.utf8.count <= 200 && isOneLine(key) ? "'\(prefix)\(key)'" : "'\(prefix)…' (\(key.utf8.count) bytes)"
        }
        let more = unknown.count > 5 ? " and \(unknown.count - 5) more" : ""
        throw ReportError.invalidPolicy("unknown key\(unknown.count > 1 ? "s" : "") \(names.joined(separator: ", "))"
            + "\(more); allowed here: \(known.joined(separator: ", "))")
    }

    /// No control characters (so no line breaks): names appear in one-line messages and table cells.
    private static func isOneLine(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && !(0x80..<0xA0).contains($0.value) }
    }
}
