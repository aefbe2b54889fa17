import Foundation
import LedgerFormat
import RecordFormats

/// Why a report could not be made. Messages name policy keys and files, never record values.
public enum ReportError: Error, CustomStringConvertible, Sendable {
    /// The policy file is not valid (the message names the key).
    case invalidPolicy(String)
    /// The bundle failed verification; the report refuses to use it.
    case bundleRejected(violations: Int)

    public var description: String {
        switch self {
        case .invalidPolicy(let what): return "policy: \(what)"
        case .bundleRejected(let n): return "the bundle fails verification (\(n) violations); refusing to report on it"
        }
    }
}

/// The limits one matter is held to.
public struct MatterLimits: Sendable, Equatable {
    /// Most calendar days allowed between outbound updates on an open matter.
    public var updateEveryDays: Int64 = 14
    /// Inbound inquiry → its response.
    public var respondWithinHours: Int64 = 24
    /// Inbound inquiry → first outbound contact of any kind.
    public var acknowledgeWithinHours: Int64 = 4
    /// Urgent development → outbound update to the client.
    public var urgentUpdateWithinHours: Int64 = 24

    public init() {}

    package static let keys = ["updateEveryDays", "respondWithinHours", "acknowledgeWithinHours",
                               "urgentUpdateWithinHours"]
}

/// Office hours in one IANA time zone; hour limits then count only time inside them.
public struct BusinessHours: Sendable {
    public let timeZone: TimeZone
    /// Minutes after local midnight.
    public let startMinute: Int
    public let endMinute: Int
    /// Weekdays, 0 = Sunday … 6 = Saturday.
    public let days: Set<Int>

    public static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(timeZone: TimeZone, startMinute: Int, endMinute: Int, days: Set<Int>) {
        self.timeZone = timeZone
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.days = days
    }
}

/// The report's policy (docs/REPORT.md, "Policy file").
public struct ReportPolicy: Sendable {
    public var defaults = MatterLimits()
    public var businessHours: BusinessHours?
    /// Per-matter limits (each key not given falls back to `defaults`).
    public var overrides: [String: MatterLimits] = [:]
    /// Matter → closedAt (µs since the epoch): no updates are needed after it.
    public var closed: [String: Int64] = [:]

    public init() {}

    public func limits(for matter: String) -> MatterLimits { overrides[matter] ?? defaults }

    /// Parses a policy file strictly: unknown keys, wrong types and out-of-range values are rejected by name.
    public static func parse(_ bytes: [UInt8]) throws -> ReportPolicy {
        let root = try parseRoot(bytes)
        try rejectUnknown(root, known: MatterLimits.keys + ["businessHours", "matters", "closed"], at: "")
        var policy = ReportPolicy()
        policy.defaults = try parseLimits(root, base: MatterLimits(), at: "")
        if let value = root["businessHours"] {
            guard case .object(let bh) = value else {
                throw ReportError.invalidPolicy("'businessHours' must be an object")
            }
            policy.businessHours = try parseBusinessHours(bh)
        }
        if let value = root["matters"] { policy.overrides = try parseOverrides(value, defaults: policy.defaults) }
        if let value = root["closed"] { policy.closed = try parseClosed(value) }
        return policy
    }

    private static func parseRoot(_ bytes: [UInt8]) throws -> JSONObject {
        do {
            guard case .object(let o) = try JSONParser.parse(bytes) else {
                throw ReportError.invalidPolicy("the policy must be a JSON object")
            }
            return o
        } catch let error as ReportError {
            throw error
        } catch {
            throw ReportError.invalidPolicy("not valid JSON (\(error))")
        }
    }

    /// `matters`: matter → its limits, each key not given taken from the file's defaults.
    private static func parseOverrides(_ value: JSONValue, defaults: MatterLimits) throws -> [String: MatterLimits] {
        guard case .object(let matters) = value else {
            throw ReportError.invalidPolicy("'matters' must be an object of matter → limits")
        }
        var overrides = [String: MatterLimits]()
        for (matter, limits) in matters {
            guard case .object(let o) = limits else {
                throw ReportError.invalidPolicy("'matters.\(matter)' must be an object")
            }
            try rejectUnknown(o, known: MatterLimits.keys, at: "matters.\(matter).")
            overrides[matter] = try parseLimits(o, base: defaults, at: "matters.\(matter).")
        }
        return overrides
    }

    /// `closed`: an array of {matter, closedAt}, each matter at most once.
    package static func parseClosed(_ value: JSONValue) throws -> [String: Int64] {
        guard case .array(let items) = value else {
            throw ReportError.invalidPolicy("'closed' must be an array of {matter, closedAt}")
        }
        var closed = [String: Int64]()
        for (i, item) in items.enumerated() {
            let (matter, at) = try parseClosedMatter(item, at: "closed[\(i)]")
            guard closed[matter] == nil else {
                throw ReportError.invalidPolicy("'closed' names matter '\(matter)' twice")
            }
            closed[matter] = at
        }
        return closed
    }

    private static func parseClosedMatter(_ item: JSONValue, at path: String) throws -> (String, Int64) {
        guard case .object(let o) = item else {
            throw ReportError.invalidPolicy("'\(path)' must be an object {matter, closedAt}")
        }
        try rejectUnknown(o, known: ["matter", "closedAt"], at: "\(path).")
        guard let matter = o["matter"]?.stringValue, !matter.isEmpty else {
            throw ReportError.invalidPolicy("'\(path).matter' must be a non-empty string")
        }
        guard let text = o["closedAt"]?.stringValue, let at = parseTime(text, endOfDay: true) else {
            throw ReportError.invalidPolicy(
                "'\(path).closedAt' must be an RFC 3339 time with offset or a date YYYY-MM-DD")
        }
        return (matter, at)
    }

    /// RFC 3339 with offset, or a date (start or end of that UTC day).
    public static func parseTime(_ text: String, endOfDay: Bool) -> Int64? {
        if let t = Timestamp.parseRFC3339(text) { return t }
        if let days = Timestamp.parseDate(text) { return days * 86_400_000_000 + (endOfDay ? 86_399_999_999 : 0) }
        return nil
    }

    private static func rejectUnknown(_ o: JSONObject, known: [String], at prefix: String) throws {
        let unknown = o.keys.filter { !known.contains($0) }
        if !unknown.isEmpty {
            let names = unknown.map { "'\(prefix)\($0)'" }.joined(separator: ", ")
            throw ReportError.invalidPolicy("unknown key\(unknown.count > 1 ? "s" : "") \(names); "
                + "allowed here: \(known.joined(separator: ", "))")
        }
    }

    private static func parseLimits(_ o: JSONObject, base: MatterLimits, at prefix: String) throws -> MatterLimits {
        var limits = base
        func value(_ key: String, _ range: ClosedRange<Int64>) throws -> Int64? {
            guard let v = o[key] else { return nil }
            guard let i = v.integerValue, range.contains(i) else {
                throw ReportError.invalidPolicy(
                    "'\(prefix)\(key)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return i
        }
        if let v = try value("updateEveryDays", 1...3650) { limits.updateEveryDays = v }
        if let v = try value("respondWithinHours", 1...87_600) { limits.respondWithinHours = v }
        if let v = try value("acknowledgeWithinHours", 1...87_600) { limits.acknowledgeWithinHours = v }
        if let v = try value("urgentUpdateWithinHours", 1...87_600) { limits.urgentUpdateWithinHours = v }
        return limits
    }

    private static func parseBusinessHours(_ o: JSONObject) throws -> BusinessHours {
        try rejectUnknown(o, known: ["timeZone", "start", "end", "days"], at: "businessHours.")
        guard let zoneName = o["timeZone"]?.stringValue else {
            throw ReportError.invalidPolicy("'businessHours.timeZone' is required (an IANA name such as Europe/London)")
        }
        guard zoneName.contains("/") || zoneName == "UTC", let zone = TimeZone(identifier: zoneName) else {
            throw ReportError.invalidPolicy("'businessHours.timeZone' '\(zoneName)' is not an IANA time zone name")
        }
        let start = try parseClock(o, "start", fallback: "09:00")
        let end = try parseClock(o, "end", fallback: "17:30")
        guard start < end else {
            throw ReportError.invalidPolicy("'businessHours.start' must be before 'businessHours.end'")
        }
        let days = try o["days"].map(parseDays) ?? [1, 2, 3, 4, 5]
        return BusinessHours(timeZone: zone, startMinute: start, endMinute: end, days: days)
    }

    /// `businessHours.start` or `.end` ("HH:MM", 24:00 at most) as minutes after midnight.
    private static func parseClock(_ o: JSONObject, _ key: String, fallback: String) throws -> Int {
        let text = o[key].map { $0.stringValue } ?? fallback
        guard let text else { throw ReportError.invalidPolicy("'businessHours.\(key)' must be a string HH:MM") }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
              (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440 else {
            throw ReportError.invalidPolicy("'businessHours.\(key)' must be HH:MM (24-hour clock)")
        }
        return h * 60 + m
    }

    /// `businessHours.days`: weekday names, each at most once.
    private static func parseDays(_ value: JSONValue) throws -> Set<Int> {
        let names = "sun, mon, tue, wed, thu, fri, sat"
        guard case .array(let items) = value, !items.isEmpty else {
            throw ReportError.invalidPolicy("'businessHours.days' must be a non-empty array of \(names)")
        }
        var days = Set<Int>()
        for item in items {
            guard let name = item.stringValue, let d = BusinessHours.dayNames.firstIndex(of: name.lowercased()) else {
                throw ReportError.invalidPolicy("'businessHours.days' must hold only \(names)")
            }
            guard days.insert(d).inserted else {
                throw ReportError.invalidPolicy("'businessHours.days' names '\(name)' twice")
            }
        }
        return days
    }
}
