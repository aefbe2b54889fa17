import Foundation
@testable import Ledger
import LedgerBench
import LedgerFormat
import LedgerReport
import RecordFormats
import XCTest

/// Hand-built fixtures whose figures are worked out in the comments; every assertion is exact.
final class ReportTests: XCTestCase {
    static let hour: Int64 = 3_600_000_000
    static let day: Int64 = 86_400_000_000

    static func t(_ s: String) -> Int64 { Timestamp.parseRFC3339(s)! }

    static func record(_ seq: UInt64, _ matter: String, _ at: String, _ direction: String, _ kind: String,
                       author: String = "x", channel: String = "email",
                       extra: [(String, JSONValue)] = []) -> ReportRecord {
        var members: [(String, JSONValue)] = [
            ("matter", .string(matter)), ("author", .string(author)), ("channel", .string(channel)),
            ("direction", .string(direction)), ("kind", .string(kind)), ("occurredAt", .string(at)),
        ]
        members += extra
        return ReportRecord(seq: seq, fields: JSONObject(members))
    }

    /// Matter A: cadence gaps, an explicit late response, an inferred response, an open inquiry.
    /// Matter B (closed 2026-01-25): an urgent development answered late, a broken promise, a correction.
    /// Matter C: compliant. Seq 14 occurs after asOf (skipped).
    static var fixture: [ReportRecord] {
        [
            record(0, "A", "2026-01-01T09:00:00Z", "outbound", "update"),
            record(1, "A", "2026-01-05T10:00:00Z", "inbound", "inquiry", author: "client", extra: [("sourceId", "q1")]),
            record(2, "A", "2026-01-05T12:00:00Z", "outbound", "update", author: "y", channel: "phone"),
            record(3, "A", "2026-01-06T16:00:00Z", "outbound", "response", extra: [("inReplyTo", "q1")]),
            record(4, "A", "2026-01-10T09:00:00Z", "inbound", "inquiry", author: "client", channel: "phone"),
            record(5, "A", "2026-01-10T12:00:00Z", "outbound", "response", author: "y", channel: "phone"),
            record(6, "A", "2026-02-01T09:00:00Z", "outbound", "update"),
            record(7, "A", "2026-02-20T09:00:00Z", "inbound", "inquiry", author: "client"),
            record(8, "B", "2026-01-02T09:00:00Z", "outbound", "update", author: "z"),
            record(9, "B", "2026-01-10T09:00:00Z", "inbound", "court-ruling", author: "z"),
            record(10, "B", "2026-01-12T09:00:00Z", "outbound", "update", author: "z",
                   extra: [("followUpDue", "2026-01-20")]),
            record(11, "B", "2026-01-15T10:00:00Z", "outbound", "correction", author: "z", extra: [("corrects", 10)]),
            record(12, "C", "2026-02-20T09:00:00Z", "outbound", "update"),
            record(13, "C", "2026-02-25T09:00:00+01:00", "outbound", "update", extra: [("urgency", "urgent")]),
            record(14, "C", "2026-03-05T09:00:00Z", "outbound", "update"),
        ]
    }

    static let asOf = t("2026-03-01T00:00:00Z")

    static var closedPolicy: ReportPolicy {
        var p = ReportPolicy()
        p.closed["B"] = ReportPolicy.parseTime("2026-01-25", endOfDay: true)!
        return p
    }

    func testCadenceGapsAndSummary() throws {
        let r = CommunicationReport(records: Self.fixture.shuffled(), policy: Self.closedPolicy, asOf: Self.asOf)
        XCTAssertEqual(r.records, 15)
        XCTAssertEqual(r.skipped, 1)
        XCTAssertEqual(r.matters.map(\.matter), ["A", "B", "C"])
        let a = r.matters[0]
        XCTAssertEqual(a.entries, 8)
        XCTAssertEqual(a.outboundUpdates, 5)  // seqs 0, 2, 3, 5, 6
        // Jan 10 12:00 → Feb 1 09:00 = 21 d 21 h; Feb 1 09:00 → Mar 1 00:00 (asOf) = 27 d 15 h, ongoing.
        XCTAssertEqual(a.cadenceBreaches, [
            .init(start: Self.t("2026-01-10T12:00:00Z"), end: Self.t("2026-02-01T09:00:00Z"), ongoing: false),
            .init(start: Self.t("2026-02-01T09:00:00Z"), end: Self.asOf, ongoing: true),
        ])
        XCTAssertEqual(a.cadenceBreaches[0].duration, 21 * Self.day + 21 * Self.hour)
        XCTAssertEqual(a.longestGap?.duration, 27 * Self.day + 15 * Self.hour)
        XCTAssertEqual(a.sinceLastUpdate, 27 * Self.day + 15 * Self.hour)
        XCTAssertEqual(CommunicationReport.days(a.longestGap!.duration), "27.6")
        XCTAssertFalse(a.compliant)

        // B is closed on Jan 25 (end of day): the gap Jan 12 09:00 → Jan 26 00:00 is 13 d 15 h, inside 14 days.
        let b = r.matters[1]
        XCTAssertEqual(b.outboundUpdates, 2)  // the correction is not an update
        XCTAssertTrue(b.cadenceBreaches.isEmpty)
        XCTAssertEqual(b.sinceLastUpdate, 13 * Self.day + 15 * Self.hour - 1)
        XCTAssertFalse(b.compliant)
        XCTAssertTrue(r.matters[2].compliant)

        XCTAssertEqual(r.mattersCompliant, 1)
        XCTAssertEqual(r.compliancePercent, "33.3")
        XCTAssertEqual(BreachKind.allCases.map { r.breachCount($0) }, [2, 1, 0, 1, 1, 1])
        XCTAssertTrue(r.hasBreaches)
    }

    func testClosingAMatterRemovesItsCadenceBreach() {
        // Without closedAt, B's last update (Jan 12 09:00) is 47 d 15 h before asOf: one ongoing cadence breach.
        let open = CommunicationReport(records: Self.fixture, asOf: Self.asOf)
        XCTAssertEqual(open.matters[1].cadenceBreaches.map(\.duration), [47 * Self.day + 15 * Self.hour])
        let closed = CommunicationReport(records: Self.fixture, policy: Self.closedPolicy, asOf: Self.asOf)
        XCTAssertEqual(closed.matters[1].cadenceBreaches.count, 0)
    }

    func testInquiriesExplicitInferredAndOpen() {
        let r = CommunicationReport(records: Self.fixture, policy: Self.closedPolicy, asOf: Self.asOf)
        XCTAssertEqual(r.inquiries.map(\.seq), [1, 4, 7])
        let q1 = r.inquiries[0], q4 = r.inquiries[1], q7 = r.inquiries[2]
        // q1: inReplyTo "q1" names seq 3 (30 h later) although seq 2 came first; seq 2 acknowledges it after 2 h.
        XCTAssertEqual(q1.responseSeq, 3)
        XCTAssertFalse(q1.inferred)
        XCTAssertEqual(q1.responseTime, 30 * Self.hour)
        XCTAssertEqual(q1.acknowledgementSeq, 2)
        XCTAssertEqual(q1.acknowledgementTime, 2 * Self.hour)
        XCTAssertTrue(q1.respondBreached)
        XCTAssertFalse(q1.acknowledgeBreached)
        // q4: no inReplyTo: the next outbound entry in the matter (seq 5, 3 h later), marked inferred.
        XCTAssertEqual(q4.responseSeq, 5)
        XCTAssertTrue(q4.inferred)
        XCTAssertEqual(q4.responseTime, 3 * Self.hour)
        // q7: no outbound entry after it: open, Feb 20 09:00 → Mar 1 00:00 = 207 h.
        XCTAssertTrue(q7.isOpen)
        XCTAssertEqual(q7.openAge, 207 * Self.hour)
        XCTAssertEqual(r.openInquiries.map(\.seq), [7])

        let open = r.breaches.filter { $0.kind == .openInquiry }
        XCTAssertEqual(open.map(\.seq), [7])
        XCTAssertEqual(open[0].measured, 207 * Self.hour)
        let respond = r.breaches.filter { $0.kind == .respond }
        XCTAssertEqual(respond.map(\.seq), [1])
        XCTAssertEqual(respond[0].metBy, 3)
        XCTAssertEqual(respond[0].measured, 30 * Self.hour)
        XCTAssertEqual(respond[0].limit, 24 * Self.hour)

        // Nearest rank over [3 h, 30 h]: median = 1st = 3 h, p90 = 2nd = 30 h.
        XCTAssertEqual(r.overall, .init(count: 2, median: 3 * Self.hour, p90: 30 * Self.hour, max: 30 * Self.hour))
        XCTAssertEqual(r.byAuthor.map(\.0), ["x", "y"])
        XCTAssertEqual(r.byAuthor.map(\.1.median), [30 * Self.hour, 3 * Self.hour])
        XCTAssertEqual(r.byChannel.map(\.0), ["email", "phone"])
        XCTAssertEqual(r.byChannel.map(\.1.max), [30 * Self.hour, 3 * Self.hour])
    }

    func testInReplyToBySeqReference() {
        var records = Self.fixture
        records[5] = Self.record(5, "A", "2026-01-10T12:00:00Z", "outbound", "response", author: "y", channel: "phone",
                                 extra: [("inReplyTo", "#4")])
        let r = CommunicationReport(records: records, asOf: Self.asOf)
        XCTAssertEqual(r.inquiries[1].responseSeq, 5)
        XCTAssertFalse(r.inquiries[1].inferred)
    }

    func testUrgentPromiseAndCorrection() {
        let r = CommunicationReport(records: Self.fixture, policy: Self.closedPolicy, asOf: Self.asOf)
        let urgent = r.breaches.filter { $0.kind == .urgent }
        XCTAssertEqual(urgent.count, 1)
        XCTAssertEqual(urgent[0].seq, 9)
        XCTAssertEqual(urgent[0].metBy, 10)
        XCTAssertEqual(urgent[0].measured, 48 * Self.hour)
        // Promise made at seq 10, due 2026-01-20: no update after it by Jan 21 00:00 UTC (the correction is not one).
        let promise = r.breaches.filter { $0.kind == .promise }
        XCTAssertEqual(promise.map(\.seq), [10])
        XCTAssertEqual(promise[0].end, Self.t("2026-01-21T00:00:00Z"))
        XCTAssertTrue(promise[0].open)
        // The correction, next to the entry it corrects.
        XCTAssertEqual(r.corrections.count, 1)
        XCTAssertEqual(r.corrections[0].seq, 11)
        XCTAssertEqual(r.corrections[0].corrects, 10)
        XCTAssertEqual(r.corrections[0].correctedKind, "update")
        XCTAssertEqual(r.corrections[0].correctedAt, Self.t("2026-01-12T09:00:00Z"))
    }

    func testAsOfBeforeTheDataChangesFigures() {
        // As of Jan 6 00:00: only seqs 0-2 of A exist; inquiry 1 was acknowledged, its response (seq 3) is in the
        // future, so seq 2 (the next outbound) is taken as an inferred response after 2 h; no cadence gap yet.
        let r = CommunicationReport(records: Self.fixture, asOf: Self.t("2026-01-06T00:00:00Z"))
        XCTAssertEqual(r.matters.map(\.matter), ["A", "B"])
        XCTAssertEqual(r.inquiries.map(\.responseSeq), [2])
        XCTAssertEqual(r.inquiries[0].inferred, true)
        XCTAssertFalse(r.hasBreaches)
    }

    // MARK: - Business hours

    static let londonPolicyJSON = """
    {"businessHours": {"timeZone": "Europe/London", "start": "09:00", "end": "17:30",
                       "days": ["mon","tue","wed","thu","fri"]}}
    """

    func testBusinessHoursAcrossAWeekendAndTheSpringDSTChange() throws {
        let policy = try ReportPolicy.parse(Array(Self.londonPolicyJSON.utf8))
        // UK clocks go forward on Sunday 2026-03-29 at 01:00 UTC (GMT → BST).
        let records = [
            // Thu 17:00 GMT → Fri 10:00 GMT: 0.5 h + 1 h = 1.5 h.
            Self.record(0, "L", "2026-03-26T17:00:00Z", "inbound", "inquiry"),
            Self.record(1, "L", "2026-03-27T10:00:00Z", "outbound", "response"),
            // Fri 16:00 GMT → Mon 10:00 BST (09:00 UTC): 1.5 h Friday, nothing at the weekend, 1 h Monday = 2.5 h
            // (wall clock 65 h: a breach of both limits without business hours).
            Self.record(2, "L", "2026-03-27T16:00:00Z", "inbound", "inquiry"),
            Self.record(3, "L", "2026-03-30T10:00:00+01:00", "outbound", "response", extra: [("inReplyTo", "#2")]),
            // Mon 08:30 BST → 09:30 BST: the office opens at 09:00 BST = 08:00 UTC, so 0.5 h (0 h if DST were
            // ignored).
            Self.record(4, "L", "2026-03-30T07:30:00Z", "inbound", "inquiry"),
            // (Also inquiry 2's first outbound contact: 1.5 h + 0.5 h = 2 h.)
            Self.record(5, "L", "2026-03-30T08:30:00Z", "outbound", "response", extra: [("inReplyTo", "#4")]),
        ]
        let asOf = Self.t("2026-03-31T00:00:00Z")
        let r = CommunicationReport(records: records, policy: policy, asOf: asOf)
        XCTAssertEqual(r.inquiries.map(\.responseTime), [90 * 60_000_000, 150 * 60_000_000, 30 * 60_000_000])
        XCTAssertEqual(r.inquiries.map(\.acknowledgementTime), [90 * 60_000_000, 120 * 60_000_000, 30 * 60_000_000])
        XCTAssertFalse(r.breaches.contains { $0.kind == .respond || $0.kind == .acknowledge })

        let wall = CommunicationReport(records: records, asOf: asOf)
        XCTAssertEqual(wall.inquiries[1].responseTime, 65 * Self.hour)
        XCTAssertEqual(Set(wall.breaches.filter { $0.seq == 2 }.map(\.kind)), [.respond, .acknowledge])
    }

    func testBusinessClockAutumnDSTAndWeekendDays() throws {
        let policy = try ReportPolicy.parse(Array(Self.londonPolicyJSON.utf8))
        let clock = BusinessClock(policy.businessHours)
        // Autumn: clocks go back Sunday 2026-10-25. Fri 23 Oct 17:00 BST (16:00 UTC) → Mon 26 Oct 09:30 GMT:
        // 0.5 h + 0.5 h.
        XCTAssertEqual(clock.elapsed(Self.t("2026-10-23T16:00:00Z"), Self.t("2026-10-26T09:30:00Z")), Self.hour)
        // A whole working week: 5 × 8.5 h.
        XCTAssertEqual(clock.elapsed(Self.t("2026-03-23T00:00:00Z"), Self.t("2026-03-30T00:00:00Z")),
                       5 * (8 * Self.hour + Self.hour / 2))
        // Saturday to Sunday: nothing.
        XCTAssertEqual(clock.elapsed(Self.t("2026-03-28T00:00:00Z"), Self.t("2026-03-29T23:00:00Z")), 0)
        XCTAssertEqual(clock.elapsed(Self.t("2026-03-28T00:00:00Z"), Self.t("2026-03-27T00:00:00Z")), 0)
        XCTAssertEqual(BusinessClock(nil).elapsed(0, 5), 5)
    }

    // MARK: - Policy file

    func testPolicyDefaultsOverridesAndClosedMatters() throws {
        let defaults = try ReportPolicy.parse(Array("{}".utf8))
        XCTAssertEqual(defaults.defaults, MatterLimits())
        let d = defaults.defaults
        XCTAssertEqual([d.updateEveryDays, d.respondWithinHours, d.acknowledgeWithinHours, d.urgentUpdateWithinHours],
                       [14, 24, 4, 24])
        let p = try ReportPolicy.parse(Array("""
        {"updateEveryDays": 7, "respondWithinHours": 48,
         "matters": {"A": {"updateEveryDays": 30}},
         "closed": [{"matter": "B", "closedAt": "2026-01-25T12:00:00+01:00"}]}
        """.utf8))
        XCTAssertEqual(p.limits(for: "A").updateEveryDays, 30)
        XCTAssertEqual(p.limits(for: "A").respondWithinHours, 48)  // inherited from the file's defaults
        XCTAssertEqual(p.limits(for: "Z").updateEveryDays, 7)
        XCTAssertEqual(p.closed["B"], Self.t("2026-01-25T11:00:00Z"))

        // With a 30-day cadence for A its 21 d 21 h and 27 d 15 h gaps are within the limit.
        let r = CommunicationReport(records: Self.fixture, policy: p, asOf: Self.asOf)
        XCTAssertEqual(r.matters[0].cadenceBreaches.count, 0)
        XCTAssertEqual(r.matters[0].limits.updateEveryDays, 30)
    }

    func testPolicyRejectsUnknownKeysAndBadValuesByName() {
        func message(_ json: String) -> String {
            do {
                _ = try ReportPolicy.parse(Array(json.utf8))
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message(#"{"updateEvryDays": 3}"#).contains("'updateEvryDays'"))
        XCTAssertTrue(message(#"{"matters": {"A": {"colour": 1}}}"#).contains("'matters.A.colour'"))
        XCTAssertTrue(message(#"{"businessHours": {"timeZone": "Europe/London", "lunch": "12:00"}}"#)
            .contains("'businessHours.lunch'"))
        XCTAssertTrue(message(#"{"businessHours": {"timeZone": "Mars/Olympus"}}"#).contains("not an IANA time zone"))
        XCTAssertTrue(message(#"{"businessHours": {"timeZone": "UTC", "start": "18:00", "end": "09:00"}}"#)
            .contains("before"))
        XCTAssertTrue(message(#"{"businessHours": {"timeZone": "UTC", "days": ["mon", "funday"]}}"#).contains("days"))
        XCTAssertTrue(message(#"{"respondWithinHours": 0}"#).contains("'respondWithinHours' must be an integer"))
        XCTAssertTrue(message(#"{"respondWithinHours": "24"}"#).contains("'respondWithinHours'"))
        XCTAssertTrue(message(#"{"closed": [{"matter": "B"}]}"#).contains("'closed[0].closedAt'"))
        XCTAssertTrue(message(#"{"closed": [{"matter": "B", "closedAt": "2026-01-01", "why": 1}]}"#)
            .contains("'closed[0].why'"))
        XCTAssertTrue(message("[1]").contains("JSON object"))
        XCTAssertTrue(message("{").contains("not valid JSON"))
    }

    // MARK: - Renderings

    func testRenderingsAreDeterministicAndDocumented() throws {
        let r = CommunicationReport(records: Self.fixture, policy: Self.closedPolicy, asOf: Self.asOf)
        let shuffled = CommunicationReport(records: Self.fixture.reversed(), policy: Self.closedPolicy, asOf: Self.asOf)
        for format in ReportFormat.allCases {
            XCTAssertEqual(r.render(format, policy: Self.closedPolicy),
                           shuffled.render(format, policy: Self.closedPolicy), "\(format)")
        }
        let csv = r.render(.csv, policy: Self.closedPolicy).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(csv.first, "kind,matter,seq,start,end,measured_seconds,limit_seconds,met_by,inferred,open")
        XCTAssertEqual(csv.count, 1 + 6)
        let respond = "respond,A,1,2026-01-05T10:00:00.000000Z,2026-01-06T16:00:00.000000Z,108000,86400,3,false,false"
        XCTAssertTrue(csv.contains(respond), csv.joined(separator: "\n"))

        guard case .object(let json) = try JSONParser.parse(r.render(.json, policy: Self.closedPolicy)) else {
            return XCTFail("not an object")
        }
        XCTAssertEqual(json["summary"]?.objectValue?["compliancePercent"]?.stringValue, "33.3")
        XCTAssertEqual(json["summary"]?.objectValue?["breaches"]?.objectValue?["open-inquiry"]?.integerValue, 1)
        let inquiries = json["inquiries"]?.arrayValue ?? []
        XCTAssertEqual(inquiries.map { $0.objectValue?["responseSeconds"] ?? .null },
                       [.integer(108_000), .integer(10_800), .null])
        XCTAssertEqual(inquiries.map { $0.objectValue?["inferred"]?.boolValue }, [false, true, false])

        let text = r.render(.text, policy: Self.closedPolicy)
        XCTAssertTrue(text.contains("1 of 3 matters in compliance (33.3%)"), text)
        let counts = "breaches: cadence 2, respond 1, acknowledge 0, urgent 1, promise 1, open-inquiry 1"
        XCTAssertTrue(text.contains(counts), text)

        let html = r.render(.html, policy: Self.closedPolicy)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 3, "timeline, histogram, trend")
        XCTAssertFalse(html.contains("<script"))
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        XCTAssertFalse(withoutNamespace.contains("http://"), "no external assets")
    }

    /// Jan: A and B open, both with breaches dated in January. Feb: B closed (Jan 25); A's second gap passed its limit
    /// on Feb 15; C fine. Mar: A's open inquiry is dated at the report time; C fine.
    func testMonthlyTrend() {
        let r = CommunicationReport(records: Self.fixture, policy: Self.closedPolicy, asOf: Self.asOf)
        XCTAssertEqual(r.trend, [.init(month: "2026-01", matters: 2, compliant: 0),
                                 .init(month: "2026-02", matters: 2, compliant: 1),
                                 .init(month: "2026-03", matters: 2, compliant: 1)])
    }

    func testCSVAndHTMLEscapeHostileValues() {
        let hostile = "=HYPERLINK(\"x\"),<script>alert(1)</script>"
        let records = [Self.record(0, hostile, "2026-01-01T09:00:00Z", "outbound", "update")]
        let r = CommunicationReport(records: records, asOf: Self.asOf)
        let csv = r.render(.csv, policy: ReportPolicy())
        XCTAssertTrue(csv.contains("\"'=HYPERLINK(\"\"x\"\"),<script>alert(1)</script>\""), csv)
        let html = r.render(.html, policy: ReportPolicy())
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertTrue(html.contains("&lt;script&gt;"))
    }

    /// The report CSV goes through `CSVWriter`: a matter a spreadsheet would run as a formula is written with a
    /// leading single quote (then quoted as RFC 4180 requires), in the breach rows that name it.
    func testCSVGuardsFormulaMattersInBreachRows() throws {
        let cells = ["=HYPERLINK(\"http://x\")": #""'=HYPERLINK(""http://x"")""#,
                     "-2+3": "'-2+3", "+SUM(A1)": "'+SUM(A1)", "@cmd": "'@cmd"]
        // One update each on Jan 1: an ongoing cadence gap to Mar 1 (58 d 15 h = 5,065,200 s), past 14 days.
        let records = cells.keys.sorted().enumerated().map { i, matter in
            Self.record(UInt64(i), matter, "2026-01-01T09:00:00Z", "outbound", "update")
        }
        let csv = CommunicationReport(records: records, asOf: Self.asOf).render(.csv, policy: ReportPolicy())
        let rows = csv.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }
        XCTAssertEqual(rows.count, cells.count, csv)
        for cell in cells.values {
            let row = "cadence,\(cell),,2026-01-01T09:00:00.000000Z,2026-03-01T00:00:00.000000Z,"
                + "5065200,1209600,,false,true"
            XCTAssertTrue(rows.contains(row), "\(row) in\n\(csv)")
        }
        XCTAssertTrue(csv.contains(#","'=HYPERLINK(""http://x"")","#), csv)
        // Read back, the matter column holds each name behind its quote.
        let parsed = try CSVReader.readAll(Array(csv.utf8)).dropFirst()
        XCTAssertEqual(Set(parsed.map { $0.fields[1] }), Set(cells.keys.map { "'" + $0 }))
    }

    // MARK: - Sample records (the measurement in docs/REPORT.md)

    /// Runs the engine over `ledger bench`'s synthetic records. With LEDGER_REPORT_SAMPLE_OUT=FILE (and optionally
    /// LEDGER_REPORT_SAMPLE_COUNT) it also writes them as JSONL for `ledger import`, the input of the measurement.
    func testSampleRecords() throws {
        let env = ProcessInfo.processInfo.environment
        let count = Int(env["LEDGER_REPORT_SAMPLE_COUNT"] ?? "") ?? 5_000
        var sample = SampleRecords()
        if let out = env["LEDGER_REPORT_SAMPLE_OUT"], !out.isEmpty {
            try Data(sample.jsonLines(count: count)).write(to: URL(fileURLWithPath: out))
            sample = SampleRecords()
        }
        var records = [ReportRecord]()
        for i in 0..<count {
            guard case .object(let o) = sample.next(index: i) else { return XCTFail("not an object") }
            records.append(ReportRecord(seq: UInt64(i), fields: o))
        }
        let asOf = Self.t("2031-01-01T00:00:00Z")  // after the last sample record (100,000 records span 2024–2029)
        let r = CommunicationReport(records: records, asOf: asOf)
        XCTAssertEqual(r.records, count)
        XCTAssertEqual(r.skipped, 0)
        XCTAssertEqual(r.matters.count, 100)
        XCTAssertEqual(r.matters.map(\.entries).reduce(0, +), count)
        XCTAssertEqual(r.inquiries.count, records.filter { $0.fields["kind"]?.stringValue == "inquiry" }.count)
        // Deterministic: the same records in another order give the same JSON.
        let again = CommunicationReport(records: records.reversed(), asOf: asOf)
        XCTAssertEqual(r.render(.json, policy: ReportPolicy()), again.render(.json, policy: ReportPolicy()))
    }

    // MARK: - From the ledger

    /// The fixture appended to a real ledger: the parallel report reader gives the same report as the in-memory
    /// records, and a flipped ciphertext bit is refused as corruption (never reported on).
    func testLedgerSourceMatchesRecordsAndRefusesTamperedCiphertext() throws {
        let t = try TestLedger()
        // Ledger seqs follow append order; the fixture's seqs are already 0...14 in that order.
        for record in Self.fixture {
            var object = record.fields
            object.updateValue("summary text that the report never reads", forKey: "summary")
            _ = try t.ledger.append(try RecordSchema.validate(.object(object)))
        }
        let fromLedger = try ReportSource.records(from: t.ledger, filter: EntryFilter())
        XCTAssertEqual(fromLedger.map(\.seq), Array(0...14))
        XCTAssertNil(fromLedger[0].fields["summary"], "only the report's fields are read")
        let a = CommunicationReport(records: fromLedger, policy: Self.closedPolicy, asOf: Self.asOf)
        let b = CommunicationReport(records: Self.fixture, policy: Self.closedPolicy, asOf: Self.asOf)
        XCTAssertEqual(a.render(.json, policy: Self.closedPolicy), b.render(.json, policy: Self.closedPolicy))
        // The matter filter and the occurredAt range, as `ledger list` applies them.
        let onlyA = try ReportSource.records(from: t.ledger,
                                             filter: EntryFilter(matter: "A", from: Self.t("2026-01-05T00:00:00Z")))
        XCTAssertEqual(onlyA.map(\.seq), [1, 2, 3, 4, 5, 6, 7])

        let dir = t.directory
        let reopened = try t.reopen()
        reopened.close()
        try RawLedger.edit(dir) { raw, txn in
            let stored = try txn.entry(raw, UInt64(13))
            try txn.flipEntry(raw, UInt64(13), byte: stored.count - 20, bit: 3)
        }
        let damaged = try Ledger.open(at: dir)
        defer { damaged.close() }
        try damaged.unlock(with: .keyFile(path: t.keyPath))
        XCTAssertThrowsError(try ReportSource.records(from: damaged, filter: EntryFilter())) { error in
            guard case LedgerError.corrupt(let what)? = error as? LedgerError else { return XCTFail("\(error)") }
            XCTAssertTrue(what.contains("entry 13"), what)
        }
    }
}
