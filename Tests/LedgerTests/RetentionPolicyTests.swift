import Foundation
import LedgerFormat
@testable import LedgerReport
import LedgerSupport
import RecordFormats
import XCTest

/// The retention policy file, period arithmetic, the status rules and their renderings; every figure is worked out in
/// the comments and every assertion is exact.
final class RetentionPolicyTests: XCTestCase {
    static func t(_ s: String) -> Int64 { Timestamp.parseRFC3339(s)! }

    static func parse(_ json: String) throws -> RetentionPolicy { try RetentionPolicy.parse(Array(json.utf8)) }

    /// The message of the `ReportError.invalidPolicy` that `json` is rejected with.
    static func rejection(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try parse(json)
            XCTFail("accepted: \(json.prefix(200))", file: file, line: line)
        } catch ReportError.invalidPolicy(let what) {
            return what
        } catch {
            XCTFail("not invalidPolicy: \(error)", file: file, line: line)
        }
        return ""
    }

    // MARK: - Parsing

    func testDefaults() throws {
        for policy in [RetentionPolicy(), try Self.parse("{}")] {
            XCTAssertEqual(policy.defaultPeriod, RetentionPeriod(years: 7))
            XCTAssertEqual(policy.defaultPeriod.description, "7 years")
            XCTAssertTrue(policy.byTag.isEmpty)
            XCTAssertTrue(policy.byMatter.isEmpty)
            XCTAssertTrue(policy.closed.isEmpty)
            XCTAssertTrue(policy.period(matter: "2024-0042", recordTags: ["litigation"]) == (RetentionPeriod(years: 7),
                                                                                            "default"))
        }
    }

    func testTheDocumentedExample() throws {
        let policy = try Self.parse("""
            {
              "formatVersion": 1,
              "defaultRetention": {"years": 7},
              "tags": {"litigation": {"years": 10}, "estate-planning": {"years": 25, "months": 0, "days": 0}},
              "matters": {"2024-0042": {"years": 6}},
              "closed": [{"matter": "2024-0042", "closedAt": "2025-06-30"}]
            }
            """)
        XCTAssertEqual(policy.defaultPeriod, RetentionPeriod(years: 7))
        XCTAssertEqual(policy.byTag, ["litigation": RetentionPeriod(years: 10),
                                      "estate-planning": RetentionPeriod(years: 25)])
        XCTAssertEqual(policy.byMatter, ["2024-0042": RetentionPeriod(years: 6)])
        // A date closes the matter at the end of that UTC day.
        XCTAssertEqual(policy.closed, ["2024-0042": Self.t("2025-06-30T23:59:59.999999Z")])
    }

    func testEachPeriodKey() throws {
        let cases: [(String, RetentionPeriod, String)] = [
            (#"{"years": 10}"#, RetentionPeriod(years: 10), "10 years"),
            (#"{"months": 18}"#, RetentionPeriod(months: 18), "18 months"),
            (#"{"days": 30}"#, RetentionPeriod(days: 30), "30 days"),
            (#"{"years": 6, "months": 3}"#, RetentionPeriod(years: 6, months: 3), "6 years 3 months"),
            (#"{"years": 1, "months": 1, "days": 1}"#, RetentionPeriod(years: 1, months: 1, days: 1),
             "1 year 1 month 1 day"),
            (#"{"years": 0, "days": 1}"#, RetentionPeriod(days: 1), "1 day"),
            (#"{"years": 100, "months": 1200, "days": 36500}"#, RetentionPeriod(years: 100, months: 1200, days: 36500),
             "100 years 1200 months 36500 days"),
        ]
        for (json, period, text) in cases {
            let policy = try Self.parse(#"{"defaultRetention": \#(json), "tags": {"t": \#(json)}, "matters": {"m": \#(json)}}"#)
            XCTAssertEqual(policy.defaultPeriod, period, json)
            XCTAssertEqual(policy.byTag["t"], period, json)
            XCTAssertEqual(policy.byMatter["m"], period, json)
            XCTAssertEqual(period.description, text)
        }
        XCTAssertEqual(RetentionPeriod().description, "0 days")
    }

    func testRejectionsNameTheKeyPath() {
        let long = String(repeating: "x", count: 201)
        let cases: [(String, String)] = [
            (#"{"formatVersion": 2}"#, "'formatVersion' must be the integer 1"),
            (#"{"formatVersion": "1"}"#, "'formatVersion' must be the integer 1"),
            (#"{"defaultRetention": 7}"#, "'defaultRetention' must be an object {years, months, days}, not integer"),
            (#"{"defaultRetention": {}}"#, "'defaultRetention' must give at least one of years, months, days"),
            (#"{"defaultRetention": {"years": 0}}"#, "'defaultRetention' must be longer than zero"),
            (#"{"defaultRetention": {"years": 0, "months": 0, "days": 0}}"#, "'defaultRetention' must be longer than zero"),
            (#"{"defaultRetention": {"weeks": 2}}"#, "unknown key 'defaultRetention.weeks'; allowed here: years, months, days"),
            (#"{"tags": {"litigation": {"years": 101}}}"#, "'tags.litigation.years' must be an integer from 0 to 100"),
            (#"{"tags": {"litigation": {"years": -1}}}"#, "'tags.litigation.years' must be an integer from 0 to 100"),
            (#"{"tags": {"litigation": {"years": "10"}}}"#, "'tags.litigation.years' must be an integer from 0 to 100"),
            (#"{"tags": {"litigation": {"years": 9223372036854775807}}}"#, "'tags.litigation.years' must be an integer"),
            (#"{"tags": {"litigation": {"years": -9223372036854775808}}}"#, "'tags.litigation.years' must be an integer"),
            (#"{"tags": {"litigation": {"months": 1201}}}"#, "'tags.litigation.months' must be an integer from 0 to 1200"),
            (#"{"tags": {"litigation": {"days": 36501}}}"#, "'tags.litigation.days' must be an integer from 0 to 36500"),
            (#"{"tags": {"x": {"years": {"years": {"years": 1}}}}}"#, "'tags.x.years' must be an integer from 0 to 100"),
            (#"{"tags": {"litigation": {"years": 1, "weeks": 2}}}"#, "unknown key 'tags.litigation.weeks'"),
            (#"{"tags": {"litigation": [1]}}"#, "'tags.litigation' must be an object {years, months, days}, not array"),
            (#"{"tags": []}"#, "'tags' must be an object of tag → period"),
            (#"{"tags": {"": {"years": 1}}}"#, "'tags' has a key of 0 bytes; tag names must be one line of 1 to 200 bytes"),
            (#"{"tags": {"\#(long)": {"years": 1}}}"#, "'tags' has a key of 201 bytes"),
            (#"{"tags": {"a\nb": {"years": 1}}}"#, "'tags' has a key of 3 bytes"),
            (#"{"matters": "x"}"#, "'matters' must be an object of matter → period"),
            (#"{"matters": {"2024-0042": null}}"#, "'matters.2024-0042' must be an object {years, months, days}, not null"),
            (#"{"matters": {"2024-0042": {"days": true}}}"#, "'matters.2024-0042.days' must be an integer from 0 to 36500"),
            (#"{"matters": {"": {"days": 1}}}"#, "'matters' has a key of 0 bytes"),
            (#"{"closed": {}}"#, "'closed' must be an array of {matter, closedAt}"),
            (#"{"closed": [{"matter": "A", "closedAt": "yesterday"}]}"#, "'closed[0].closedAt' must be an RFC 3339 time"),
            (#"{"closed": [{"matter": "A"}]}"#, "'closed[0].closedAt' must be an RFC 3339 time"),
            (#"{"closed": [{"matter": "", "closedAt": "2025-01-01"}]}"#, "'closed[0].matter' must be a non-empty string"),
            (#"{"closed": [{"matter": "A", "closedAt": "2025-01-01", "by": "x"}]}"#, "unknown key 'closed[0].by'"),
            (#"{"closed": [{"matter": "A", "closedAt": "2025-01-01"}, {"matter": "A", "closedAt": "2025-02-01"}]}"#,
             "'closed' names matter 'A' twice"),
            (#"{"retention": {"years": 1}}"#, "unknown key 'retention'; allowed here: formatVersion, defaultRetention"),
            ("[]", "the retention policy must be a JSON object"),
        ]
        for (json, expected) in cases {
            let what = Self.rejection(json)
            XCTAssertTrue(what.hasPrefix(expected), "\(json.prefix(80)) -> \(what)")
        }
    }

    /// Input no JSON parser should take: numbers beyond Int64, fractions, duplicate keys, deep nesting, bad UTF-8.
    func testHostileInputIsRejectedNotCrashed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let cases = [
            #"{"defaultRetention": {"years": 99999999999999999999999}}"#,
            #"{"defaultRetention": {"years": 1.5}}"#,
            #"{"defaultRetention": {"years": 1e3}}"#,
            #"{"defaultRetention": {"years": 1}, "defaultRetention": {"years": 2}}"#,
            #"{"tags": {"a": {"years": 1}, "a": {"years": 2}}}"#,
            "", "{", "null", "7", deep, #"{"tags": "# + deep + "}",
        ]
        for json in cases {
            XCTAssertFalse(Self.rejection(json).isEmpty, String(json.prefix(80)))
        }
        XCTAssertTrue(Self.rejection(#"{"defaultRetention": {"years": 1.5}}"#).hasPrefix("not valid JSON"))
        XCTAssertThrowsError(try RetentionPolicy.parse([0x7B, 0xFF, 0x7D]))
        // The unknown-key message does not copy a huge key.
        let huge = String(repeating: "k", count: 10_000)
        let what = Self.rejection(#"{"\#(huge)": 1}"#)
        XCTAssertTrue(what.hasPrefix("unknown key '…' (10000 bytes)"), what)
    }

    // MARK: - Period arithmetic

    func testEndIsCalendarArithmeticInUTC() {
        let cases: [(RetentionPeriod, String, String)] = [
            // Leap day + 1 year clamps to Feb 28 (Foundation's Calendar does the same); + 4 years finds Feb 29 again.
            (RetentionPeriod(years: 1), "2024-02-29T12:00:00Z", "2025-02-28T12:00:00Z"),
            (RetentionPeriod(years: 4), "2024-02-29T12:00:00Z", "2028-02-29T12:00:00Z"),
            (RetentionPeriod(months: 12), "2024-02-29T12:00:00Z", "2025-02-28T12:00:00Z"),
            // Years, then months, each clamping (as Foundation's Calendar): Feb 28 2025 + 1 month.
            (RetentionPeriod(years: 1, months: 1), "2024-02-29T12:00:00Z", "2025-03-28T12:00:00Z"),
            // Jan 31 + 1 month: the last day of February; years and months go first, then days.
            (RetentionPeriod(months: 1), "2025-01-31T08:00:00Z", "2025-02-28T08:00:00Z"),
            (RetentionPeriod(months: 1), "2024-01-31T08:00:00Z", "2024-02-29T08:00:00Z"),
            (RetentionPeriod(months: 1, days: 1), "2025-01-31T08:00:00Z", "2025-03-01T08:00:00Z"),
            (RetentionPeriod(months: 13), "2025-12-15T00:00:00Z", "2027-01-15T00:00:00Z"),
            (RetentionPeriod(days: 30), "2025-06-30T23:59:59.999999Z", "2025-07-30T23:59:59.999999Z"),
            (RetentionPeriod(years: 7), "2025-06-30T23:59:59.999999Z", "2032-06-30T23:59:59.999999Z"),
            // Before the epoch: floor division keeps the time of day.
            (RetentionPeriod(days: 1), "1969-12-31T12:00:00Z", "1970-01-01T12:00:00Z"),
            (RetentionPeriod(years: 1), "1968-02-29T00:00:01Z", "1969-02-28T00:00:01Z"),
        ]
        for (period, from, to) in cases {
            XCTAssertEqual(Timestamp.formatRFC3339(micros: period.end(from: Self.t(from))),
                           Timestamp.formatRFC3339(micros: Self.t(to)), "\(from) + \(period)")
        }
    }

    /// The same instants as Foundation's Gregorian Calendar in UTC, on seeded random dates (1900–2100, where its
    /// calendar is Gregorian too) and periods within the policy file's bounds.
    func testEndAgreesWithFoundationCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var random = SplitMix64(seed: 0x5EED_0042)
        let from1900 = Self.t("1900-01-01T00:00:00Z"), to2100 = Self.t("2100-01-01T00:00:00Z")
        for _ in 0..<2000 {
            // Whole seconds: Date is a Double, so microseconds would not survive the round trip.
            let seconds = Int64.random(in: from1900 / 1_000_000...to2100 / 1_000_000, using: &random)
            // Month ends and leap days are the interesting starts: bias the day of month towards them.
            let start = Bool.random(using: &random) ? seconds : Self.monthEnd(near: seconds)
            let period = RetentionPeriod(years: Int.random(in: 0...100, using: &random),
                                         months: Int.random(in: 0...30, using: &random),
                                         days: Int.random(in: 0...400, using: &random))
            let date = Date(timeIntervalSince1970: TimeInterval(start))
            let components = DateComponents(year: period.years, month: period.months, day: period.days)
            let expected = calendar.date(byAdding: components, to: date)!.timeIntervalSince1970
            XCTAssertEqual(period.end(from: start * 1_000_000), Int64(expected) * 1_000_000,
                           "\(Timestamp.formatRFC3339(micros: start * 1_000_000)) + \(period)")
        }
    }

    /// The last day of the month of `seconds` (same time of day), in seconds.
    static func monthEnd(near seconds: Int64) -> Int64 {
        let day = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400  // floor division
        let (y, m, _) = Timestamp.civil(fromDays: Int(day))
        let last = Timestamp.days(fromCivil: y, m, Timestamp.daysInMonth(y, m))
        return Int64(last) * 86_400 + (seconds - day * 86_400)
    }

    func testEndSaturatesInsteadOfTrapping() {
        XCTAssertEqual(RetentionPeriod(years: Int.max).end(from: 0), Int64.max)
        XCTAssertEqual(RetentionPeriod(years: 1, months: Int.max).end(from: 0), Int64.max)
        XCTAssertEqual(RetentionPeriod(months: Int.min).end(from: 0), Int64.min)
        XCTAssertEqual(RetentionPeriod(days: 36_500).end(from: Int64.max - 1), Int64.max)
        XCTAssertEqual(RetentionPeriod(years: 100, months: 1200, days: 36_500).end(from: Int64.max), Int64.max)
    }

    func testLeapDayClosingThroughThePolicy() throws {
        let policy = try Self.parse(#"""
            {"defaultRetention": {"years": 1}, "closed": [{"matter": "L", "closedAt": "2024-02-29"}]}
            """#)
        let facts = RetentionFacts(matter: "L", tagHex: String(repeating: "0", count: 64), recordTags: [], entries: 1,
                                   holds: [], destroyed: nil)
        let status = RetentionStatus.evaluate(facts, policy: policy, now: 0)
        XCTAssertEqual(status.closedAt, Self.t("2024-02-29T23:59:59.999999Z"))
        XCTAssertEqual(status.retainUntil, Self.t("2025-02-28T23:59:59.999999Z"))
    }

    // MARK: - Which period applies

    func testLongestTagWinsAndTheMatterOverrides() throws {
        let policy = try Self.parse("""
            {"defaultRetention": {"years": 7},
             "tags": {"litigation": {"years": 10}, "estate-planning": {"years": 25}, "short": {"days": 30},
                      "a-year": {"months": 12}, "b-year": {"years": 1}, "month": {"months": 1}, "d31": {"days": 31}},
             "matters": {"2024-0042": {"years": 6}}}
            """)
        func check(_ matter: String, _ tags: Set<String>, _ period: RetentionPeriod, _ basis: String,
                   line: UInt = #line) {
            let got = policy.period(matter: matter, recordTags: tags)
            XCTAssertEqual(got.period, period, line: line)
            XCTAssertEqual(got.basis, basis, line: line)
        }
        check("X", ["litigation", "estate-planning", "short", "other"], RetentionPeriod(years: 25),
              "tag 'estate-planning'")
        check("X", ["litigation", "short"], RetentionPeriod(years: 10), "tag 'litigation'")
        // A tag's period applies even when shorter than the default: the policy named that obligation.
        check("X", ["short"], RetentionPeriod(days: 30), "tag 'short'")
        // 12 months and 1 year are equally long: the tag name decides.
        check("X", ["b-year", "a-year"], RetentionPeriod(months: 12), "tag 'a-year'")
        // A month counts as 30.436875 days: 31 days is longer.
        check("X", ["month", "d31"], RetentionPeriod(days: 31), "tag 'd31'")
        check("X", ["unrelated"], RetentionPeriod(years: 7), "default")
        check("X", [], RetentionPeriod(years: 7), "default")
        check("2024-0042", ["estate-planning"], RetentionPeriod(years: 6), "matter")
    }

    // MARK: - State

    static let closed = """
        {"tags": {"litigation": {"years": 10}},
         "closed": [{"matter": "A", "closedAt": "2025-06-30"}, {"matter": "B", "closedAt": "2025-06-30"}]}
        """
    static let hold17 = RetentionHold(seq: 17, placedAt: t("2026-01-02T10:00:00Z"), by: "jsmith", reason: "subpoena")
    static let hold23 = RetentionHold(seq: 23, placedAt: t("2026-02-03T11:00:00Z"), by: "akhan", reason: "audit")
    static let destruction = RetentionDestruction(seq: 40, at: t("2033-01-05T09:30:00Z"), by: "records",
                                                  reason: "retention ended", beforeRetentionEnd: false)

    static func facts(_ matter: String?, _ tagChar: Character = "a", entries: Int = 3, tags: Set<String> = [],
                      holds: [RetentionHold] = [], destroyed: RetentionDestruction? = nil) -> RetentionFacts {
        RetentionFacts(matter: matter, tagHex: String(repeating: tagChar, count: 64), recordTags: tags,
                       entries: entries, holds: holds, destroyed: destroyed)
    }

    func testStatePrecedence() throws {
        let policy = try Self.parse(Self.closed)
        // A closed 2025-06-30 (end of day) + 7 years: retained until 2032-06-30T23:59:59.999999Z.
        let later = Self.t("2040-01-01T00:00:00Z")
        func state(_ f: RetentionFacts, _ now: Int64) -> RetentionStatus.State {
            RetentionStatus.evaluate(f, policy: policy, now: now).state
        }
        XCTAssertEqual(state(Self.facts("A", holds: [Self.hold17], destroyed: Self.destruction), later), .destroyed)
        XCTAssertEqual(state(Self.facts("C", holds: [Self.hold17], destroyed: Self.destruction), later), .destroyed)
        XCTAssertEqual(state(Self.facts("A", holds: [Self.hold17]), later), .held)
        XCTAssertEqual(state(Self.facts("C", holds: [Self.hold17]), later), .held)
        XCTAssertEqual(state(Self.facts("C"), later), .open)
        XCTAssertEqual(state(Self.facts("A"), Self.t("2025-07-01T00:00:00Z")), .retained)
        // Before closing too: the period is counted from closedAt.
        XCTAssertEqual(state(Self.facts("A"), Self.t("2020-01-01T00:00:00Z")), .retained)
        XCTAssertEqual(state(Self.facts("A"), later), .eligible)
    }

    /// retainUntil is the last instant of retention: eligible from retainUntil + 1 µs, not at retainUntil itself.
    func testEligibleStrictlyAfterRetainUntil() throws {
        let policy = try Self.parse(Self.closed)
        let until = Self.t("2032-06-30T23:59:59.999999Z")
        let atEnd = RetentionStatus.evaluate(Self.facts("A"), policy: policy, now: until)
        XCTAssertEqual(atEnd.retainUntil, until)
        XCTAssertEqual(atEnd.state, .retained)
        XCTAssertFalse(atEnd.eligible)
        let after = RetentionStatus.evaluate(Self.facts("A"), policy: policy, now: until + 1)
        XCTAssertEqual(after.state, .eligible)
        XCTAssertTrue(after.eligible)
    }

    func testEvaluateFillsEveryField() throws {
        let policy = try Self.parse(Self.closed)
        let b = RetentionStatus.evaluate(Self.facts("B", "b", entries: 9, tags: ["litigation"]), policy: policy,
                                         now: Self.t("2033-01-01T00:00:00Z"))
        XCTAssertEqual(b, RetentionStatus(
            matter: "B", tagHex: String(repeating: "b", count: 64), entries: 9,
            closedAt: Self.t("2025-06-30T23:59:59.999999Z"), period: RetentionPeriod(years: 10),
            basis: "tag 'litigation'", retainUntil: Self.t("2035-06-30T23:59:59.999999Z"), holds: [], destroyed: nil,
            state: .retained))
        // An unknown matter: no closedAt, only its tags and the default can apply.
        let unknown = RetentionStatus.evaluate(Self.facts(nil, "f", tags: ["litigation"], destroyed: Self.destruction),
                                               policy: policy, now: 0)
        XCTAssertNil(unknown.matter)
        XCTAssertNil(unknown.closedAt)
        XCTAssertNil(unknown.retainUntil)
        XCTAssertEqual(unknown.basis, "tag 'litigation'")
        XCTAssertEqual(unknown.state, .destroyed)
    }

    // MARK: - Rendering

    /// Four matters at 2033-01-01: A eligible (7 years ended 2032-06-30), B held (two holds), C open,
    /// one destroyed matter whose number is unknown; D retained (10 years by its tag).
    static func sampleRows() throws -> [RetentionStatus] {
        let policy = try parse("""
            {"tags": {"litigation": {"years": 10}},
             "closed": [{"matter": "A", "closedAt": "2025-06-30"}, {"matter": "B", "closedAt": "2025-06-30"},
                        {"matter": "D", "closedAt": "2025-06-30T15:00:00+02:00"}]}
            """)
        let now = t("2033-01-01T00:00:00Z")
        return [
            facts(nil, "f", entries: 4, destroyed: destruction),
            facts("C", "c", entries: 1),
            facts("B", "b", entries: 12, holds: [hold23, hold17]),
            facts("D", "d", entries: 2, tags: ["litigation"]),
            facts("A", "a", entries: 3),
        ].map { RetentionStatus.evaluate($0, policy: policy, now: now) }
    }

    func testTextTable() throws {
        let expected = """
              MATTER                ENTRIES  CLOSED      RETAIN UNTIL  HOLD     STATE
              A                           3  2025-06-30  2032-06-30    -        eligible
              B                          12  2025-06-30  2032-06-30    2 (#17)  held
              C                           1  -           -             -        open
              D                           2  2025-06-30  2035-06-30    -        retained
              tag:ffffffffffffffff        4  -           -             -        destroyed on 2033-01-05
            5 matters: 1 eligible for destruction, 1 under hold, 1 destroyed

            """
        XCTAssertEqual(RetentionStatusRendering.text(try Self.sampleRows()), expected)
        XCTAssertEqual(RetentionStatusRendering.text([]), """
              MATTER  ENTRIES  CLOSED  RETAIN UNTIL  HOLD  STATE
            0 matters: 0 eligible for destruction, 0 under hold, 0 destroyed

            """)
    }

    func testJSONLines() throws {
        let rows = try Self.sampleRows()
        let lines = RetentionStatusRendering.jsonLines(rows).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(lines.last, "")
        // Canonical: keys sorted, no whitespace, microsecond RFC 3339 times.
        XCTAssertEqual(String(lines[0]), #"{"basis":"default","closedAt":"2025-06-30T23:59:59.999999Z","#
            + #""destroyed":null,"eligible":true,"entries":3,"holds":[],"matter":"A","period":"7 years","#
            + #""retainUntil":"2032-06-30T23:59:59.999999Z","state":"eligible","tag":"\#(String(repeating: "a", count: 64))"}"#)
        let parsed = try lines.dropLast().map { line -> JSONObject in
            try XCTUnwrap(JSONParser.parse(Array(line.utf8)).objectValue)
        }
        XCTAssertEqual(parsed.map { $0["matter"] }, [.string("A"), .string("B"), .string("C"), .string("D"), .null])
        XCTAssertEqual(parsed.map { $0["state"]?.stringValue }, ["eligible", "held", "open", "retained", "destroyed"])
        XCTAssertEqual(parsed.map { $0["eligible"]?.boolValue }, [true, false, false, false, false])
        XCTAssertEqual(parsed[1]["holds"], .array([
            .object(["seq": 23, "placedAt": "2026-02-03T11:00:00.000000Z", "by": "akhan", "reason": "audit"]),
            .object(["seq": 17, "placedAt": "2026-01-02T10:00:00.000000Z", "by": "jsmith", "reason": "subpoena"]),
        ]))
        XCTAssertEqual(parsed[2]["closedAt"], .null)
        XCTAssertEqual(parsed[2]["retainUntil"], .null)
        // D closed 15:00+02:00 = 13:00Z; 10 years by its tag.
        XCTAssertEqual(parsed[3]["closedAt"], "2025-06-30T13:00:00.000000Z")
        XCTAssertEqual(parsed[3]["retainUntil"], "2035-06-30T13:00:00.000000Z")
        XCTAssertEqual(parsed[3]["period"], "10 years")
        XCTAssertEqual(parsed[3]["basis"], "tag 'litigation'")
        XCTAssertEqual(parsed[4]["tag"], .string(String(repeating: "f", count: 64)))
        XCTAssertEqual(parsed[4]["destroyed"], .object([
            "seq": 40, "at": "2033-01-05T09:30:00.000000Z", "by": "records", "reason": "retention ended",
            "beforeRetentionEnd": false,
        ]))
    }

    /// Free text (who, why) is escaped by the JSON writer, and parses back unchanged.
    func testJSONEscapesFreeText() throws {
        let reason = "court order \"7\"\nline two\\ \u{1}"
        let hold = RetentionHold(seq: 1, placedAt: 0, by: "o'brien", reason: reason)
        let row = RetentionStatus.evaluate(Self.facts("Q \"x\"", holds: [hold]), policy: RetentionPolicy(), now: 0)
        let out = RetentionStatusRendering.jsonLines([row])
        XCTAssertEqual(out.filter { $0 == "\n" }.count, 1)
        let object = try XCTUnwrap(JSONParser.parse(Array(out.dropLast().utf8)).objectValue)
        XCTAssertEqual(object["matter"], .string("Q \"x\""))
        XCTAssertEqual(object["holds"]?.arrayValue?.first?.objectValue?["reason"], .string(reason))
        XCTAssertEqual(object["holds"]?.arrayValue?.first?.objectValue?["placedAt"], "1970-01-01T00:00:00.000000Z")
    }
}
