import Foundation
import LedgerBench
import LedgerFormat
import RecordFormats
import XCTest

/// `RecordSchema.quickValidate` (the import's fast path) gives exactly what the strict parser and schema give, or
/// nil: never a different record, never a record the strict path refuses.
final class ImportFastPathTests: XCTestCase {
    func strict(_ line: String) -> ValidatedRecord? {
        guard let value = try? JSONParser.parse(Array(line.utf8)) else { return nil }
        return try? RecordSchema.validate(value)
    }

    func quick(_ line: String) -> ValidatedRecord? {
        Array(line.utf8).withUnsafeBytes { RecordSchema.quickValidate($0) }
    }

    func assertAgree(_ line: String, expectFast: Bool? = nil, file: StaticString = #filePath, line number: UInt = #line) {
        let fast = quick(line), slow = strict(line)
        if let fast {
            guard let slow else { return XCTFail("fast path accepted what the strict path refuses: \(line)", file: file, line: number) }
            XCTAssertEqual(fast.names, slow.names, line, file: file, line: number)
            XCTAssertEqual(fast.valueBytes, slow.valueBytes, line, file: file, line: number)
            XCTAssertEqual(fast.valueEnds, slow.valueEnds, line, file: file, line: number)
            XCTAssertEqual(fast.matter, slow.matter, line, file: file, line: number)
            XCTAssertEqual(fast.occurredAt, slow.occurredAt, line, file: file, line: number)
            XCTAssertEqual(fast.sourceSystem, slow.sourceSystem, line, file: file, line: number)
            XCTAssertEqual(fast.sourceId, slow.sourceId, line, file: file, line: number)
            XCTAssertEqual(fast.corrects, slow.corrects, line, file: file, line: number)
        }
        if let expectFast { XCTAssertEqual(fast != nil, expectFast, "fast path taken? \(line)", file: file, line: number) }
    }

    func testSampleRecordsTakeTheFastPathAndAgree() {
        var samples = SampleRecords()
        for index in 0..<2000 {
            assertAgree(JSONWriter.string(samples.next(index: index)), expectFast: true)
        }
    }

    let base = #""matter":"M-1","author":"a.b","channel":"email","direction":"inbound","occurredAt":"2026-03-01T14:30:00+01:00""#

    func testEdgeCasesAgree() {
        let fastOnes = [
            "{\(base)}",
            "{\(base),\"corrects\":0}",
            "{\(base),\"corrects\":12,\"durationMinutes\":5,\"privileged\":true}",
            "{\(base),\"privileged\":false,\"tags\":[],\"recipients\":[\"a@b.c\",\"d\"]}",
            "{\(base),\"x-n\":-5,\"x-s\":\"text\",\"x-b\":true,\"x-a\":[\"q\"]}",
            "{\(base),\"sourceSystem\":\"pms\",\"sourceId\":\"id/1 two\",\"inReplyTo\":\"#12\"}",
            "{\(base),\"followUpDue\":\"2026-03-09\",\"kind\":\"update\",\"outcome\":\"spoke\",\"urgency\":\"urgent\"}",
        ]
        for line in fastOnes { assertAgree(line, expectFast: true) }
        let others = [
            "{\(base),\"corrects\":-1}", "{\(base),\"corrects\":-0}", "{\(base),\"corrects\":01}",
            "{\(base),\"durationMinutes\":5.0}", "{\(base),\"durationMinutes\":1e3}",
            "{\(base),\"durationMinutes\":99999999999999999999}", "{\(base),\"durationMinutes\":1000001}",
            "{\(base),\"summary\":\"a\\nb\"}", "{\(base),\"summary\":\"caf\u{e9}\"}", "{\(base),\"summary\":\"\"}",
            "{\(base),\"summary\":\"tab\there\"}", "{\(base),\"matter\":\"again\"}", "{\(base),\"nope\":1}",
            "{\(base),\"channel\":\"pigeon\"}", "{\(base),\"x-o\":{\"a\":1}}", "{\(base),\"x-z\":null}",
            "{\(base),\"tags\":[\"a\",\"\"]}", "{\(base),\"tags\":[\"a\", \"b\"]}", "{\(base),\"inReplyTo\":\"#x\"}",
            "{\(base),\"occurredAt\":\"2026-03-01T14:30:00\"}", "{\(base),\"followUpDue\":\"2026-02-30\"}",
            "{\(base),\"attachments\":[{\"name\":\"a\",\"sha256\":\"\(String(repeating: "0", count: 64))\"}]}",
            "{ \(base)}", "{\(base)} ", "{\(base),}", "{\(base),\"privileged\":tru}", "[\(base)]", "{}",
            #"{"matter":"M-1"}"#, "{\(base),\"author\":1}", "{\(base),\"privileged\":\"yes\"}",
        ]
        for line in others { assertAgree(line) }
        XCTAssertNil(quick("{\(base),\"matter\":\"again\"}"), "a repeated name goes to the strict path")
        XCTAssertNil(strict("{\(base),\"nope\":1}"))
        XCTAssertNil(quick("{\(base),\"nope\":1}"))
    }

    /// Members are scanned into a stack buffer of 32; a record with more goes through the heap, with the same answers.
    func testRecordsWithMoreMembersThanTheStackBufferAgree() {
        for extra in [26, 27, 28, 29, 200] {
            let fields = (0..<extra).map { "\"x-f\($0)\":\"v\($0)\"" }.joined(separator: ",")
            assertAgree("{\(base),\(fields)}", expectFast: true)
            assertAgree("{\(base),\(fields),\"x-f0\":\"again\"}", expectFast: false)
            assertAgree("{\(base),\(fields),\"nope\":1}", expectFast: false)
        }
    }
}
