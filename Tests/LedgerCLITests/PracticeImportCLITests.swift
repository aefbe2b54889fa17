import Foundation
import XCTest

/// `ledger import --from SYSTEM` end to end with the built binary: each sample imports, maps, re-imports as
/// duplicates only, and a malformed export exits 65 naming the line and source field, the ledger byte-identical.
final class PracticeImportCLITests: CLITestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initLedger()
    }

    var examples: URL { LedgerBinary.packageRoot.appendingPathComponent("examples/pms") }
    var fixtures: URL { LedgerBinary.packageRoot.appendingPathComponent("Tests/Fixtures/pms") }

    /// One system's round: import `sample` (`count` records), check entry `seq`'s mapped fields, re-import, then the
    /// malformed fixture. Returns nothing; asserts throughout.
    func assertRound(_ system: String, sample: String, count: Int, seq: Int = 0, expect: [String: String],
                     malformed: String, line: Int, field: String,
                     file: StaticString = #filePath, sourceLine: UInt = #line) throws {
        let path = examples.appendingPathComponent(sample).path
        let first = try ledgerWithKey(["import", "--from", system, path])
        XCTAssertEqual(first.status, 0, first.summary, file: file, line: sourceLine)
        XCTAssertEqual(first.stdout, "imported \(count), skipped 0 duplicates, rejected 0\n",
                       file: file, line: sourceLine)
        let shown = try ledgerWithKey(["show", String(seq), "--json"])
        XCTAssertEqual(shown.status, 0, shown.summary, file: file, line: sourceLine)
        let record = try jsonObject(shown.stdout)["record"] as? [String: Any] ?? [:]
        XCTAssertEqual(record["sourceSystem"] as? String, system, file: file, line: sourceLine)
        for (key, value) in expect {
            XCTAssertEqual("\(record[key] ?? "absent")", value, key, file: file, line: sourceLine)
        }
        let again = try ledgerWithKey(["import", "--from", system, path])
        XCTAssertEqual(again.status, 0, again.summary, file: file, line: sourceLine)
        XCTAssertEqual(again.stdout, "imported 0, skipped \(count) duplicates, rejected 0\n",
                       file: file, line: sourceLine)
        XCTAssertTrue(again.stderr.contains("nothing new"), again.summary, file: file, line: sourceLine)
        let before = try ledgerSnapshot()
        let bad = try ledgerWithKey(["import", "--from", system, fixtures.appendingPathComponent(malformed).path])
        XCTAssertEqual(bad.status, 65, bad.summary, file: file, line: sourceLine)
        XCTAssertTrue(bad.stderr.contains("line \(line): field '\(field)'"), bad.summary, file: file, line: sourceLine)
        XCTAssertFalse(bad.stderr.contains("Privileged text"), "a value was quoted", file: file, line: sourceLine)
        try assertUnchanged(before, "a refused \(system) import", file: file, line: sourceLine)
        XCTAssertEqual(try entryCount(), count, file: file, line: sourceLine)
    }

    func testClio() throws {
        try assertRound("clio", sample: "clio-communications.json", count: 8, seq: 1, expect: [
            "matter": "00112-Okafor", "author": "Jordan Rivera", "channel": "email", "direction": "inbound",
            "occurredAt": "2026-03-03T08:47:12-05:00", "sourceId": "48211002",
        ], malformed: "clio-malformed.json", line: 2, field: "matter.display_number")
    }

    func testPracticePantherCalls() throws {
        try assertRound("practicepanther", sample: "practicepanther-calls.csv", count: 6, seq: 2, expect: [
            "matter": "Estate of Ł. Wiśniewski", "author": "Søren Müller-Ødegaard", "channel": "phone",
            "direction": "outbound", "durationMinutes": "65", "occurredAt": "2026-03-05T14:30:00Z",
            "sourceId": "call:pp-call-5003",
        ], malformed: "practicepanther-malformed.csv", line: 3, field: "call_direction")
    }

    func testMyCase() throws {
        try assertRound("mycase", sample: "mycase-call-logs.json", count: 6, seq: 1, expect: [
            "matter": "FAM-2026-0041", "author": "Priya Raman", "direction": "outbound", "sourceId": "880102",
            "occurredAt": "2026-03-02T15:40:00-06:00",
        ], malformed: "mycase-malformed.json", line: 2, field: "case")
    }

    func testActionstep() throws {
        try assertRound("actionstep", sample: "actionstep-phonerecords.json", count: 6, seq: 3, expect: [
            "matter": "4412", "author": "Liam O'Sullivan", "direction": "outbound", "durationMinutes": "2",
            "outcome": "no-answer", "sourceId": "70004",
        ], malformed: "actionstep-malformed.json", line: 3, field: "direction")
    }

    func testPracticePantherEmailsAndTimeZone() throws {
        let path = examples.appendingPathComponent("practicepanther-emails.json").path
        let r = try ledgerWithKey(["import", "--from", "practicepanther", "--time-zone", "America/Chicago", path])
        XCTAssertEqual(r.status, 0, r.summary)
        let record = try jsonObject(try ledgerWithKey(["show", "2", "--json"]).stdout)["record"] as? [String: Any]
        XCTAssertEqual(record?["occurredAt"] as? String, "2026-03-07T00:00:00-06:00")
        XCTAssertEqual(record?["channel"] as? String, "email")
    }

    func testUsageErrors() throws {
        let path = examples.appendingPathComponent("clio-communications.json").path
        let both = try ledgerWithKey(["import", "--from", "clio", "--format", "jsonl", path])
        XCTAssertEqual(both.status, 64, both.summary)
        let zone = try ledgerWithKey(["import", "--from", "clio", "--time-zone", "Mars/Olympus", path])
        XCTAssertEqual(zone.status, 64, zone.summary)
        let unknown = try ledgerWithKey(["import", "--from", "filevine", path])
        XCTAssertEqual(unknown.status, 64, unknown.summary)
        XCTAssertEqual(try entryCount(), 0)
    }
}
