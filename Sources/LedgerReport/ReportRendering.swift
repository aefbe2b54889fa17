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
            out += "Hour limits count business hours: \(bh.label)\n"
        } else {
            out += "Hour limits count wall-clock hours (no business hours in the policy)\n"
        }
        let skippedNote = " (\(skipped) skipped: no matter or occurredAt, or after the report time)"
        out += "Records: \(records)\(skipped > 0 ? skippedNote : "")\n\n"
        out += "SUMMARY\n"
        out += "  \(mattersCompliant) of \(matters.count) matters in compliance (\(compliancePercent)%)\n"
        let counts = BreachKind.allCases.map { "\($0.rawValue) \(breachCount($0))" }
        out += "  breaches: " + counts.joined(separator: ", ") + "\n"
        out += "  inquiries: \(inquiries.count) (\(inquiries.filter(\.inferred).count) matched by inference, "
            + "\(openInquiries.count) open)\n\n"

        for section in sections() {
            out += section.title + "\n"
            out += section.rows.isEmpty
                ? "  \(section.empty)\n" : Self.table(section.header, section.rows, right: section.right)
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
        [matterSection(), cadenceSection(), responseTimeSection(), breachSection(), openInquirySection(),
         correctionSection()] + destroyedSections() + exportSections() + accessSections()
    }

    private func matterSection() -> Section {
        let header = ["MATTER", "ENTRIES", "UPDATES", "LONGEST GAP (d)", "SINCE LAST (d)", "LIMIT (d)", "BREACHES",
                      "STATUS"]
        let rows = matters.map { m in
            [m.matter, String(m.entries), String(m.outboundUpdates), m.longestGap.map { Self.days($0.duration) } ?? "-",
             Self.days(m.sinceLastUpdate), String(m.limits.updateEveryDays), String(m.breachCount),
             (m.compliant ? "ok" : "BREACH") + (m.closedAt.map { " (closed \(Self.time($0)))" } ?? "")]
        }
        return Section(title: "MATTERS", header: header, rows: rows, right: [1, 2, 3, 4, 5, 6], empty: "no matters")
    }

    private func cadenceSection() -> Section {
        let cadence = matters.flatMap { m in m.cadenceBreaches.map { (m.matter, $0, m.limits.updateEveryDays) } }
        let rows = cadence.map { matter, gap, limit in
            [matter, Self.time(gap.start), Self.time(gap.end), Self.days(gap.duration), String(limit),
             gap.ongoing ? "ongoing" : ""]
        }
        return Section(title: "CADENCE BREACHES (gaps between outbound updates longer than the limit)",
                       header: ["MATTER", "FROM", "TO", "DAYS", "LIMIT", "NOTE"], rows: rows, right: [3, 4])
    }

    private func responseTimeSection() -> Section {
        func row(_ by: String, _ name: String, _ s: Stats) -> [String] {
            [by, name, String(s.count), Self.hours(s.median), Self.hours(s.p90), Self.hours(s.max)]
        }
        var rows = [[String]]()
        if let overall { rows.append(row("all", "", overall)) }
        for (name, s) in byAuthor { rows.append(row("author", name, s)) }
        for (name, s) in byChannel { rows.append(row("channel", name, s)) }
        return Section(title: "RESPONSE TIMES (hours\(businessHours ? ", business" : ""); nearest-rank median and p90)",
                       header: ["BY", "NAME", "COUNT", "MEDIAN", "P90", "MAX"], rows: rows, right: [2, 3, 4, 5],
                       empty: "no answered inquiries")
    }

    private func breachSection() -> Section {
        Section(title: "BREACHES",
                header: ["KIND", "MATTER", "SEQ", "FROM", "TO", "MEASURED", "LIMIT", "MET BY", "NOTE"],
                rows: breaches.map(Self.breachRow), right: [2, 5, 6])
    }

    private static func breachRow(_ b: Breach) -> [String] {
        let unitDays = b.kind == .cadence || b.kind == .promise
        let measured = unitDays ? days(b.measured) + " d" : hours(b.measured) + " h"
        let limit = b.kind == .promise ? "due" : unitDays ? days(b.limit) + " d" : hours(b.limit) + " h"
        var note = [String]()
        if b.inferred { note.append("inferred match") }
        if b.open {
            note.append(b.kind == .promise ? "no update since" : b.kind == .cadence ? "ongoing" : "still open")
        }
        return [b.kind.rawValue, b.matter, b.seq.map { String($0) } ?? "-", time(b.start), time(b.end), measured, limit,
                b.metBy.map { "#\($0)" } ?? "-", note.joined(separator: ", ")]
    }

    private func openInquirySection() -> Section {
        let rows = openInquiries.map { q in
            [String(q.seq), q.matter, q.channel ?? "-", Self.time(q.at), Self.hours(q.openAge ?? 0),
             Self.hours(q.respondLimit),
             q.respondBreached ? "OVERDUE" : q.acknowledgeBreached ? "NOT ACKNOWLEDGED" : "within limit"]
        }
        let header = ["SEQ", "MATTER", "CHANNEL", "SINCE", "AGE (h)", "LIMIT (h)", "STATUS"]
        return Section(title: "OPEN INQUIRIES", header: header, rows: rows, right: [0, 4, 5])
    }

    private func correctionSection() -> Section {
        let header = ["SEQ", "OCCURRED", "AUTHOR", "CORRECTS", "ORIGINAL OCCURRED", "ORIGINAL KIND", "ORIGINAL AUTHOR"]
        let rows = corrections.map { c in
            [String(c.seq), c.at.map(Self.time) ?? "-", c.author ?? "-", "#\(c.corrects)",
             c.correctedAt.map(Self.time) ?? "(not in selection)", c.correctedKind ?? "-", c.correctedAuthor ?? "-"]
        }
        return Section(title: "CORRECTIONS", header: header, rows: rows, right: [0])
    }

    /// Aligned columns, two spaces apart; `right` columns right-aligned; the last column unpadded.
    package static func table(_ header: [String], _ rows: [[String]], right: Set<Int> = []) -> String {
        // Widths in characters; ASCII cells (nearly all) are measured in O(1) from their UTF-8.
        func width(_ cell: String) -> Int { cell.utf8.allSatisfy { $0 < 0x80 } ? cell.utf8.count : cell.count }
        var widths = header.map(width)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], width(cell)) }
        }
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
        var object = JSONObject([
            ("reportVersion", 1),
            ("asOf", ReportJSON.time(asOf)),
            ("businessHours", .bool(businessHours)),
            ("records", ReportJSON.count(records)),
            ("skipped", ReportJSON.count(skipped)),
            ("summary", jsonSummary()),
            ("matters", .array(matters.map(ReportJSON.matter))),
            ("inquiries", .array(inquiries.map(ReportJSON.inquiry))),
            ("responseTimes", jsonResponseTimes()),
            ("breaches", .array(breaches.map(ReportJSON.breach))),
            ("corrections", .array(corrections.map(ReportJSON.correction))),
            ("trend", .array(trend.map(ReportJSON.month))),
        ])
        if access != nil { _ = object.updateValue(accessJSON(), forKey: "access") }
        if destroyed != nil { _ = object.updateValue(destroyedJSON(), forKey: "destroyed") }
        if exports != nil { _ = object.updateValue(exportsJSON(), forKey: "exports") }
        return .object(object)
    }

    private func jsonSummary() -> JSONValue {
        let breaches = BreachKind.allCases.map { ($0.rawValue, ReportJSON.count(breachCount($0))) }
        return .object(JSONObject([
            ("matters", ReportJSON.count(matters.count)),
            ("mattersCompliant", ReportJSON.count(mattersCompliant)),
            ("compliancePercent", .string(compliancePercent)),
            ("inquiries", ReportJSON.count(inquiries.count)),
            ("openInquiries", ReportJSON.count(openInquiries.count)),
            ("breaches", .object(JSONObject(breaches))),
        ]))
    }

    private func jsonResponseTimes() -> JSONValue {
        .object(JSONObject([
            ("overall", overall.map { ReportJSON.stats(nil, $0) } ?? .null),
            ("byAuthor", .array(byAuthor.map { ReportJSON.stats($0.0, $0.1) })),
            ("byChannel", .array(byChannel.map { ReportJSON.stats($0.0, $0.1) })),
        ]))
    }

    // MARK: - CSV (one row per breach, open inquiries past their limit included)

    public static let csvHeader = ["kind", "matter", "seq", "start", "end", "measured_seconds", "limit_seconds",
                                   "met_by", "inferred", "open"]

    package func csv() -> String {
        var out = Self.csvHeader.joined(separator: ",") + "\r\n"
        for b in breaches {
            let cells = [b.kind.rawValue, b.matter, b.seq.map { String($0) } ?? "",
                         Timestamp.formatRFC3339(micros: b.start), Timestamp.formatRFC3339(micros: b.end),
                         String(b.measured / 1_000_000), String(b.limit / 1_000_000), b.metBy.map { String($0) } ?? "",
                         b.inferred ? "true" : "false", b.open ? "true" : "false"]
            out += CSVWriter.row(cells)
        }
        return out
    }
}

/// The members of the report's JSON (docs/REPORT.md): times as RFC 3339, durations as whole seconds.
private enum ReportJSON {
    typealias Report = CommunicationReport

    static func time(_ v: Int64?) -> JSONValue { v.map { .string(Timestamp.formatRFC3339(micros: $0)) } ?? .null }
    static func seconds(_ v: Int64?) -> JSONValue { v.map { .integer($0 / 1_000_000) } ?? .null }
    static func seq(_ v: UInt64?) -> JSONValue { v.map { .integer(Int64($0)) } ?? .null }
    static func text(_ v: String?) -> JSONValue { v.map { .string($0) } ?? .null }
    static func count(_ v: Int) -> JSONValue { .integer(Int64(v)) }

    static func gap(_ g: Report.Gap) -> JSONValue {
        .object(JSONObject([
            ("start", time(g.start)), ("end", time(g.end)), ("seconds", seconds(g.duration)),
            ("days", .string(Report.days(g.duration))), ("ongoing", .bool(g.ongoing)),
        ]))
    }

    static func stats(_ name: String?, _ st: Report.Stats) -> JSONValue {
        var m: [(String, JSONValue)] = name.map { [("name", .string($0))] } ?? []
        m += [("count", count(st.count)), ("medianSeconds", seconds(st.median)), ("p90Seconds", seconds(st.p90)),
              ("maxSeconds", seconds(st.max))]
        return .object(JSONObject(m))
    }

    static func matter(_ m: Report.MatterSummary) -> JSONValue {
        .object(JSONObject([
            ("matter", .string(m.matter)), ("entries", count(m.entries)), ("outboundUpdates", count(m.outboundUpdates)),
            ("firstAt", time(m.firstAt)), ("lastUpdateAt", time(m.lastUpdateAt)),
            ("secondsSinceLastUpdate", seconds(m.sinceLastUpdate)),
            ("daysSinceLastUpdate", .string(Report.days(m.sinceLastUpdate))),
            ("longestGap", m.longestGap.map(gap) ?? .null),
            ("cadenceBreaches", .array(m.cadenceBreaches.map(gap))), ("closedAt", time(m.closedAt)),
            ("updateEveryDays", .integer(m.limits.updateEveryDays)), ("breaches", count(m.breachCount)),
            ("compliant", .bool(m.compliant)),
        ]))
    }

    static func inquiry(_ q: Report.Inquiry) -> JSONValue {
        .object(JSONObject([
            ("seq", seq(q.seq)), ("matter", .string(q.matter)), ("occurredAt", time(q.at)),
            ("channel", text(q.channel)),
            ("responseSeq", seq(q.responseSeq)), ("respondedAt", time(q.responseAt)), ("responder", text(q.responder)),
            ("inferred", .bool(q.inferred)), ("responseSeconds", seconds(q.responseTime)),
            ("acknowledgementSeq", seq(q.acknowledgementSeq)),
            ("acknowledgementSeconds", seconds(q.acknowledgementTime)),
            ("open", .bool(q.isOpen)), ("openSeconds", seconds(q.openAge)),
            ("respondBreached", .bool(q.respondBreached)), ("acknowledgeBreached", .bool(q.acknowledgeBreached)),
        ]))
    }

    static func breach(_ b: Report.Breach) -> JSONValue {
        .object(JSONObject([
            ("kind", .string(b.kind.rawValue)), ("matter", .string(b.matter)), ("seq", seq(b.seq)),
            ("start", time(b.start)), ("end", time(b.end)),
            ("measuredSeconds", seconds(b.measured)), ("limitSeconds", seconds(b.limit)), ("metBy", seq(b.metBy)),
            ("inferred", .bool(b.inferred)), ("open", .bool(b.open)),
        ]))
    }

    static func correction(_ c: Report.Correction) -> JSONValue {
        let original: JSONValue = c.correctedAt == nil && c.correctedKind == nil ? .null : .object(JSONObject([
            ("occurredAt", time(c.correctedAt)), ("kind", text(c.correctedKind)), ("author", text(c.correctedAuthor)),
        ]))
        return .object(JSONObject([
            ("seq", seq(c.seq)), ("matter", text(c.matter)), ("occurredAt", time(c.at)), ("author", text(c.author)),
            ("corrects", seq(c.corrects)), ("original", original),
        ]))
    }

    static func month(_ m: Report.MonthCompliance) -> JSONValue {
        .object(JSONObject([
            ("month", .string(m.month)), ("matters", count(m.matters)), ("compliant", count(m.compliant)),
        ]))
    }
}

extension BusinessHours {
    /// "Europe/London 09:00–17:30 mon,tue,wed,thu,fri", as the text and HTML reports describe the hours.
    package var label: String {
        let names = Self.dayNames.indices.filter { days.contains($0) }.map { Self.dayNames[$0] }.joined(separator: ",")
        return "\(timeZone.identifier) \(Self.hhmm(startMinute))–\(Self.hhmm(endMinute)) \(names)"
    }

    private static func hhmm(_ minute: Int) -> String {
        let h = minute / 60, m = minute % 60
        return "\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m)"
    }
}
