@testable import Ledger
import LedgerFormat
import RecordFormats
import XCTest

final class SchemaTests: XCTestCase {
    static let secret = "SECRET-Zq8v-privileged-text"

    /// Validates `value` and returns the RecordError, failing if it validated.
    func schemaError(_ value: JSONValue, file: StaticString = #filePath, line: UInt = #line) -> RecordError? {
        do {
            _ = try RecordSchema.validate(value)
            XCTFail("validated, expected a RecordError", file: file, line: line)
            return nil
        } catch {
            XCTAssertFalse(error.description.contains(Self.secret), "description leaks a value: \(error)",
                           file: file, line: line)
            return error
        }
    }

    /// Validates raw bytes through RecordInput and returns the single RecordError.
    func inputError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> RecordError? {
        guard let errors = invalidRecords(try RecordInput.validate(bytes), file: file, line: line) else { return nil }
        XCTAssertEqual(errors.count, 1, file: file, line: line)
        for e in errors {
            XCTAssertFalse(e.description.contains(Self.secret), "description leaks a value: \(e)",
                           file: file, line: line)
        }
        XCTAssertFalse(LedgerError.invalidRecords(errors).description.contains(Self.secret), file: file, line: line)
        return errors.first
    }

    /// A record with a secret in a neighbouring field, plus the given overrides.
    func withSecret(_ overrides: [String: JSONValue?]) -> JSONValue {
        var all: [String: JSONValue?] = ["summary": .string(Self.secret), "client": .string(Self.secret)]
        for (k, v) in overrides { all[k] = v }
        return recordJSON(all)
    }

    func testMinimalRecordValidatesWithSortedFields() throws {
        let record = try RecordSchema.validate(withSecret(["x-b": 1, "tags": ["b", "a"], "Zz": nil]))
        let names = record.fields.map(\.name)
        XCTAssertEqual(names,
                       ["author", "channel", "client", "direction", "matter", "occurredAt", "summary", "tags", "x-b"])
        XCTAssertEqual(names, names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        XCTAssertEqual(record.matter, "M-1")
        XCTAssertEqual(record.occurredAt, Timestamp.parseRFC3339("2026-03-01T13:30:00Z"))
        XCTAssertNil(record.sourceId)
        XCTAssertNil(record.sourceKey)
        XCTAssertEqual(record.fields.first { $0.name == "tags" }?.value, Array(#"["b","a"]"#.utf8), "list order kept")
    }

    func testFieldsAreSortedByByteOrder() throws {
        let record = try RecordInput.validate(Array((#"{"x-b":1,"occurredAt":"2026-03-01T14:30:00Z","matter":"m","#
            + #""direction":"inbound","channel":"sms","author":"a","x-B":2,"corrects":0}"#).utf8))
        XCTAssertEqual(record.fields.map(\.name),
                       ["author", "channel", "corrects", "direction", "matter", "occurredAt", "x-B", "x-b"])
        XCTAssertEqual(record.corrects, 0)
    }

    func testValuesAreCanonicalJSON() throws {
        let record = try RecordInput.validate(Array((#"{ "matter" : "M\u002d1", "author":"a", "channel":"email", "#
            + #""direction":"inbound", "occurredAt":"2026-03-01T14:30:00Z", "#
            + #""x-obj": {"b": 1, "a": [true, null]} }"#).utf8))
        XCTAssertEqual(record.fields.first { $0.name == "matter" }?.value, Array(#""M-1""#.utf8))
        XCTAssertEqual(record.fields.first { $0.name == "x-obj" }?.value, Array(#"{"a":[true,null],"b":1}"#.utf8))
        XCTAssertEqual(record.matter, "M-1")
    }

    func testTheFastTypeLookupAgreesWithTheSchemaTable() {
        for (name, type) in RecordSchema.types {
            XCTAssertEqual(RecordSchema.type(of: name).map { String(describing: $0) }, String(describing: type), name)
        }
        XCTAssertEqual(RecordSchema.type(of: "x-billing").map { String(describing: $0) }, "extensionValue")
        XCTAssertNil(RecordSchema.type(of: "x-"))
        XCTAssertNil(RecordSchema.type(of: "Matter"))
        XCTAssertNil(RecordSchema.type(of: "matterX"))
        XCTAssertNil(RecordSchema.type(of: String(repeating: "a", count: 40)))
        for name in RecordSchema.types.keys {
            let known = Array(name.utf8).withUnsafeBytes { RecordSchema.knownField(utf8: $0) }
            XCTAssertEqual(known?.required, RecordSchema.required.contains(name), name)
        }
        // Names one byte away from a schema name (changed, cut or added) are found only if they are schema names.
        for name in RecordSchema.types.keys {
            let bytes = Array(name.utf8)
            var near = [Array(bytes.dropLast()), Array(bytes.dropFirst()), bytes + [UInt8(ascii: "s")]]
            for i in bytes.indices { var changed = bytes; changed[i] ^= 0x20; near.append(changed) }
            for other in near {
                let found = other.withUnsafeBytes { RecordSchema.knownField(utf8: $0) } != nil
                XCTAssertEqual(found, RecordSchema.types[String(decoding: other, as: UTF8.self)] != nil,
                               String(decoding: other, as: UTF8.self))
            }
        }
    }

    func testUnknownFieldIsNamed() {
        XCTAssertEqual(schemaError(withSecret(["subjct": "hello"]))?.field, "subjct")
        XCTAssertEqual(schemaError(withSecret(["x-": 1]))?.field, "x-")
        XCTAssertEqual(schemaError(withSecret(["x-a_b": 1]))?.field, "x-a_b")
        XCTAssertEqual(schemaError(withSecret(["X-upper": 1]))?.field, "X-upper")
    }

    func testEachMissingRequiredFieldIsNamed() {
        for name in ["matter", "author", "channel", "direction", "occurredAt"] {
            let error = schemaError(withSecret([name: nil]))
            XCTAssertEqual(error?.field, name)
            XCTAssertEqual(error?.reason, "required field is missing")
        }
    }

    func testBadEnumsAreNamed() {
        for name in ["channel", "direction", "kind", "urgency", "outcome"] {
            // The bad value itself is the secret: it must not be echoed.
            let error = schemaError(withSecret([name: .string(Self.secret)]))
            XCTAssertEqual(error?.field, name)
            XCTAssertEqual(schemaError(withSecret([name: 3]))?.field, name)
            XCTAssertEqual(schemaError(withSecret([name: "Email"]))?.field, name, "enums are case-sensitive")
        }
        XCTAssertNoThrow(try RecordSchema.validate(recordJSON(["kind": "court-ruling", "urgency": "urgent",
            "outcome": "left-message", "channel": "secure-message"])))
    }

    func testTimestampWithoutOffsetIsRefused() {
        let error = schemaError(withSecret(["occurredAt": "2026-03-01T14:30:00"]))
        XCTAssertEqual(error?.field, "occurredAt")
        XCTAssertTrue(error?.reason.contains("offset") ?? false)
        XCTAssertEqual(schemaError(withSecret(["occurredAt": .string(Self.secret)]))?.field, "occurredAt")
        XCTAssertEqual(schemaError(withSecret(["followUpDue": "2026-02-30"]))?.field, "followUpDue")
        XCTAssertEqual(schemaError(withSecret(["followUpDue": "2026-03-01T00:00:00Z"]))?.field, "followUpDue")
        XCTAssertNoThrow(try RecordSchema.validate(recordJSON(["followUpDue": "2026-03-08"])))
    }

    func testFloatIsRefusedNamingTheField() {
        let text = #"{"matter":"M-1","author":"a","channel":"phone","direction":"outbound","#
            + #""occurredAt":"2026-03-01T14:30:00Z","summary":"\#(Self.secret)","durationMinutes": 1.5}"#
        let error = inputError(Array(text.utf8))
        XCTAssertEqual(error?.field, "durationMinutes")
        XCTAssertTrue(error?.reason.contains("float") ?? false, error?.reason ?? "")
        XCTAssertNil(error?.line, "a single record has no line")
        // Exponent forms are floats too, also inside extensions.
        let exponent = #"{"matter":"M-1","author":"a","channel":"phone","direction":"outbound","#
            + #""occurredAt":"2026-03-01T14:30:00Z","x-n":{"v":[1e3]}}"#
        let e2 = inputError(Array(exponent.utf8))
        XCTAssertTrue(e2?.reason.contains("float") ?? false)
        XCTAssertEqual(e2?.field, "x-n.v[0]")
    }

    func testInvalidUTF8IsRefused() {
        var bytes = Array((#"{"matter":"M-1","author":"a","channel":"email","direction":"inbound","#
            + #""occurredAt":"2026-03-01T14:30:00Z","summary":"\#(Self.secret) "#).utf8)
        bytes += [0xc3, 0x28]  // a broken two-byte sequence
        bytes += Array(#""}"#.utf8)
        let error = inputError(bytes)
        XCTAssertEqual(error?.field, "summary")
        XCTAssertTrue(error?.reason.contains("UTF-8") ?? false)
    }

    func testRecordOverOneMiBIsRefused() {
        let big = String(repeating: "a", count: RecordSchema.maxRecordBytes)
        let text = #"{"matter":"M-1","author":"a","channel":"email","direction":"inbound","#
            + #""occurredAt":"2026-03-01T14:30:00Z","x-big":"\#(big)"}"#
        let error = inputError(Array(text.utf8))
        XCTAssertTrue(error?.reason.contains("1 MiB") ?? false)
        XCTAssertFalse(error?.description.contains("aaaaaaaa") ?? true)
        // A single field over its own limit names the field.
        let summary = String(repeating: "b", count: 512 * 1024 + 1)
        XCTAssertEqual(schemaError(recordJSON(["summary": .string(summary)]))?.field, "summary")
        XCTAssertEqual(schemaError(recordJSON(["matter": .string(String(repeating: "m", count: 257))]))?.field,
                       "matter")
    }

    func testWrongTypesAreNamed() {
        let cases: [(String, JSONValue)] = [
            ("matter", 12), ("author", .null), ("client", ["x"]), ("summary", true), ("subject", ["k": "v"]),
            ("durationMinutes", "15"), ("corrects", "3"), ("privileged", "yes"), ("privileged", 1),
            ("recipients", "a@example.com"), ("tags", [1]), ("attachments", ["name": "x"]), ("inReplyTo", 5),
            ("followUpDue", 20260301), ("occurredAt", 1_772_375_400),
        ]
        for (name, value) in cases {
            let error = schemaError(withSecret([name: value]))
            XCTAssertEqual(error?.field?.hasPrefix(name), true, "\(name): \(String(describing: error))")
        }
        XCTAssertEqual(schemaError(withSecret(["tags": ["ok", 2]]))?.field, "tags[1]")
        XCTAssertEqual(schemaError(.array([]))?.field, nil)
        XCTAssertEqual(schemaError(withSecret(["author": ""]))?.field, "author")
        XCTAssertEqual(schemaError(withSecret(["author": "two\nlines"]))?.field, "author")
        XCTAssertNoThrow(try RecordSchema.validate(recordJSON(["summary": "two\nlines\tand tabs"])))
    }

    func testIntegerRanges() {
        XCTAssertEqual(schemaError(withSecret(["durationMinutes": -1]))?.field, "durationMinutes")
        XCTAssertEqual(schemaError(withSecret(["durationMinutes": 1_000_001]))?.field, "durationMinutes")
        XCTAssertEqual(schemaError(withSecret(["corrects": -1]))?.field, "corrects")
        XCTAssertNoThrow(try RecordSchema.validate(recordJSON(["durationMinutes": 0, "corrects": .integer(Int64.max)])))
    }

    func testBadAttachments() {
        let digest = String(repeating: "ab", count: 32)
        XCTAssertNoThrow(try RecordSchema.validate(
            recordJSON(["attachments": [["name": "a.pdf", "sha256": .string(digest)]]])))
        let cases: [(JSONValue, String)] = [
            ([["name": "a.pdf"]], "attachments[0].sha256"),
            ([["name": "a.pdf", "sha256": .string(digest)],
              ["name": .string(Self.secret), "sha256": .string(String(repeating: "zz", count: 32))]],
             "attachments[1].sha256"),
            ([["name": "a.pdf", "sha256": .string(digest.uppercased())]], "attachments[0].sha256"),
            ([["name": "a.pdf", "sha256": .string(String(digest.dropLast()))]], "attachments[0].sha256"),
            ([["name": "a.pdf", "sha256": .string(digest), "size": 3]], "attachments[0].size"),
            ([["sha256": .string(digest)]], "attachments[0].name"),
            ([["name": "", "sha256": .string(digest)]], "attachments[0].name"),
            (["a.pdf"], "attachments[0]"),
            (["name": "a.pdf"], "attachments"),
        ]
        for (value, field) in cases {
            XCTAssertEqual(schemaError(withSecret(["attachments": value]))?.field, field)
        }
    }

    func testInReplyToReferences() {
        XCTAssertNoThrow(try RecordSchema.validate(recordJSON(["inReplyTo": "#12"])))
        XCTAssertNoThrow(try RecordSchema.validate(recordJSON(["inReplyTo": "pms-comm-7"])))
        for bad in ["#", "#-1", "#1a", "#١٢", "# 1", "#99999999999999999999999"] {
            let error = schemaError(withSecret(["inReplyTo": .string(bad)]))
            XCTAssertEqual(error?.field, "inReplyTo", bad)
        }
    }

    func testExtensionFieldsAcceptAnyJSON() throws {
        let values: [JSONValue] = [.null, true, 0, -5, "text", [], [1, "two", ["three": .null]],
                                   ["nested": ["deeper": [1, 2]]]]
        for value in values {
            let record = try RecordSchema.validate(recordJSON(["x-firm-code": value]))
            XCTAssertEqual(record.fields.first { $0.name == "x-firm-code" }?.value, JSONWriter.serialize(value))
        }
        XCTAssertNoThrow(try RecordSchema.validate(recordJSON(["x-A9-b": 1])))
        XCTAssertEqual(schemaError(recordJSON([("x-" + String(repeating: "a", count: 63)): 1]))?.field?.count, 65)
    }

    func testSourceKey() throws {
        let record = try validRecord(["sourceSystem": "pms", "sourceId": "c-1"])
        XCTAssertEqual(record.sourceKey, "pms\u{0}c-1")
        XCTAssertEqual(try validRecord(["sourceId": "c-1"]).sourceKey, "\u{0}c-1")
        XCTAssertNil(try validRecord(["sourceSystem": "pms"]).sourceKey)
    }

    func testNonObjectAndSyntaxErrorsDoNotEchoContent() {
        XCTAssertNil(inputError(Array(#"["\#(Self.secret)"]"#.utf8))?.field)
        XCTAssertEqual(inputError(Array(#"{"summary":"\#(Self.secret)","summary":"x"}"#.utf8))?.reason
                           .contains("duplicate"), true)
        XCTAssertNotNil(inputError(Array(#"{"summary":"\#(Self.secret)\q"}"#.utf8)))
        XCTAssertNotNil(inputError(Array(#"{"summary":"\#(Self.secret)"#.utf8)))
        XCTAssertNotNil(inputError([]))
    }
}
