import Foundation
import LedgerFormat
@testable import LedgerImport
import RecordFormats
import XCTest
@testable import Ledger

/// Mapping files (docs/MAPPING.md): the worked example, key-path errors, row refusals, hostile files.
final class MappingImportTests: XCTestCase {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/mapping")

    func example(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.examples.appendingPathComponent(name)))
    }

    /// A minimal valid mapping with `fields` merged over the required ones (a nil value removes a field).
    func mapping(_ fields: [String: String?] = [:], input: String = #""input": {"format": "csv"},"#) -> [UInt8] {
        var all: [String: String?] = ["matter": #"{"column": "Matter"}"#, "author": #"{"column": "From"}"#,
                                      "channel": #"{"default": "email"}"#, "direction": #"{"default": "inbound"}"#,
                                      "occurredAt": #"{"column": "When"}"#]
        for (k, v) in fields { all[k] = v }
        let body = all.compactMap { k, v in v.map { "\"\(k)\": \($0)" } }.sorted().joined(separator: ", ")
        return Array(#"{"formatVersion": 1, "sourceSystem": "sys", \#(input) "fields": {\#(body)}}"#.utf8)
    }

    func mappingError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> MappingError? {
        do {
            _ = try MappingAdapter(mapping: bytes)
            XCTFail("the mapping file was accepted", file: file, line: line)
        } catch {
            return error
        }
        return nil
    }

    func adapt(_ mappingBytes: [UInt8], _ csv: String) throws -> [AdaptedRecord] {
        try MappingAdapter(mapping: mappingBytes).adapt(Array(csv.utf8))
    }

    // MARK: the worked example

    func testEmailArchiveExampleMapsToExpectedRecords() throws {
        let adapter = try MappingAdapter(mapping: try example("email-archive.mapping.json"))
        XCTAssertEqual(adapter.sourceSystem, "mailarchive")
        let records = try adapter.adapt(try example("email-archive.csv"))
        XCTAssertEqual(records.count, 10)
        let objects = try records.map { try XCTUnwrap($0.result.get().objectValue) }
        XCTAssertEqual(records.first?.line, 2)
        XCTAssertEqual(records[1].line, 8, "row 1's body spans lines 2-7")
        let first = objects[0]
        XCTAssertEqual(first["matter"], "M-2026-014")
        XCTAssertEqual(first["author"], "a.okafor@example-firm.com")
        XCTAssertEqual(first["recipients"], ["j.hartley@example.net"])
        XCTAssertEqual(first["channel"], "email")
        XCTAssertEqual(first["direction"], "outbound")
        XCTAssertEqual(first["outcome"], "sent")
        XCTAssertEqual(first["occurredAt"], "2026-03-02T09:05:00+00:00")
        XCTAssertEqual(first["subject"], "Engagement letter")
        XCTAssertEqual(first["summary"]?.stringValue?.hasPrefix("Dear Ms Hartley,\n\nPlease find"), true)
        XCTAssertEqual(first["sourceId"], "<msg-0001@mail.example-firm.com>")
        XCTAssertEqual(first["sourceSystem"], "mailarchive")
        XCTAssertNil(first["x-cc"], "an empty cell leaves the field out")
        XCTAssertEqual(objects[1]["direction"], "inbound")
        XCTAssertEqual(objects[1]["outcome"], "delivered", "'otherwise'")
        XCTAssertEqual(objects[2]["x-cc"], "p.singh@example-firm.com")
        XCTAssertEqual(objects[2]["summary"]?.stringValue?.contains(#""letter before action""#), true)
        XCTAssertEqual(objects[3]["direction"], "internal")
        XCTAssertEqual(objects[6]["recipients"], ["accounts@example.org", "legal@example.org"])
        for record in records { XCTAssertNoThrow(try RecordSchema.validate(record.result.get())) }
    }

    /// Europe/London: GMT until 01:00 UTC on 2026-03-29, then BST (+01:00) until 01:00 UTC on 2026-10-25.
    func testExampleTimesCrossDaylightSaving() throws {
        let adapter = try MappingAdapter(mapping: try example("email-archive.mapping.json"))
        let times = try adapter.adapt(try example("email-archive.csv")).map {
            try $0.result.get().objectValue?["occurredAt"]?.stringValue
        }
        XCTAssertEqual(times[3], "2026-03-28T18:00:00+00:00", "the evening before the clocks go forward")
        XCTAssertEqual(times[4], "2026-03-29T08:15:00+01:00", "the morning after")
        XCTAssertEqual(times[8], "2026-10-25T01:30:00+01:00", "01:30 happens twice on 25 October: the earlier")
        XCTAssertEqual(times[9], "2026-10-26T09:00:00+00:00")
    }

    func testLocalTimeInTheSpringGapIsRefusedNamingTheColumn() throws {
        let m = mapping(["occurredAt": #"{"column": "When", "time": true}"#],
                        input: #""input": {"timeZone": "Europe/London", "timeFormat": "yyyy-MM-dd HH:mm"},"#)
        let records = try adapt(m, "Matter,From,When\nM-1,a,2026-03-29 01:30\nM-1,a,2026-03-29T01:30:00-05:00\n")
        XCTAssertEqual(records[0].line, 2)
        XCTAssertEqual(failure(records[0])?.field, "When")
        XCTAssertTrue(failure(records[0])?.reason.contains("does not exist in Europe/London") ?? false)
        XCTAssertEqual(try records[1].result.get().objectValue?["occurredAt"], "2026-03-29T01:30:00-05:00",
                       "RFC 3339 with an offset is kept as it is")
    }

    func testTwelveHourPatternAndNumbers() throws {
        let m = mapping(["occurredAt": #"{"column": "When", "time": true}"#,
                         "durationMinutes": #"{"column": "Hours", "multiply": 60}"#,
                         "privileged": #"{"column": "Priv", "values": {"Y": "true", "N": "false"}}"#],
                        input: #""input": {"timeZone": "America/New_York", "timeFormat": "MM/dd/yyyy hh:mm a"},"#)
        let records = try adapt(m, "Matter,From,When,Hours,Priv\nM-1,a,3/8/2026 9:05 PM,1.25,Y\n"
            + "M-1,a,03/07/2026 12:00 am,0.0083,N\n")
        let first = try records[0].result.get().objectValue
        XCTAssertEqual(first?["occurredAt"], "2026-03-08T21:05:00-04:00")
        XCTAssertEqual(first?["durationMinutes"], 75)
        XCTAssertEqual(first?["privileged"], true)
        let second = try records[1].result.get().objectValue
        XCTAssertEqual(second?["occurredAt"], "2026-03-07T00:00:00-05:00")
        XCTAssertEqual(second?["durationMinutes"], 0, "0.498 rounds down")
        XCTAssertEqual(second?["privileged"], false)
    }

    func testDecimalRounding() {
        XCTAssertEqual(DecimalText.scaled("1.5", by: 60), 90)
        XCTAssertEqual(DecimalText.scaled("0.0125", by: 60), 1, "0.75 rounds up")
        XCTAssertEqual(DecimalText.scaled("2.5", by: 1), 3, "half away from zero")
        XCTAssertEqual(DecimalText.scaled("-2.5", by: 1), -3)
        XCTAssertEqual(DecimalText.scaled("30", by: 1), 30)
        for bad in ["", "1.", ".5", "1e3", "1,5", "abc", "1.0000000001", "99999999999999999999"] {
            XCTAssertNil(DecimalText.scaled(bad, by: 60), bad)
        }
    }

    func failure(_ record: AdaptedRecord) -> RecordError? {
        if case .failure(let error) = record.result { return error }
        XCTFail("line \(record.line) was mapped")
        return nil
    }
}

// MARK: mapping-file errors name their key path

extension MappingImportTests {
    func testEachMappingErrorNamesItsKeyPath() {
        let cases: [(fields: [String: String?], input: String?, path: String, says: String)] = [
            (["direction": #"{"column": "Folder", "values": ["a"]}"#], nil, "fields.direction.values",
             "must be an object of source value → schema value"),
            (["direction": #"{"column": "Folder", "values": {"Inbox": "in"}}"#], nil, "fields.direction.values.Inbox",
             "must be one of inbound, outbound, internal"),
            (["direction": #"{"column": "F", "values": {"a": "inbound"}, "otherwise": "sideways"}"#], nil,
             "fields.direction.otherwise", "must be one of"),
            (["direction": #"{"column": "F", "otherwise": "inbound"}"#], nil, "fields.direction.otherwise", "'values'"),
            (["colour": #"{"column": "C"}"#], nil, "fields.colour", "is not a schema field"),
            (["x-": #"{"column": "C"}"#], nil, "fields.x-", "is not a schema field"),
            (["sourceSystem": #"{"default": "a"}"#], nil, "fields.sourceSystem", "top-level 'sourceSystem'"),
            (["author": nil], nil, "fields.author", "is required"),
            (["author": #"{}"#], nil, "fields.author", "needs a 'column', a 'default' or both"),
            (["author": #""From""#], nil, "fields.author", "must be an object"),
            (["author": #"{"column": "From", "colum": "x"}"#], nil, "fields.author.colum", "is not a known key"),
            (["author": #"{"column": ""}"#], nil, "fields.author.column", "non-empty one-line string"),
            (["author": #"{"column": 7}"#], nil, "fields.author.column", "non-empty one-line string"),
            (["channel": #"{"default": "fax"}"#], nil, "fields.channel.default", "must be one of email"),
            (["durationMinutes": #"{"column": "H", "multiply": 0}"#], nil, "fields.durationMinutes.multiply",
             "from 1 to 1000000"),
            (["subject": #"{"column": "S", "multiply": 60}"#], nil, "fields.subject.multiply", "only to integer"),
            (["subject": #"{"column": "S", "split": ";"}"#], nil, "fields.subject.split", "only to list fields"),
            (["subject": #"{"column": "S", "time": true}"#], nil, "fields.subject.time", "only to occurredAt"),
            (["occurredAt": #"{"column": "W", "time": true}"#], nil, "input.timeZone",
             "required when 'fields.occurredAt.time' is true"),
            (["occurredAt": #"{"column": "W", "time": true}"#], #""input": {"timeZone": "Europe/London"},"#,
             "input.timeFormat", "required"),
            ([:], #""input": {"timeZone": "Mars/Olympus"},"#, "input.timeZone", "IANA time zone"),
            ([:], #""input": {"timeFormat": "yyyy-MM-dd HH:mm Z"},"#, "input.timeFormat", "not supported"),
            ([:], #""input": {"timeFormat": "yyyy-MM-dd"},"#, "input.timeFormat", "must contain"),
            ([:], #""input": {"timeFormat": "yyyy-MM-dd[ HH:mm]"},"#, "input.timeFormat", "(outside [ ])"),
            ([:], #""input": {"timeFormat": "yyyy-MM-dd HH:mm[:ss"},"#, "input.timeFormat", "unbalanced"),
            ([:], #""input": {"timeFormat": "yyyy-MM-dd HH:mm[[:ss]]"},"#, "input.timeFormat", "nested"),
            ([:], #""input": {"format": "xlsx"},"#, "input.format", "\"csv\" or \"jsonl\""),
            ([:], #""input": {"delimiter": ";"},"#, "input.delimiter", "is not a known key"),
            ([:], #""input": [],"#, "input", "must be an object"),
        ]
        for c in cases {
            let error = mappingError(mapping(c.fields, input: c.input ?? ""))
            XCTAssertEqual(error?.path, c.path, "\(c)")
            XCTAssertTrue(error?.description.contains("'\(c.path)' ") ?? false, "\(error.map { "\($0)" } ?? "")")
            XCTAssertTrue(error?.reason.contains(c.says) ?? false, "\(c.path): \(error.map { "\($0)" } ?? "")")
        }
    }

    func testTopLevelErrors() {
        let cases: [(String, String, String)] = [
            (#"{"sourceSystem": "s", "fields": {}}"#, "formatVersion", "is required"),
            (#"{"formatVersion": 2, "sourceSystem": "s", "fields": {}}"#, "formatVersion", "must be 1"),
            (#"{"formatVersion": 1, "fields": {}}"#, "sourceSystem", "is required"),
            (#"{"formatVersion": 1, "sourceSystem": "a\nb", "fields": {}}"#, "sourceSystem", "one-line"),
            (#"{"formatVersion": 1, "sourceSystem": "s"}"#, "fields", "is required"),
            (#"{"formatVersion": 1, "sourceSystem": "s", "fields": []}"#, "fields", "must be an object"),
            (#"{"formatVersion": 1, "sourceSystem": "s", "fields": {}, "extra": 1}"#, "extra", "not a known key"),
            (#"[1]"#, "", "must be a JSON object"),
            (#"{"formatVersion": 1,}"#, "", "not valid JSON"),
            (#"{"formatVersion": 1.5}"#, "", "not valid JSON"),
            (#"{"formatVersion": 1, "formatVersion": 1}"#, "", "duplicate key"),
        ]
        for (text, path, says) in cases {
            let error = mappingError(Array(text.utf8))
            XCTAssertEqual(error?.path, path, text)
            XCTAssertTrue(error?.reason.contains(says) ?? false, "\(text): \(error.map { "\($0)" } ?? "")")
        }
    }

    func testHostileMappingFilesAreRefusedCleanly() {
        let huge = Array(#"{"formatVersion": 1, "sourceSystem": ""#.utf8) + [UInt8](repeating: 0x61, count: 2 << 20)
            + Array(#""}"#.utf8)
        XCTAssertEqual(mappingError(huge)?.reason, "is larger than 1 MiB")
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertTrue(mappingError(Array(deep.utf8))?.reason.contains("nesting too deep") ?? false)
        XCTAssertTrue(mappingError([0xFF, 0xFE])?.reason.contains("not valid JSON") ?? false)
        XCTAssertTrue(mappingError([])?.reason.contains("not valid JSON") ?? false)
        let manyValues = (0..<10_001).map { "\"v\($0)\": \"inbound\"" }.joined(separator: ",")
        let error = mappingError(mapping(["direction": "{\"column\": \"F\", \"values\": {\(manyValues)}}"]))
        XCTAssertEqual(error?.path, "fields.direction.values")
        let longKey = String(repeating: "k", count: 5000)
        let unknown = mappingError(mapping([longKey: #"{"column": "C"}"#]))
        XCTAssertLessThan(unknown?.description.count ?? .max, 200, "a long key is shortened in the message")
        for wrongType in ["null", "true", "1", "\"s\"", "[]"] {
            XCTAssertEqual(mappingError(mapping(["subject": wrongType]))?.path, "fields.subject", wrongType)
            XCTAssertNotNil(mappingError(Array("{\"formatVersion\": 1, \"sourceSystem\": \(wrongType), \"fields\": {}}"
                .utf8)))
        }
    }
}

// MARK: row refusals name the line and the source column, never the value

extension MappingImportTests {
    func testRowRefusalsNameLineAndColumn() throws {
        let m = mapping(["direction": #"{"column": "Folder", "values": {"Inbox": "inbound"}}"#,
                         "durationMinutes": #"{"column": "Hours", "multiply": 60}"#,
                         "occurredAt": #"{"column": "When", "time": true}"#],
                        input: #""input": {"timeZone": "Europe/Paris", "timeFormat": "yyyy-MM-dd HH:mm[:ss]"},"#)
        XCTAssertNotNil(try? MappingAdapter(mapping: m))
        let good = m
        let csv = """
            Matter,From,When,Folder,Hours
            M-1,a,2026-06-01 10:00:30,Inbox,1
            M-1,a,2026-06-01 10:00,SecretFolderName,1
            M-1,a,2026-06-01 10:00,Inbox,about two
            M-1,a,01.06.2026,Inbox,1
            ,a,2026-06-01 10:00,Inbox,1
            M-1,a,2026-06-01 10:00,Inbox
            M-1,a,2026-02-30 10:00,Inbox,1

            """
        let records = try adapt(good, csv)
        XCTAssertEqual(records.map(\.line), [2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(try records[0].result.get().objectValue?["occurredAt"], "2026-06-01T10:00:30+02:00")
        let expected: [(String?, String)] = [("Folder", "does not list"), ("Hours", "is not a number"),
                                             ("When", "does not match 'input.timeFormat'"), ("Matter", "is required"),
                                             (nil, "has 4 cells; the header has 5"), ("When", "does not match")]
        for (record, (field, says)) in zip(records.dropFirst(), expected) {
            let error = failure(record)
            XCTAssertEqual(error?.field, field, "line \(record.line)")
            XCTAssertTrue(error?.reason.contains(says) ?? false, "line \(record.line): \(String(describing: error))")
            XCTAssertFalse(error?.description.contains("SecretFolderName") ?? true, "never the cell's value")
            XCTAssertFalse(error?.description.contains("about two") ?? true)
        }
    }

    func testMissingColumnAndBrokenCSVThrowNamingThem() throws {
        XCTAssertThrowsError(try adapt(mapping(), "Matter,From\nM-1,a\n")) { error in
            let error = error as? RecordError
            XCTAssertEqual(error?.line, 1)
            XCTAssertEqual(error?.field, "When")
            XCTAssertTrue(error?.reason.contains("'fields.occurredAt.column', is not in the header") ?? false)
        }
        XCTAssertThrowsError(try adapt(mapping(), "Matter,From,When\nM-1,\"a,x\n")) { error in
            XCTAssertEqual((error as? RecordError)?.line, 2)
        }
        XCTAssertEqual(try adapt(mapping(), "").count, 0)
    }

    func testJSONLinesInput() throws {
        let m = mapping(["durationMinutes": #"{"column": "mins"}"#, "tags": #"{"column": "tags", "split": ","}"#],
                        input: #""input": {"format": "jsonl"},"#)
        let input = #"{"Matter": "M-1", "From": "a", "When": "2026-01-05T09:00:00Z", "mins": 15, "tags": "x, y"}"#
            + "\n\n" + #"{"Matter": "M-1", "From": ["a"], "When": "2026-01-05T09:00:00Z"}"# + "\n[1]\n{bad\n"
        let records = try adapt(m, input)
        XCTAssertEqual(records.map(\.line), [1, 3, 4, 5])
        let first = try records[0].result.get().objectValue
        XCTAssertEqual(first?["durationMinutes"], 15)
        XCTAssertEqual(first?["tags"], ["x", "y"])
        XCTAssertEqual(failure(records[1])?.field, "From")
        XCTAssertNotNil(failure(records[2]))
        XCTAssertNotNil(failure(records[3]))
    }

    /// Through the engine: imported like native records, idempotent on sourceId, a bad row writes nothing.
    func testImportThroughTheEngine() throws {
        let t = try TestLedger()
        let adapter = try MappingAdapter(mapping: try example("email-archive.mapping.json"))
        let csv = Self.examples.appendingPathComponent("email-archive.csv").path
        let summary = try t.ledger.importRecords(from: csv, adapter: adapter)
        XCTAssertEqual(summary.imported, 10)
        XCTAssertEqual(try t.ledger.importRecords(from: csv, adapter: adapter).duplicates, 10)
        let entries = try allEntries(t.ledger)
        XCTAssertEqual(entries[4].string("occurredAt"), "2026-03-29T08:15:00+01:00")
        let text = try String(contentsOfFile: csv, encoding: .utf8).replacingOccurrences(of: ",Inbox,Re: Lease",
                                                                                        with: ",Outbox,Re: Lease")
        let bad = try t.temp.write("bad.csv", text.replacingOccurrences(of: "msg-00", with: "new-00"))
        let errors = invalidRecords(try t.ledger.importRecords(from: bad, adapter: adapter))
        XCTAssertEqual(errors?.map(\.line), [16, 19])
        XCTAssertEqual(errors?.first?.field, "Folder")
        XCTAssertEqual(try t.ledger.size(), 10)
    }
}

extension MappingImportTests {
    func testDuplicateMappedHeaderColumnIsRefused() throws {
        XCTAssertThrowsError(try adapt(mapping(), "Matter,From,When,From\nM-1,a,2026-01-05T09:00:00Z,b\n")) { error in
            XCTAssertEqual((error as? RecordError)?.field, "From")
            XCTAssertTrue((error as? RecordError)?.reason.contains("twice") ?? false)
        }
        let unmappedTwice = try adapt(mapping(), "Matter,From,When,Notes,Notes\nM-1,a,2026-01-05T09:00:00Z,x,y\n")
        XCTAssertNoThrow(try unmappedTwice[0].result.get(), "a repeated column the mapping does not read is fine")
    }

    func testQuotedLiteralAndOptionalSeconds() throws {
        let m = mapping(["occurredAt": #"{"column": "When", "time": true}"#],
                        input: #""input": {"timeZone": "UTC", "timeFormat": "yyyy-MM-dd'T'HH:mm[:ss]"},"#)
        let records = try adapt(m, "Matter,From,When\nM-1,a,2026-01-05T09:00\nM-1,a,2026-01-05T09:00:07\n")
        XCTAssertEqual(try records[0].result.get().objectValue?["occurredAt"], "2026-01-05T09:00:00+00:00")
        XCTAssertEqual(try records[1].result.get().objectValue?["occurredAt"], "2026-01-05T09:00:07+00:00")
    }
}
