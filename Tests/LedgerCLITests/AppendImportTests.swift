import Foundation
import XCTest

/// `ledger append` and `ledger import`: seqs, idempotency, and refusing bad input without writing anything.
final class AppendImportTests: CLITestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initLedger()
    }

    // MARK: append

    func testAppendFromFileAndStdinPrintsSequentialSeqs() throws {
        XCTAssertEqual(try appendRecord(Sample.record(subject: "first")), "0")
        let fromStdin = try ledgerWithKey(["append", "-"], stdin: Data(Sample.record(subject: "second").utf8))
        XCTAssertEqual(fromStdin.status, 0, fromStdin.summary)
        XCTAssertEqual(fromStdin.stdout, "1\n")
        // No FILE argument means standard input too.
        let implicit = try ledgerWithKey(["append"], stdin: Data(Sample.record(subject: "third").utf8))
        XCTAssertEqual(implicit.status, 0, implicit.summary)
        XCTAssertEqual(implicit.stdout, "2\n")
        XCTAssertEqual(try entryCount(), 3)
    }

    func testAppendDuplicateSourceIdPrintsOriginalSeqAndAppendsNothing() throws {
        XCTAssertEqual(try appendRecord(Sample.record(sourceId: "a")), "0")
        XCTAssertEqual(try appendRecord(Sample.record(sourceId: "b")), "1")
        let before = try ledgerSnapshot()
        let path = try write("dup.json", Sample.record(sourceId: "a", subject: "edited later"))
        let r = try ledgerWithKey(["append", path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "0\n")
        XCTAssertTrue(r.stderr.contains("nothing appended"), r.summary)
        try assertUnchanged(before, "a duplicate append")
        XCTAssertEqual(try entryCount(), 2)
    }

    /// Each bad record: exit 65, the field named on stderr, the ledger's files byte-identical.
    func testAppendRejectsBadRecordsWithoutWriting() throws {
        try appendRecord(Sample.record())
        let good = Sample.record()
        let withoutAuthor = good.replacingOccurrences(of: #""author":"J. Rivera","#, with: "")
        XCTAssertNotEqual(withoutAuthor, good)
        var invalidUTF8 = Data(Sample.record(subject: "INVALID").utf8)
        let marker = invalidUTF8.range(of: Data("INVALID".utf8))!
        invalidUTF8.replaceSubrange(marker, with: [0x49, 0xff, 0xfe, 0x4e])
        let cases: [(name: String, input: Data, expect: String)] = [
            ("unknown field", Data(Sample.record(extra: #""colour":"red""#).utf8), "field 'colour'"),
            ("missing field", Data(withoutAuthor.utf8), "field 'author'"),
            ("bad enum", Data(good.replacingOccurrences(of: #""channel":"email""#, with: #""channel":"fax""#).utf8),
             "field 'channel'"),
            ("timestamp without offset", Data(Sample.record(occurredAt: "2026-03-01T14:30:00").utf8),
             "field 'occurredAt'"),
            ("float", Data(Sample.record(extra: #""durationMinutes":12.5"#).utf8), "durationMinutes"),
            ("invalid UTF-8", invalidUTF8, "subject"),
            ("larger than 1 MiB",
             Data(Sample.record(extra: "\"decisions\":\"\(String(repeating: "a", count: (1 << 20) + 10))\"").utf8),
             "1 MiB"),
            ("not JSON", Data("matter=M-1".utf8), "not valid JSON"),
            ("empty", Data(), "JSON"),
        ]
        for c in cases {
            let before = try ledgerSnapshot()
            let path = try write("bad.json", c.input)
            let r = try ledgerWithKey(["append", path])
            XCTAssertEqual(r.status, 65, "\(c.name): \(r.summary)")
            XCTAssertTrue(r.stderr.contains(c.expect), "\(c.name): stderr should contain \(c.expect): \(r.summary)")
            XCTAssertTrue(r.stdout.isEmpty, "\(c.name): \(r.summary)")
            try assertUnchanged(before, c.name)
        }
        // The same through standard input.
        let before = try ledgerSnapshot()
        let r = try ledgerWithKey(["append", "-"], stdin: Data(Sample.record(extra: #""colour":"red""#).utf8))
        XCTAssertEqual(r.status, 65, r.summary)
        XCTAssertTrue(r.stderr.contains("field 'colour'"), r.summary)
        try assertUnchanged(before, "bad record on stdin")
        XCTAssertEqual(try entryCount(), 1)
    }

    /// Standard input larger than a pipe buffer is read whole (up to the 1 MiB limit).
    func testAppendLargeRecordFromStdin() throws {
        let summary = String(repeating: "long call notes ", count: 30_000)  // 480 KB
        let r = try ledgerWithKey(["append", "-"],
            stdin: Data(Sample.record(extra: "\"decisions\":\"ok\",\"x-notes\":\"\(summary)\"").utf8))
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "0\n")
        let shown = try jsonObject(try ledgerWithKey(["show", "0", "--json"]).stdout)
        XCTAssertEqual((shown["record"] as? [String: Any])?["x-notes"] as? String, summary)
    }

    func testRejectionMessagesDoNotQuoteValues() throws {
        let secret = "Client admits liability"
        let path = try write("bad.json", Sample.record(subject: secret, extra: #""colour":"red""#))
        let r = try ledgerWithKey(["append", path])
        XCTAssertEqual(r.status, 65, r.summary)
        XCTAssertFalse(r.stderr.contains(secret), "error messages must not quote field values: \(r.summary)")
    }

    func testAppendMissingInputFile() throws {
        let r = try ledgerWithKey(["append", temp.appendingPathComponent("absent.json").path])
        XCTAssertNotEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stderr.contains("absent.json"), r.summary)
    }

    func testAppendCorrectsMustReferToAnEarlierEntry() throws {
        try appendRecord(Sample.record())
        let before = try ledgerSnapshot()
        let path = try write("c.json", Sample.record(extra: #""corrects":5"#))
        let r = try ledgerWithKey(["append", path])
        XCTAssertEqual(r.status, 65, r.summary)
        XCTAssertTrue(r.stderr.contains("corrects"), r.summary)
        try assertUnchanged(before, "bad corrects")
        XCTAssertEqual(try appendRecord(Sample.record(extra: #""corrects":0"#)), "1")
    }

    // MARK: import

    func testImportJSONLinesIsIdempotent() throws {
        let path = try write("batch.jsonl", Sample.jsonl(count: 7))
        let first = try ledgerWithKey(["import", path])
        XCTAssertEqual(first.status, 0, first.summary)
        XCTAssertEqual(first.stdout, "imported 7, skipped 0 duplicates, rejected 0\n")
        let again = try ledgerWithKey(["import", path])
        XCTAssertEqual(again.status, 0, again.summary)
        XCTAssertEqual(again.stdout, "imported 0, skipped 7 duplicates, rejected 0\n")
        XCTAssertEqual(try entryCount(), 7)

        // A file that overlaps: only the new records are appended, after the old ones.
        let more = try write("more.jsonl", Sample.jsonl(count: 9))
        let third = try ledgerWithKey(["import", more, "--batch-size", "2"])
        XCTAssertEqual(third.stdout, "imported 2, skipped 7 duplicates, rejected 0\n", third.summary)
        // entryCount() listed the ledger, which recorded an access entry (seq 7) after the first seven records
        let seqs = try ledgerWithKey(["list", "--json"]).stdoutLines.map { try jsonObject($0)["seq"] as? Int }
        XCTAssertEqual(seqs, Array(0..<7) + [8, 9])
    }

    func testImportRefusesFileWithBadLinesAndListsEveryOne() throws {
        try appendRecord(Sample.record())
        let good = Sample.record(sourceId: "g1")
        let lines = [
            good,                                                                    // line 1
            Sample.record(sourceId: "g2", extra: #""colour":"red""#),                // line 2: unknown field
            "",                                                                      // line 3: blank, skipped
            Sample.record(sourceId: "g3").replacingOccurrences(of: "\"direction\":\"outbound\"",
                                                               with: "\"direction\":\"sideways\""), // line 4
            Sample.record(sourceId: "g4"),                                           // line 5
            Sample.record(sourceId: "g5", occurredAt: "2026-03-01 10:00"),           // line 6
            Sample.record(sourceId: "g6", extra: #""durationMinutes":1.5"#),         // line 7
        ]
        let path = try write("bad.jsonl", lines.joined(separator: "\n") + "\n")
        let before = try ledgerSnapshot()
        let r = try ledgerWithKey(["import", path])
        XCTAssertEqual(r.status, 65, r.summary)
        XCTAssertTrue(r.stdout.isEmpty, r.summary)
        for (line, field) in [(2, "colour"), (4, "direction"), (6, "occurredAt"), (7, "durationMinutes")] {
            let hit = r.stderr.split(separator: "\n").contains { $0.contains("line \(line):") && $0.contains(field) }
            XCTAssertTrue(hit, "stderr should list line \(line) with field \(field): \(r.summary)")
        }
        XCTAssertFalse(r.stderr.contains("line 1:") || r.stderr.contains("line 5:"), r.summary)
        XCTAssertTrue(r.stderr.contains("imported 0"), r.summary)
        try assertUnchanged(before, "a refused import")

        let skipping = try ledgerWithKey(["import", path, "--skip-invalid"])
        XCTAssertEqual(skipping.status, 0, skipping.summary)
        XCTAssertEqual(skipping.stdout, "imported 2, skipped 0 duplicates, rejected 4\n")
        XCTAssertTrue(skipping.stderr.contains("line 2:"), skipping.summary)
        XCTAssertEqual(try entryCount(), 3)
    }

    func testImportCSV() throws {
        let csv = """
        matter,author,channel,direction,kind,occurredAt,subject,summary,tags,durationMinutes,privileged,sourceSystem,sourceId
        M-2026-001,J. Rivera,phone,outbound,update,2026-03-02T09:15:00+01:00,"Call, re: lease","Client said ""yes"".
        Second line.",lease;urgent,15,true,pms,c-1
        M-2026-002,A. Chen,portal,inbound,inquiry,2026-03-03T11:00:00Z,Question,,,,,pms,c-2

        """
        let path = try write("batch.csv", csv)
        let r = try ledgerWithKey(["import", path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "imported 2, skipped 0 duplicates, rejected 0\n")
        let again = try ledgerWithKey(["import", path])
        XCTAssertEqual(again.stdout, "imported 0, skipped 2 duplicates, rejected 0\n", again.summary)

        let list = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(list.stdoutLines.count, 2, list.summary)
        let record = try XCTUnwrap(try jsonObject(list.stdoutLines[0])["record"] as? [String: Any])
        XCTAssertEqual(record["subject"] as? String, "Call, re: lease")
        XCTAssertEqual(record["summary"] as? String, "Client said \"yes\".\nSecond line.")
        XCTAssertEqual(record["tags"] as? [String], ["lease", "urgent"])
        XCTAssertEqual(record["durationMinutes"] as? Int, 15)
        XCTAssertEqual(record["privileged"] as? Bool, true)
        let second = try XCTUnwrap(try jsonObject(list.stdoutLines[1])["record"] as? [String: Any])
        XCTAssertNil(second["summary"], "an empty CSV cell means the field is absent")
    }

    func testImportCSVWithUnknownColumnIsRefused() throws {
        let path = try write("bad.csv", "matter,author,channel,direction,occurredAt,colour\n"
                                        + "M-1,A,email,inbound,2026-03-01T10:00:00Z,red\n")
        let before = try ledgerSnapshot()
        let r = try ledgerWithKey(["import", path])
        XCTAssertEqual(r.status, 65, r.summary)
        XCTAssertTrue(r.stderr.contains("line 1") && r.stderr.contains("colour"), r.summary)
        try assertUnchanged(before, "a CSV with a bad header")
    }

    func testImportMissingFile() throws {
        let r = try ledgerWithKey(["import", temp.appendingPathComponent("absent.jsonl").path])
        XCTAssertNotEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stderr.contains("absent.jsonl"), r.summary)
    }

    func testImportEmptyFile() throws {
        let r = try ledgerWithKey(["import", try write("empty.jsonl", "")])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "imported 0, skipped 0 duplicates, rejected 0\n")
    }
}
