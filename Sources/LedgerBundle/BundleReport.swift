import RecordFormats

/// One failed check of a bundle. `check` names the check (docs/EXPORT.md lists them); `entry` the seq when known.
public struct BundleViolation: Sendable, CustomStringConvertible {
    public let check: String
    public let entry: UInt64?
    /// 1-based line of entries.jsonl or privilege-log.csv, when the check is about one line.
    public let line: Int?
    public let detail: String

    public var description: String {
        var where_ = ""
        if let entry { where_ = "entry \(entry): " } else if let line { where_ = "line \(line): " }
        return "\(where_)[\(check)] \(detail)"
    }

    package var json: JSONValue {
        var members: [(String, JSONValue)] = [("check", .string(check)), ("detail", .string(detail))]
        if let entry { members.append(("entry", .integer(Int64(entry)))) }
        if let line { members.append(("line", .integer(Int64(line)))) }
        return .object(JSONObject(members))
    }
}

/// What `BundleVerifier` found: the checkpoint's figures, the counts, the warnings and every failed check.
public struct BundleReport: Sendable {
    public var origin = ""
    public var treeSize: UInt64 = 0
    public var root = ""
    public var entries = 0
    public var disclosures = 0
    public var redactions = 0
    public var verifierKeyPinned = false
    public var consistencyChecked = false
    public var trustedChecked = false
    public var warnings: [String] = []
    public var violations: [BundleViolation] = []
    public var durationMicroseconds: Int64 = 0

    public var isValid: Bool { violations.isEmpty }

    package mutating func fail(_ check: String, _ detail: String, entry: UInt64? = nil, line: Int? = nil) {
        violations.append(BundleViolation(check: check, entry: entry, line: line, detail: detail))
    }

    public var json: JSONValue {
        .object(JSONObject([
            ("ok", .bool(isValid)),
            ("origin", .string(origin)),
            ("treeSize", .integer(Int64(treeSize))),
            ("root", .string(root)),
            ("entries", .integer(Int64(entries))),
            ("disclosures", .integer(Int64(disclosures))),
            ("redactions", .integer(Int64(redactions))),
            ("verifierKeyPinned", .bool(verifierKeyPinned)),
            ("consistencyChecked", .bool(consistencyChecked)),
            ("trustedChecked", .bool(trustedChecked)),
            ("durationMicroseconds", .integer(durationMicroseconds)),
            ("warnings", .array(warnings.map { .string($0) })),
            ("violationCount", .integer(Int64(violations.count))),
            ("violations", .array(violations.prefix(1000).map(\.json))),
        ]))
    }

    public var summaryLines: [String] {
        let seconds = Double(durationMicroseconds) / 1e6
        let rate = seconds > 0 ? Int(Double(entries) / seconds) : entries
        let consistency = (consistencyChecked ? "proof checked" : "no proof in bundle")
            + (trustedChecked ? ", trusted checkpoint checked" : "")
        return [
            "origin:       \(origin)",
            "checkpoint:   size \(treeSize), root \(root)",
            "entries:      \(entries) (\(disclosures) fields disclosed, \(redactions) redacted)",
            "verifier key: \(verifierKeyPinned ? "pinned" : "the bundle's own (not pinned)")",
            "consistency:  \(consistency)",
            String(format: "time:         %.3f s (%d entries/s)", seconds, rate),
            "result:       \(isValid ? "VALID" : "INVALID (\(violations.count) violations)")",
        ]
    }
}
