import Foundation
import XCTest

/// `ledger list` and `ledger show`.
final class ReadTests: CLITestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initLedger()
    }

    /// Six entries: even ones in M-2026-001, odd ones in M-2026-002, occurredAt 2026-03-01 … 2026-03-06 10:00Z.
    private func importSix() throws {
        let r = try ledgerWithKey(["import", try write("six.jsonl", Sample.jsonl(count: 6))])
        XCTAssertEqual(r.status, 0, r.summary)
    }

    private func listedSeqs(_ extra: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [Int] {
        let r = try ledgerWithKey(["list", "--json"] + extra)
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        return try r.stdoutLines.map { try XCTUnwrap(jsonObject($0)["seq"] as? Int) }
    }

    func testListTable() throws {
        try importSix()
        let r = try ledgerWithKey(["list"])
        XCTAssertEqual(r.status, 0, r.summary)
        let lines = r.stdoutLines
        XCTAssertEqual(lines.count, 7, r.summary)
        for column in ["SEQ", "OCCURRED", "MATTER", "AUTHOR", "CHANNEL", "DIRECTION", "KIND", "SUBJECT"] {
            XCTAssertTrue(lines[0].contains(column), "header lacks \(column): \(lines[0])")
        }
        XCTAssertTrue(lines[1].hasPrefix("0 "), lines[1])
        XCTAssertTrue(lines[1].contains("M-2026-001") && lines[1].contains("Update 0") && lines[1].contains("email"), lines[1])
    }

    func testListEmptyLedgerPrintsHeaderOnly() throws {
        let r = try ledgerWithKey(["list"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdoutLines.count, 1, r.summary)
        XCTAssertTrue(r.stdout.hasPrefix("SEQ"), r.summary)
        let json = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(json.status, 0, json.summary)
        XCTAssertEqual(json.stdout, "")
    }

    func testListJSONOneObjectPerLine() throws {
        try importSix()
        let r = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdoutLines.count, 6)
        for (i, line) in r.stdoutLines.enumerated() {
            let object = try jsonObject(line)
            XCTAssertEqual(Set(object.keys), ["seq", "recordedAt", "leafHash", "record"], line)
            XCTAssertEqual(object["seq"] as? Int, i)
            let recordedAt = try XCTUnwrap(object["recordedAt"] as? String)
            XCTAssertTrue(recordedAt.hasPrefix("20") && recordedAt.contains("T") && (recordedAt.hasSuffix("Z") || recordedAt.contains("+")),
                          "recordedAt is RFC 3339: \(recordedAt)")
            let leafHash = try XCTUnwrap(object["leafHash"] as? String)
            XCTAssertEqual(leafHash.count, 64)
            XCTAssertTrue(leafHash.allSatisfy(\.isHexDigit), leafHash)
            let record = try XCTUnwrap(object["record"] as? [String: Any])
            XCTAssertEqual(record["subject"] as? String, "Update \(i)")
            XCTAssertEqual(record["sourceId"] as? String, "src-\(i)")
        }
    }

    func testListFilters() throws {
        try importSix()
        XCTAssertEqual(try listedSeqs(["--matter", "M-2026-001"]), [0, 2, 4])
        XCTAssertEqual(try listedSeqs(["--matter", "M-2026-002"]), [1, 3, 5])
        // Dates: whole UTC days, inclusive.
        XCTAssertEqual(try listedSeqs(["--from", "2026-03-02", "--to", "2026-03-04"]), [1, 2, 3])
        // RFC 3339 bounds, inclusive, with offsets.
        XCTAssertEqual(try listedSeqs(["--from", "2026-03-05T10:00:00Z"]), [4, 5])
        XCTAssertEqual(try listedSeqs(["--to", "2026-03-02T11:00:00+01:00"]), [0, 1])
        XCTAssertEqual(try listedSeqs(["--to", "2026-03-02T10:59:59+01:00"]), [0])
        XCTAssertEqual(try listedSeqs(["--matter", "M-2026-002", "--from", "2026-03-03"]), [3, 5])
        XCTAssertEqual(try listedSeqs(["--from", "2027-01-01"]), [])
    }

    func testListUnknownMatter() throws {
        try importSix()
        let r = try ledgerWithKey(["list", "--matter", "M-9999"])
        XCTAssertEqual(r.status, 66, r.summary)
        XCTAssertTrue(r.stderr.contains("matter"), r.summary)
        XCTAssertFalse(r.stderr.contains("M-9999"), "matter numbers are not echoed: \(r.summary)")
    }

    func testListBadTimeIsAUsageError() throws {
        let r = try ledgerWithKey(["list", "--from", "yesterday"])
        XCTAssertEqual(r.status, 64, r.summary)
        XCTAssertTrue(r.stderr.contains("--from"), r.summary)
    }

    func testShowText() throws {
        try appendRecord(Sample.record(sourceId: "s-0"))
        try appendRecord(Sample.record(subject: "Multi\\nline", extra: #""tags":["a","b"],"durationMinutes":30"#))
        let r = try ledgerWithKey(["show", "1"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertNotNil(r.stdout.range(of: #"(?m)^seq: +1$"#, options: .regularExpression), r.summary)
        XCTAssertTrue(r.stdout.contains("recordedAt:"), r.summary)
        let leafLine = try XCTUnwrap(r.stdoutLines.first { $0.hasPrefix("leafHash:") })
        XCTAssertEqual(leafLine.split(separator: " ").last?.count, 64, leafLine)
        for value in ["M-2026-001", "Acme Holdings", "J. Rivera", "email", "outbound", "2026-03-01T14:30:00+01:00",
                      "Explained the landlord's offer", #"["a","b"]"#, "30"] {
            XCTAssertTrue(r.stdout.contains(value), "show lacks \(value): \(r.summary)")
        }
        XCTAssertNotNil(r.stdout.range(of: #"(?m)^subject: +Multi\nline$"#, options: .regularExpression), r.summary)
    }

    func testShowJSONMatchesList() throws {
        try importSix()
        let show = try ledgerWithKey(["show", "3", "--json"])
        XCTAssertEqual(show.status, 0, show.summary)
        XCTAssertEqual(show.stdoutLines.count, 1)
        let list = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(show.stdoutLines[0], list.stdoutLines[3], "show --json and list --json render an entry alike")
        let object = try jsonObject(show.stdoutLines[0])
        XCTAssertEqual(object["seq"] as? Int, 3)
        XCTAssertEqual((object["record"] as? [String: Any])?["matter"] as? String, "M-2026-002")
    }

    func testShowUnknownSeq() throws {
        let empty = try ledgerWithKey(["show", "0"])
        XCTAssertEqual(empty.status, 66, empty.summary)
        XCTAssertTrue(empty.stderr.contains("no entry 0: the ledger is empty"), empty.summary)
        try importSix()
        let r = try ledgerWithKey(["show", "42"])
        XCTAssertEqual(r.status, 66, r.summary)
        XCTAssertTrue(r.stderr.contains("no entry 42: the ledger has entries 0 to 5"), r.summary)
        XCTAssertTrue(r.stdout.isEmpty)
    }

    func testShowBadSeqIsAUsageError() throws {
        let r = try ledgerWithKey(["show", "-1"])
        XCTAssertEqual(r.status, 64, r.summary)
    }
}
