import Foundation
import LedgerFormat
import RecordFormats

/// Output formats of `ledger report` (docs/REPORT.md documents the JSON and CSV schemas).
public enum ReportFormat: String, Sendable, CaseIterable {
    case text, json, csv, html
}

extension CommunicationReport {
    public func render(_ format: ReportFormat, policy: ReportPolicy) -> String {
        switch format {
        case .text: return textReport(policy: policy)
        case .json: return JSONWriter.string(json(policy: policy)) + "\n"
        case .csv: return csv()
        case .html: return html(policy: policy)
        }
    }

    // MARK: - Number formatting (integer arithmetic: deterministic output)

    /// µs as hours with one decimal, rounded half up ("26.5").
    package static func hours(_ micros: Int64) -> String { tenths(micros, unit: 3_600_000_000) }
    /// µs as days with one decimal ("15.2").
    package static func days(_ micros: Int64) -> String { tenths(micros, unit: 86_400_000_000) }

    package static func tenths(_ micros: Int64, unit: Int64) -> String {
        let sign = micros < 0 ? "-" : ""
        let t = (abs(micros) * 10 + unit / 2) / unit
        return "\(sign)\(t / 10).\(t % 10)"
    }

    package static func percent(_ part: Int, _ whole: Int) -> String {
        guard whole > 0 else { return "100.0" }
        let t = (part * 1000 * 2 + whole) / (whole * 2)
        return "\(t / 10).\(t % 10)"
    }

    package static func time(_ micros: Int64) -> String {
        // 2026-01-05T09:00:00Z (seconds precision for people; JSON keeps microseconds).
        let full = Timestamp.formatRFC3339(micros: micros)
        return String(full.prefix(19)) + "Z"
    }

    public var compliancePercent: String { Self.percent(mattersCompliant, matters.count) }

    // MARK: - Text

    package func textReport(policy: ReportPolicy) -> String {
        var out = "Communication report as of \(Self.time(asOf))\n"
        if let bh = policy.businessHours {
            let days = BusinessHours.dayNames.indices.filter { bh.days.contains($0) }.map { BusinessHours.dayNames[$0] }.joined(separator: ",")
            out += "Hour limits count business hours: \(bh.timeZone.identifier) \(clock(bh.startMinute))–\(clock(bh.endMinute)) \(days)\n"
        } else {
            out += "Hour limits count wall-clock hours (no business hours in the policy)\n"
        }
        out += "Records: \(records)\(skipped > 0 ? " (\(skipped) skipped: no matter or occurredAt, or after the report time)" : "")\n\n"
        out += "SUMMARY\n"
        out += "  \(mattersCompliant) of \(matters.count) matters in compliance (\(compliancePercent)%)\n"
        out += "  breaches: " + BreachKind.allCases.map { "\($0.rawValue) \(breachCount($0))" }.joined(separator: ", ") + "\n"
        out += "  inquiries: \(inquiries.count) (\(inquiries.filter(\.inferred).count) matched by inference, \(openInquiries.count) open)\n\n"

        for section in sections() {
            out += section.title + "\n"
            out += section.rows.isEmpty ? "  \(section.empty)\n" : Self.table(section.header, section.rows, right: section.right)
            out += "\n"
        }
        out.removeLast()
        return out
    }

    /// One table of the report (text and HTML render the same sections).
    package struct Section {
        package var title: String
        package var header: [String]
        package var rows: [[String]]
        package var right: Set<Int>
        package var empty = "none"
    }

    package func sections() -> [Section] {
        var result = [Section]()
        result.append(Section(title: "MATTERS", header: ["MATTER", "ENTRIES", "UPDATES", "LONGEST GAP (d)", "SINCE LAST (d)", "LIMIT (d)", "BREACHES", "STATUS"],
                              rows: matters.map { m in
            [m.matter, String(m.entries), String(m.outboundUpdates), m.longestGap.map { Self.days($0.duration) } ?? "-",
             Self.days(m.sinceLastUpdate), String(m.limits.updateEveryDays), String(m.breachCount),
             (m.compliant ? "ok" : "BREACH") + (m.closedAt != nil ? " (closed \(Self.time(m.closedAt!)))" : "")]
        }, right: [1, 2, 3, 4, 5, 6], empty: "no matters"))
        let cadence = matters.flatMap { m in m.cadenceBreaches.map { (m.matter, $0, m.limits.updateEveryDays) } }
        result.append(Section(title: "CADENCE BREACHES (gaps between outbound updates longer than the limit)",
                              header: ["MATTER", "FROM", "TO", "DAYS", "LIMIT", "NOTE"], rows: cadence.map { matter, gap, limit in
            [matter, Self.time(gap.start), Self.time(gap.end), Self.days(gap.duration), String(limit), gap.ongoing ? "ongoing" : ""]
        }, right: [3, 4]))
        var rows = [[String]]()
        if let overall { rows.append(["all", "", String(overall.count), Self.hours(overall.median), Self.hours(overall.p90), Self.hours(overall.max)]) }
        for (name, s) in byAuthor { rows.append(["author", name, String(s.count), Self.hours(s.median), Self.hours(s.p90), Self.hours(s.max)]) }
        for (name, s) in byChannel { rows.append(["channel", name, String(s.count), Self.hours(s.median), Self.hours(s.p90), Self.hours(s.max)]) }
        result.append(Section(title: "RESPONSE TIMES (hours\(businessHours ? ", business" : ""); nearest-rank median and p90)",
                              header: ["BY", "NAME", "COUNT", "MEDIAN", "P90", "MAX"], rows: rows, right: [2, 3, 4, 5], empty: "no answered inquiries"))
        result.append(Section(title: "BREACHES", header: ["KIND", "MATTER", "SEQ", "FROM", "TO", "MEASURED", "LIMIT", "MET BY", "NOTE"],
                              rows: breaches.map { b in
            let unitDays = b.kind == .cadence || b.kind == .promise
            let measured = unitDays ? Self.days(b.measured) + " d" : Self.hours(b.measured) + " h"
            let limit = b.kind == .promise ? "due" : unitDays ? Self.days(b.limit) + " d" : Self.hours(b.limit) + " h"
            var note = [String]()
            if b.inferred { note.append("inferred match") }
            if b.open { note.append(b.kind == .promise ? "no update since" : b.kind == .cadence ? "ongoing" : "still open") }
            return [b.kind.rawValue, b.matter, b.seq.map { String($0) } ?? "-", Self.time(b.start), Self.time(b.end), measured, limit,
                    b.metBy.map { "#\($0)" } ?? "-", note.joined(separator: ", ")]
        }, right: [2, 5, 6]))
        result.append(Section(title: "OPEN INQUIRIES", header: ["SEQ", "MATTER", "CHANNEL", "SINCE", "AGE (h)", "LIMIT (h)", "STATUS"],
                              rows: openInquiries.map { q in
            [String(q.seq), q.matter, q.channel ?? "-", Self.time(q.at), Self.hours(q.openAge ?? 0), Self.hours(q.respondLimit),
             q.respondBreached ? "OVERDUE" : q.acknowledgeBreached ? "NOT ACKNOWLEDGED" : "within limit"]
        }, right: [0, 4, 5]))
        result.append(Section(title: "CORRECTIONS", header: ["SEQ", "OCCURRED", "AUTHOR", "CORRECTS", "ORIGINAL OCCURRED", "ORIGINAL KIND", "ORIGINAL AUTHOR"],
                              rows: corrections.map { c in
            [String(c.seq), c.at.map(Self.time) ?? "-", c.author ?? "-", "#\(c.corrects)", c.correctedAt.map(Self.time) ?? "(not in selection)",
             c.correctedKind ?? "-", c.correctedAuthor ?? "-"]
        }, right: [0]))
        return result
    }

    private func clock(_ minute: Int) -> String {
        let h = minute / 60, m = minute % 60
        return "\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m)"
    }

    /// Aligned columns, two spaces apart; `right` columns right-aligned; the last column unpadded.
    package static func table(_ header: [String], _ rows: [[String]], right: Set<Int> = []) -> String {
        // Widths in characters; ASCII cells (nearly all) are measured in O(1) from their UTF-8.
        func width(_ cell: String) -> Int { cell.utf8.allSatisfy { $0 < 0x80 } ? cell.utf8.count : cell.count }
        var widths = header.map(width)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], width(cell)) } }
        var out = [UInt8]()
        out.reserveCapacity((rows.count + 1) * (widths.reduce(0, +) + 2 * widths.count + 3))
        func line(_ cells: [String]) {
            out.append(contentsOf: [0x20, 0x20])
            for (i, cell) in cells.enumerated() {
                let pad = max(0, widths[i] - width(cell))
                let last = i == cells.count - 1
                if right.contains(i) { out.append(contentsOf: repeatElement(0x20, count: pad)) }
                out.append(contentsOf: cell.utf8)
                if !right.contains(i) && !last { out.append(contentsOf: repeatElement(0x20, count: pad)) }
                if !last { out.append(contentsOf: [0x20, 0x20]) }
            }
            while out.last == 0x20 { out.removeLast() }
            out.append(0x0a)
        }
        line(header)
        rows.forEach(line)
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - JSON

    public func json(policy: ReportPolicy) -> JSONValue {
        func t(_ v: Int64?) -> JSONValue { v.map { .string(Timestamp.formatRFC3339(micros: $0)) } ?? .null }
        func secs(_ v: Int64?) -> JSONValue { v.map { .integer($0 / 1_000_000) } ?? .null }
        func u(_ v: UInt64?) -> JSONValue { v.map { .integer(Int64($0)) } ?? .null }
        func s(_ v: String?) -> JSONValue { v.map { .string($0) } ?? .null }
        func gap(_ g: Gap) -> JSONValue {
            .object(JSONObject([("start", t(g.start)), ("end", t(g.end)), ("seconds", secs(g.duration)), ("days", .string(Self.days(g.duration))),
                                ("ongoing", .bool(g.ongoing))]))
        }
        func stats(_ name: String?, _ st: Stats) -> JSONValue {
            var m: [(String, JSONValue)] = name.map { [("name", .string($0))] } ?? []
            m += [("count", .integer(Int64(st.count))), ("medianSeconds", secs(st.median)), ("p90Seconds", secs(st.p90)), ("maxSeconds", secs(st.max))]
            return .object(JSONObject(m))
        }
        let summary = JSONObject([
            ("matters", .integer(Int64(matters.count))),
            ("mattersCompliant", .integer(Int64(mattersCompliant))),
            ("compliancePercent", .string(compliancePercent)),
            ("inquiries", .integer(Int64(inquiries.count))),
            ("openInquiries", .integer(Int64(openInquiries.count))),
            ("breaches", .object(JSONObject(BreachKind.allCases.map { ($0.rawValue, .integer(Int64(breachCount($0)))) }))),
        ])
        let matterValues: [JSONValue] = matters.map { m in
            .object(JSONObject([
                ("matter", .string(m.matter)), ("entries", .integer(Int64(m.entries))), ("outboundUpdates", .integer(Int64(m.outboundUpdates))),
                ("firstAt", t(m.firstAt)), ("lastUpdateAt", t(m.lastUpdateAt)), ("secondsSinceLastUpdate", secs(m.sinceLastUpdate)),
                ("daysSinceLastUpdate", .string(Self.days(m.sinceLastUpdate))), ("longestGap", m.longestGap.map(gap) ?? .null),
                ("cadenceBreaches", .array(m.cadenceBreaches.map(gap))), ("closedAt", t(m.closedAt)),
                ("updateEveryDays", .integer(m.limits.updateEveryDays)), ("breaches", .integer(Int64(m.breachCount))),
                ("compliant", .bool(m.compliant)),
            ]))
        }
        let inquiryValues: [JSONValue] = inquiries.map { q in
            .object(JSONObject([
                ("seq", u(q.seq)), ("matter", .string(q.matter)), ("occurredAt", t(q.at)), ("channel", s(q.channel)),
                ("responseSeq", u(q.responseSeq)), ("respondedAt", t(q.responseAt)), ("responder", s(q.responder)),
                ("inferred", .bool(q.inferred)), ("responseSeconds", secs(q.responseTime)),
                ("acknowledgementSeq", u(q.acknowledgementSeq)), ("acknowledgementSeconds", secs(q.acknowledgementTime)),
                ("open", .bool(q.isOpen)), ("openSeconds", secs(q.openAge)),
                ("respondBreached", .bool(q.respondBreached)), ("acknowledgeBreached", .bool(q.acknowledgeBreached)),
            ]))
        }
        let breachValues: [JSONValue] = breaches.map { b in
            .object(JSONObject([
                ("kind", .string(b.kind.rawValue)), ("matter", .string(b.matter)), ("seq", u(b.seq)), ("start", t(b.start)), ("end", t(b.end)),
                ("measuredSeconds", secs(b.measured)), ("limitSeconds", secs(b.limit)), ("metBy", u(b.metBy)),
                ("inferred", .bool(b.inferred)), ("open", .bool(b.open)),
            ]))
        }
        let correctionValues: [JSONValue] = corrections.map { c in
            .object(JSONObject([
                ("seq", u(c.seq)), ("matter", s(c.matter)), ("occurredAt", t(c.at)), ("author", s(c.author)), ("corrects", u(c.corrects)),
                ("original", c.correctedAt == nil && c.correctedKind == nil ? .null : .object(JSONObject([
                    ("occurredAt", t(c.correctedAt)), ("kind", s(c.correctedKind)), ("author", s(c.correctedAuthor))]))),
            ]))
        }
        var responseTimes: [(String, JSONValue)] = [("overall", overall.map { stats(nil, $0) } ?? .null)]
        responseTimes.append(("byAuthor", .array(byAuthor.map { stats($0.0, $0.1) })))
        responseTimes.append(("byChannel", .array(byChannel.map { stats($0.0, $0.1) })))
        return .object(JSONObject([
            ("reportVersion", 1),
            ("asOf", t(asOf)),
            ("businessHours", .bool(businessHours)),
            ("records", .integer(Int64(records))),
            ("skipped", .integer(Int64(skipped))),
            ("summary", .object(summary)),
            ("matters", .array(matterValues)),
            ("inquiries", .array(inquiryValues)),
            ("responseTimes", .object(JSONObject(responseTimes))),
            ("breaches", .array(breachValues)),
            ("corrections", .array(correctionValues)),
            ("trend", .array(trend.map { .object(JSONObject([("month", .string($0.month)), ("matters", .integer(Int64($0.matters))),
                                                             ("compliant", .integer(Int64($0.compliant)))])) })),
        ]))
    }

    // MARK: - CSV (one row per breach, open inquiries past their limit included)

    public static let csvHeader = ["kind", "matter", "seq", "start", "end", "measured_seconds", "limit_seconds", "met_by", "inferred", "open"]

    package func csv() -> String {
        var out = Self.csvHeader.joined(separator: ",") + "\r\n"
        for b in breaches {
            let cells = [b.kind.rawValue, b.matter, b.seq.map { String($0) } ?? "", Timestamp.formatRFC3339(micros: b.start),
                         Timestamp.formatRFC3339(micros: b.end), String(b.measured / 1_000_000), String(b.limit / 1_000_000),
                         b.metBy.map { String($0) } ?? "", b.inferred ? "true" : "false", b.open ? "true" : "false"]
            out += CSVWriter.row(cells)
        }
        return out
    }
}
