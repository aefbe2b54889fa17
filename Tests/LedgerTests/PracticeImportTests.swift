import Foundation
@testable import Ledger
import LedgerFormat
@testable import LedgerImport
import RecordFormats
import XCTest

/// `ledger import --from`: each practice-management adapter maps its sample export (examples/pms) to the expected
/// records, and each refusal names the line and the source field, never the value.
final class PracticeImportTests: XCTestCase {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/pms")

    /// The sample `name` through `system`'s adapter: every record mapped and valid under the schema.
    func mapped(_ system: PracticeSystem, _ name: String, zone: String = "UTC",
                file: StaticString = #filePath, line: UInt = #line) throws -> [JSONObject] {
        let bytes = try [UInt8](Data(contentsOf: Self.examples.appendingPathComponent(name)))
        let adapter = system.adapter(timeZone: try XCTUnwrap(TimeZone(identifier: zone)))
        XCTAssertEqual(adapter.sourceSystem, system.rawValue, file: file, line: line)
        return try adapter.adapt(bytes).map { record in
            let value = try record.result.get()
            _ = try RecordSchema.validate(value)
            return try XCTUnwrap(value.objectValue, file: file, line: line)
        }
    }

    /// The refusal of the only record of `text`.
    func refusal(_ system: PracticeSystem, _ text: String) throws -> AdaptedRecord {
        let records = try system.adapter.adapt(Array(text.utf8))
        XCTAssertEqual(records.count, 1)
        return try XCTUnwrap(records.first)
    }

    func assertRefused(_ record: AdaptedRecord, line: Int, field: String, notQuoting secret: String = "SECRET",
                       file: StaticString = #filePath, sourceLine: UInt = #line) {
        XCTAssertEqual(record.line, line, file: file, line: sourceLine)
        guard case .failure(let error) = record.result else {
            return XCTFail("expected a refusal naming \(field)", file: file, line: sourceLine)
        }
        XCTAssertEqual(error.field, field, "\(error)", file: file, line: sourceLine)
        XCTAssertFalse(error.description.contains(secret), "the message quotes a value: \(error)",
                       file: file, line: sourceLine)
    }

    func string(_ object: JSONObject, _ key: String) -> String? { object[key]?.stringValue }

    // MARK: Clio

    func testClioSampleMapsEveryCommunication() throws {
        let records = try mapped(.clio, "clio-communications.json")
        XCTAssertEqual(records.count, 8)
        let first = records[0]
        XCTAssertEqual(string(first, "sourceSystem"), "clio")
        XCTAssertEqual(string(first, "sourceId"), "48211001")
        XCTAssertEqual(string(first, "matter"), "00112-Okafor")
        XCTAssertEqual(string(first, "author"), "Jordan Rivera")
        XCTAssertEqual(string(first, "channel"), "email")
        XCTAssertEqual(string(first, "direction"), "outbound")
        XCTAssertEqual(string(first, "occurredAt"), "2026-03-02T00:00:00Z")  // date-only: midnight UTC
        XCTAssertEqual(first["recipients"], ["Adaeze Okafor"])
        XCTAssertEqual(string(first, "subject"), "Lease dispute: landlord's counter-offer")
        XCTAssertTrue(string(first, "summary")?.contains("\nPlease let me know by Friday") == true)
        // An inbound email: received_at, the Contact sends, the User receiving is the author.
        XCTAssertEqual(string(records[1], "direction"), "inbound")
        XCTAssertEqual(string(records[1], "author"), "Jordan Rivera")
        XCTAssertEqual(string(records[1], "occurredAt"), "2026-03-03T08:47:12-05:00")
        XCTAssertEqual(string(records[2], "channel"), "phone")
        XCTAssertEqual(string(records[3], "author"), "Søren Müller-Ødegaard")
        XCTAssertEqual(records[3]["recipients"], ["Zofia Wiśniewska", "Piotr Wiśniewski"])
        XCTAssertNil(records[4]["summary"], "a null body is left out")
        XCTAssertEqual(string(records[5], "direction"), "internal")
        XCTAssertEqual(string(records[6], "occurredAt"), "2026-03-09T23:58:01Z")
    }

    func testClioTimesWithoutOffsetUseTheTimeZone() throws {
        let records = try mapped(.clio, "clio-communications.json", zone: "America/New_York")
        XCTAssertEqual(string(records[0], "occurredAt"), "2026-03-02T00:00:00-05:00")
        XCTAssertEqual(string(records[3], "occurredAt"), "2026-03-05T10:00:00-05:00")
        XCTAssertEqual(string(records[7], "occurredAt"), "2026-03-10T11:30:00-04:00", "an offset is kept")
        let berlin = try mapped(.clio, "clio-communications.json", zone: "Europe/Berlin")
        XCTAssertEqual(string(berlin[3], "occurredAt"), "2026-03-05T10:00:00+01:00")
    }

    func testClioRefusalsNameTheSourceField() throws {
        let good = #""id":1,"type":"EmailCommunication","date":"2026-03-02","matter":{"display_number":"M-1"},"#
            + #""senders":[{"type":"User","name":"A"}],"receivers":[{"type":"Contact","name":"B"}]"#
        XCTAssertNoThrow(try refusal(.clio, "[{\(good)}]").result.get())
        let cases: [(String, String)] = [
            (good.replacingOccurrences(of: #""matter":{"display_number":"M-1"},"#, with: ""), "matter"),
            (good.replacingOccurrences(of: #""display_number":"M-1""#, with: #""display_number":7"#),
             "matter.display_number"),
            (good.replacingOccurrences(of: "EmailCommunication", with: "SECRET"), "type"),
            (good.replacingOccurrences(of: #""type":"Contact""#, with: #""type":"SECRET""#), "receivers[0].type"),
            (good.replacingOccurrences(of: "2026-03-02", with: "SECRET"), "date"),
            (good.replacingOccurrences(of: #""id":1,"#, with: #""id":[1],"#), "id"),
            (good.replacingOccurrences(of: #""type":"User","name":"A""#, with: #""type":"Contact""#), "receivers"),
        ]
        for (fields, field) in cases {
            let records = try ClioAdapter().adapt(Array("{\"data\":[{\(good)},{\(fields)}]}".utf8))
            assertRefused(records[1], line: 2, field: field)
        }
    }

    func testMalformedDocumentsAreRefusedAsAWhole() throws {
        for text in ["[{\"id\":1,", "{\"data\":{\"id\":1}}", String(repeating: "[", count: 100), "[1] x"] {
            XCTAssertThrowsError(try ClioAdapter().adapt(Array(text.utf8)), text)
        }
        let notObject = try ClioAdapter().adapt(Array("[1]".utf8))
        XCTAssertEqual(notObject.first?.line, 1)
        XCTAssertThrowsError(try notObject.first?.result.get())
        XCTAssertEqual(try ClioAdapter().adapt(Array("  \n".utf8)).count, 0)
    }
}

/// PracticePanther, MyCase and Actionstep.
extension PracticeImportTests {
    func testPracticePantherCallsCSV() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.examples.appendingPathComponent("practicepanther-calls.csv")))
        XCTAssertEqual(try PracticePantherAdapter().adapt(bytes).map(\.line), [2, 4, 5, 6, 7, 8], "CSV lines")
        let records = try mapped(.practicepanther, "practicepanther-calls.csv")
        XCTAssertEqual(records.count, 6)
        let first = records[0]
        XCTAssertEqual(string(first, "sourceId"), "call:pp-call-5001")
        XCTAssertEqual(string(first, "matter"), "Okafor v. Greystone Properties")
        XCTAssertEqual(string(first, "author"), "Jordan Rivera")
        XCTAssertEqual(string(first, "channel"), "phone")
        XCTAssertEqual(string(first, "direction"), "inbound")
        XCTAssertEqual(string(first, "occurredAt"), "2026-03-02T09:00:00Z")
        XCTAssertEqual(first["durationMinutes"], 45)
        XCTAssertEqual(first["tags"], ["intake", "lease"])
        XCTAssertTrue(string(first, "summary")?.contains("\nClient to send photos") == true)
        XCTAssertEqual(records[1]["durationMinutes"], 20, "h:mm")
        XCTAssertEqual(string(records[1], "direction"), "outbound")
        XCTAssertEqual(records[2]["durationMinutes"], 65)
        XCTAssertEqual(string(records[2], "occurredAt"), "2026-03-05T14:30:00Z", "US date with PM")
        XCTAssertEqual(string(records[2], "author"), "Søren Müller-Ødegaard")
        XCTAssertEqual(string(records[3], "occurredAt"), "2026-03-06T00:00:00Z")
        XCTAssertEqual(string(records[5], "summary"), #"Beneficiary asked about timing, "as soon as possible"."#)
    }

    func testAPracticePantherCallAndEmailWithTheSameIdAreNotDuplicates() throws {
        let bytes = Array(#"""
        [{"id":"42","matter_ref":"M-1","subject":"Call","duration":5,"notes":"n","date":"2026-03-02T09:00:00Z",
          "call_direction":"Inbound","assigned_to_users":"Jordan Rivera"},
         {"id":"42","matter_ref":"M-1","subject":"Mail","from":"Jordan Rivera","to":"client@example.com","body":"b",
          "date":"2026-03-02T10:00:00Z","assigned_to_users":"Jordan Rivera"}]
        """#.utf8)
        let ids = try PracticePantherAdapter().adapt(bytes).map { record -> String? in
            guard case .success(.object(let o)) = record.result else { return nil }
            return o["sourceId"]?.stringValue
        }
        XCTAssertEqual(ids, ["call:42", "email:42"])
    }

    func testPracticePantherEmailDirectionMatchesAddressOrNameExactly() throws {
        func direction(_ from: String) throws -> String? {
            let text = #"[{"id":"1","matter_ref":"M","subject":"s","from":"\#(from)","to":"x@y.z","body":"b","date":"2026-03-02T10:00:00Z","assigned_to_users":[{"display_name":"Dan","email":"j.rivera@firm.example"}]}]"#
            guard case .success(.object(let o)) = try PracticePantherAdapter().adapt(Array(text.utf8))[0].result else {
                return nil
            }
            return o["direction"]?.stringValue
        }
        XCTAssertEqual(try direction("J.Rivera@firm.example"), "outbound", "the user's address")
        XCTAssertEqual(try direction("Dan <other@firm.example>"), "outbound", "the user's name")
        XCTAssertEqual(try direction("Danielle Client <danielle@client.example>"), "inbound", "no substring match")
    }

    func testAByteOrderMarkBeforeJSONLinesAndAnEmptyReceivedAt() throws {
        let line = #"{"id":7,"type":"EmailCommunication","subject":"s","body":"b","date":"2026-03-02T10:00:00Z","received_at":"","matter":{"id":1,"display_number":"M-1"},"senders":[{"type":"Contact","name":"C"}],"receivers":[{"type":"User","name":"U"}]}"#
        let bytes = [0xEF, 0xBB, 0xBF] + Array((line + "\n" + line.replacingOccurrences(of: "\"id\":7", with: "\"id\":8") + "\n").utf8)
        let records = try ClioAdapter().adapt(bytes)
        XCTAssertEqual(records.count, 2)
        for record in records {
            guard case .success(.object(let o)) = record.result else { return XCTFail("line \(record.line) refused") }
            XCTAssertEqual(o["occurredAt"]?.stringValue, "2026-03-02T10:00:00Z", "an empty received_at falls back to date")
        }
    }

    func testAMappedRecordOverOneMebibyteIsRefusedLikeANativeOne() throws {
        let t = try TestLedger()
        let huge = String(repeating: "x", count: 1 << 20)
        let path = try t.temp.write("as.json", #"[{"id":1,"direction":"in","callTimestamp":"2026-03-02T10:00:00Z","actualHours":0.5,"notes":"n","outcome":"\#(huge)","enteredBy":"A. Staff","links":{"action":"M-1"}}]"#)
        assertLedgerError(try t.ledger.importRecords(from: path, adapter: ActionstepAdapter())) { error in
            guard case .invalidRecords(let errors) = error else { return false }
            return errors.first?.reason == "record is larger than 1 MiB" && errors.first?.line == 1
        }
        XCTAssertEqual(try t.ledger.size(), 0)
    }

    func testActionstepHalfMinutesRoundAwayFromZeroAndHugeUSDatesAreRefused() throws {
        let record = #"[{"id":1,"direction":"in","callTimestamp":"2026-03-02T10:00:00Z","actualHours":1.025,"notes":"n","enteredBy":"A","links":{"action":"M-1"}}]"#
        guard case .success(.object(let o)) = try ActionstepAdapter().adapt(Array(record.utf8))[0].result else {
            return XCTFail("refused")
        }
        XCTAssertEqual(o["durationMinutes"], 62, "1.025 h = 61.5 min, half away from zero")
        XCTAssertNil(SourceTime.isoFromUS("4294967299/1/2026"))
        XCTAssertNil(SourceTime.isoFromUS("3/1/2026 25:00"))
        XCTAssertEqual(SourceTime.isoFromUS("3/1/2026 2:05 PM"), "2026-03-01T14:05:00")
    }

    func testPracticePantherEmailsJSON() throws {
        let records = try mapped(.practicepanther, "practicepanther-emails.json")
        XCTAssertEqual(records.count, 3)
        XCTAssertEqual(string(records[0], "channel"), "email")
        XCTAssertEqual(string(records[0], "direction"), "outbound")
        XCTAssertEqual(string(records[0], "matter"), "Okafor v. Greystone Properties")
        XCTAssertEqual(records[0]["recipients"], ["adaeze.okafor@example.net", "paralegal@example-firm.com"])
        XCTAssertEqual(string(records[0], "occurredAt"), "2026-03-05T12:00:00-05:00")
        XCTAssertEqual(string(records[1], "direction"), "inbound")
        XCTAssertEqual(string(records[1], "author"), "Jordan Rivera")
        XCTAssertEqual(string(records[2], "matter"), "Harbor & Pike LLC — Shareholder agreement")
        XCTAssertEqual(string(records[2], "direction"), "outbound")
        XCTAssertEqual(string(records[2], "author"), "Mei Lin Chen")
        XCTAssertEqual(records[2]["recipients"], ["dana.pike@harborpike.example", "cfo@harborpike.example"])
        XCTAssertEqual(records[2]["tags"], ["corporate", "advice"])
    }

    func testPracticePantherRefusals() throws {
        let csv = "id,matter_ref,date,call_direction,assigned_to_users,duration\n"
        let records = try PracticePantherAdapter().adapt(Array((csv
            + "1,M,2026-03-02,SECRET,A,5\n2,M,2026-03-02,Inbound,,5\n3,M,2026-03-02,Inbound,A,SECRET\n"
            + "4,M,SECRET,Inbound,A,5\n5,,2026-03-02,Inbound,A,5\n6,M\n").utf8))
        let fields = ["call_direction", "assigned_to_users", "duration", "date", "matter_ref", nil]
        for (index, field) in fields.enumerated() {
            if let field { assertRefused(records[index], line: index + 2, field: field) }
        }
        XCTAssertThrowsError(try records[5].result.get(), "a row with too few cells")
        let email = #"[{"id":"e","matter_ref":{"id":1},"from":"a","date":"2026-03-02"}]"#
        assertRefused(try refusal(.practicepanther, email), line: 1, field: "matter_ref.display_name")
        let unassigned = #"[{"id":"e","matter_ref":"M","from":"a","date":"2026-03-02"}]"#
        assertRefused(try refusal(.practicepanther, unassigned), line: 1, field: "assigned_to_users")
        assertRefused(try refusal(.practicepanther, #"[{"id":"e","matter_ref":"M"}]"#), line: 1,
                      field: "call_direction")
    }

    func testMyCaseCallLogs() throws {
        let records = try mapped(.mycase, "mycase-call-logs.json")
        XCTAssertEqual(records.count, 6)
        let first = records[0]
        XCTAssertEqual(string(first, "sourceSystem"), "mycase")
        XCTAssertEqual(string(first, "sourceId"), "880101")
        XCTAssertEqual(string(first, "matter"), "FAM-2026-0041")
        XCTAssertEqual(string(first, "author"), "Priya Raman")
        XCTAssertEqual(string(first, "direction"), "inbound")
        XCTAssertEqual(string(first, "channel"), "phone")
        XCTAssertEqual(string(first, "occurredAt"), "2026-03-02T09:12:00-06:00")
        XCTAssertNil(first["tags"])
        XCTAssertEqual(records[1]["tags"], ["resolved"])
        XCTAssertEqual(string(records[1], "direction"), "outbound")
        XCTAssertEqual(string(records[2], "author"), "Tomás Ibáñez")
        XCTAssertEqual(string(records[4], "matter"), "55003", "no case_number: the case id")
    }

    func testMyCaseRefusals() throws {
        let base = #""id":1,"called_at":"2026-03-02","call_type":"incoming","call_for":"P""#
        assertRefused(try refusal(.mycase, "[{\(base)}]"), line: 1, field: "case")
        assertRefused(try refusal(.mycase, "[{\(base),\"case\":\"SECRET\"}]"), line: 1, field: "case")
        let wrongType = base.replacingOccurrences(of: "incoming", with: "SECRET") + #","case":{"id":5}"#
        assertRefused(try refusal(.mycase, "[{\(wrongType)}]"), line: 1, field: "call_type")
        let resolved = base + #","case":{"id":5},"resolved":"SECRET""#
        assertRefused(try refusal(.mycase, "[{\(resolved)}]"), line: 1, field: "resolved")
    }

    func testActionstepPhoneRecords() throws {
        let records = try mapped(.actionstep, "actionstep-phonerecords.json")
        XCTAssertEqual(records.count, 6)
        let first = records[0]
        XCTAssertEqual(string(first, "sourceId"), "70001")
        XCTAssertEqual(string(first, "matter"), "4411")
        XCTAssertEqual(string(first, "author"), "Aroha Ngata")
        XCTAssertEqual(string(first, "direction"), "outbound")
        XCTAssertEqual(string(first, "occurredAt"), "2026-03-02T09:30:00+11:00")
        XCTAssertEqual(first["durationMinutes"], 15)
        XCTAssertEqual(string(first, "outcome"), "spoke")
        XCTAssertEqual(records[1]["durationMinutes"], 6)
        XCTAssertEqual(string(records[1], "direction"), "inbound")
        XCTAssertEqual(string(records[2], "outcome"), "left-message")
        XCTAssertEqual(records[2]["durationMinutes"], 0)
        XCTAssertEqual(records[3]["durationMinutes"], 2, "0.0333 h rounds to 2 minutes")
        XCTAssertEqual(string(records[3], "outcome"), "no-answer")
        XCTAssertEqual(records[4]["durationMinutes"], 90)
        XCTAssertEqual(string(records[4], "matter"), "4413")
        XCTAssertNil(records[5]["outcome"])
        XCTAssertEqual(string(records[5], "x-outcome"), "Transferred", "an unknown outcome is kept as x-outcome")
    }

    func testActionstepRefusals() throws {
        let base = #""id":1,"callTimestamp":"2026-03-02","enteredBy":"A","links":{"action":9}"#
        XCTAssertNoThrow(try refusal(.actionstep, #"{"phonerecords":[{\#(base),"direction":"in"}]}"#).result.get())
        let cases: [(String, String)] = [
            (#","direction":"SECRET""#, "direction"),
            (#","direction":"in","actualHours":"SECRET""#, "actualHours"),
            (#","direction":"in","actualHours":-1"#, "actualHours"),
            (#","direction":"in","actualHours":1e400"#, "actualHours"),
        ]
        for (extra, field) in cases {
            assertRefused(try refusal(.actionstep, "[{\(base)\(extra)}]"), line: 1, field: field)
        }
        let noMatter = base.replacingOccurrences(of: "9", with: "null") + #","direction":"in""#
        assertRefused(try refusal(.actionstep, "[{\(noMatter)}]"), line: 1, field: "links.action")
    }
}

/// Hostile input: never a crash, always a refusal with a line.
extension PracticeImportTests {
    func testHostileJSONIsRefusedNotTrapped() throws {
        let duplicate = try ClioAdapter().adapt(Array(#"[{"id":1},{"id":1,"id":2}]"#.utf8))
        XCTAssertEqual(duplicate.map(\.line), [1, 2])
        XCTAssertThrowsError(try duplicate[1].result.get())
        var invalid = Array(#"[{"id":"x"}]"#.utf8)
        invalid[8] = 0xFF
        XCTAssertThrowsError(try ClioAdapter().adapt(invalid).first?.result.get())
        let deep = "[{\"id\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}]"
        XCTAssertThrowsError(try ClioAdapter().adapt(Array(deep.utf8)))
        let escaped = #"{"id":"\u00e9\ud83d\ude00\"","type":"PhoneCommunication"}"# + "\nnot json\n"
        let lines = try ClioAdapter().adapt(Array(escaped.utf8))
        XCTAssertEqual(lines.map(\.line), [1, 2], "JSON lines")
        guard case .failure(let error) = lines[0].result else { return XCTFail("no matter, no senders") }
        XCTAssertEqual(error.field, "senders")
        XCTAssertTrue(try XCTUnwrap(lines[1].result.failureReason).contains("not valid JSON"))
    }

    /// Mutated samples (bytes flipped, truncated) through every adapter: each input is refused or mapped, never a trap.
    func testMutatedSamplesNeverTrap() throws {
        let samples = ["clio-communications.json", "practicepanther-calls.csv", "practicepanther-emails.json",
                       "mycase-call-logs.json", "actionstep-phonerecords.json"]
        var generator = SystemRandomNumberGenerator()
        for name in samples {
            let original = try [UInt8](Data(contentsOf: Self.examples.appendingPathComponent(name)))
            for _ in 0..<200 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    bytes[index] = [0x22, 0x5C, 0x7B, 0x5D, 0x2C, 0x0A, 0xFF, 0x00, 0x31][Int.random(in: 0..<9)]
                }
                if Bool.random(using: &generator) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count))) }
                for system in PracticeSystem.allCases { _ = try? system.adapter.adapt(bytes) }
            }
        }
    }
}

extension Result {
    /// The failure's text, for assertions.
    var failureReason: String? {
        if case .failure(let error) = self { return "\(error)" }
        return nil
    }
}
