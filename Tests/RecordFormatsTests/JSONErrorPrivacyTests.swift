import XCTest
import RecordFormats

/// Error messages go to logs and terminals; the input may hold privileged text.
/// They may name keys, never repeat string values.
final class JSONErrorPrivacyTests: XCTestCase {
    let secret = "SECRET-Privileged-Advice"

    func assertNoSecret(_ text: String, _ reason: JSONParseError.Reason, file: StaticString = #filePath,
                        line: UInt = #line) {
        do {
            _ = try JSONParser.parse(text)
            XCTFail("expected an error", file: file, line: line)
        } catch {
            XCTAssertEqual(error.reason, reason, file: file, line: line)
            XCTAssertFalse(error.description.contains("SECRET"), error.description, file: file, line: line)
            XCTAssertFalse(error.description.contains("Privileged"), error.description, file: file, line: line)
            XCTAssertFalse(String(reflecting: error).contains("SECRET"), file: file, line: line)
        }
    }

    func testDescriptionFormat() throws {
        let text = #"{"summary":"SECRET-Privileged-Advice","durationMinutes":2.5}"#
        do {
            _ = try JSONParser.parse(text)
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.description,
                           "field 'durationMinutes': floats are not allowed (integers only) at byte 56")
        }
        XCTAssertEqual(JSONParseError(reason: .emptyInput, offset: 0).description, "empty input at byte 0")
        XCTAssertEqual(JSONParseError(reason: .duplicateKey("matter"), offset: 9).description,
                       "duplicate key \"matter\" at byte 9")
        XCTAssertEqual(JSONParseError(reason: .unexpectedCharacter(0x27), offset: 1).description,
                       "unexpected byte 0x27 at byte 1")
        XCTAssertEqual(JSONParseError(reason: .unexpectedCharacter(0x7D), offset: 1).description,
                       "unexpected character '}' at byte 1")
    }

    func testNoStringValuesInAnyError() {
        let s = secret
        assertNoSecret(#"{"summary":"\#(s)","durationMinutes":2.5}"#, .floatNotAllowed)
        assertNoSecret(#"{"summary":"\#(s)","summary":"\#(s)"}"#, .duplicateKey("summary"))
        assertNoSecret(#"{"summary":"\#(s)\x"}"#, .invalidEscape)
        assertNoSecret(#"{"summary":"\#(s)\ud800"}"#, .loneSurrogate)
        assertNoSecret("{\"summary\":\"\(s)\n\"}", .controlCharacterInString)
        assertNoSecret(#"{"summary":"\#(s)"#, .unexpectedEnd)
        assertNoSecret(#"{"summary":"\#(s)"} "\#(s)""#, .trailingContent)
        assertNoSecret(#"{"summary":\#(s)}"#, .unexpectedCharacter(UInt8(ascii: "S")))
        assertNoSecret(#"{"summary":["\#(s)", \#(s)]}"#, .unexpectedCharacter(UInt8(ascii: "S")))
        assertNoSecret(#"{"summary":"\#(s)" "\#(s)"}"#, .unexpectedCharacter(UInt8(ascii: "\"")))
        assertNoSecret(#"{"summary":"\#(s)","n":99999999999999999999}"#, .integerOutOfRange)
        assertNoSecret(#"{"summary":"\#(s)","n":"# + String(repeating: "[", count: 40), .tooDeep)
        // Invalid UTF-8 right after privileged text.
        let bytes = Array(#"{"summary":"\#(s)"#.utf8) + [0xC0, 0x80, 0x22, 0x7D]
        XCTAssertThrowsError(try JSONParser.parse(bytes)) { e in
            XCTAssertFalse("\(e)".contains("SECRET"))
            XCTAssertEqual((e as? JSONParseError)?.reason, .invalidUTF8)
        }
    }

    func testCSVErrorsCarryNoCellContents() {
        let inputs = ["a,b\n\(secret)\"x,c\n", "a,\"\(secret)\"x\n", "a,\"\(secret)\n"]
        for text in inputs {
            XCTAssertThrowsError(try CSVReader.readAll(Array(text.utf8))) { e in
                XCTAssertFalse("\(e)".contains("SECRET"), "\(e)")
            }
        }
    }
}
