import XCTest
import RecordFormats

/// Every rejection rule, with the expected reason, path and (where it matters) offset.
final class JSONRejectionTests: XCTestCase {
    func testFloatsAreRejectedByPolicy() {
        assertParseError(#"{"a":{"b":[1,2.5]}}"#, .floatNotAllowed, path: "a.b[1]", offset: 13)
        assertParseError("1.0", .floatNotAllowed, offset: 0)
        assertParseError("1e3", .floatNotAllowed, offset: 0)
        assertParseError("1E+3", .floatNotAllowed, offset: 0)
        assertParseError("2e-7", .floatNotAllowed, offset: 0)
        assertParseError("-0.5", .floatNotAllowed, offset: 0)
        assertParseError("0.0", .floatNotAllowed, offset: 0)
        assertParseError("99999999999999999999999.5", .floatNotAllowed, offset: 0)
        assertParseError(#"{"durationMinutes":1.5}"#, .floatNotAllowed, path: "durationMinutes", offset: 19)
        assertParseError(#"{"attachments":[{"name":"a"},{"sha256":1e9}]}"#, .floatNotAllowed,
                         path: "attachments[1].sha256")
        // Malformed floats are syntax errors where they break.
        assertParseError("1.", .unexpectedEnd, offset: 2)
        assertParseError("1.x", .unexpectedCharacter(UInt8(ascii: "x")), offset: 2)
        assertParseError("1e", .unexpectedEnd, offset: 2)
        assertParseError("1e+", .unexpectedEnd, offset: 3)
        assertParseError("[1.e5]", .unexpectedCharacter(UInt8(ascii: "e")), path: "[0]", offset: 3)
        assertParseError(".5", .unexpectedCharacter(UInt8(ascii: ".")), offset: 0)
    }

    func testIntegersOutsideInt64() {
        assertParseError("9223372036854775808", .integerOutOfRange, offset: 0)
        assertParseError("-9223372036854775809", .integerOutOfRange, offset: 0)
        assertParseError("123456789012345678901234567890", .integerOutOfRange, offset: 0)
        assertParseError("18446744073709551616", .integerOutOfRange, offset: 0)  // 2^64 wraps UInt64
        assertParseError(#"{"corrects":[0,-99999999999999999999]}"#, .integerOutOfRange, path: "corrects[1]",
                         offset: 15)
        XCTAssertEqual(try JSONParser.parse("9223372036854775807"), .integer(.max))
        XCTAssertEqual(try JSONParser.parse("-9223372036854775808"), .integer(.min))
    }

    func testNumberSyntax() {
        assertParseError("01", .unexpectedCharacter(UInt8(ascii: "1")), offset: 1)
        assertParseError("-01", .unexpectedCharacter(UInt8(ascii: "1")), offset: 2)
        assertParseError("00", .unexpectedCharacter(UInt8(ascii: "0")), offset: 1)
        assertParseError(#"{"n":007}"#, .unexpectedCharacter(UInt8(ascii: "0")), path: "n", offset: 6)
        assertParseError("-", .unexpectedEnd, offset: 1)
        assertParseError("[-]", .unexpectedCharacter(UInt8(ascii: "]")), path: "[0]", offset: 2)
        assertParseError("- 1", .unexpectedCharacter(UInt8(ascii: " ")), offset: 1)
        assertParseError("+1", .unexpectedCharacter(UInt8(ascii: "+")), offset: 0)
        assertParseError("NaN", .unexpectedCharacter(UInt8(ascii: "N")), offset: 0)
        assertParseError("Infinity", .unexpectedCharacter(UInt8(ascii: "I")), offset: 0)
        assertParseError("-Infinity", .unexpectedCharacter(UInt8(ascii: "I")), offset: 1)
        assertParseError(#"{"x":NaN}"#, .unexpectedCharacter(UInt8(ascii: "N")), path: "x", offset: 5)
        assertParseError("0x10", .trailingContent, offset: 1)
    }

    func testCommentsTrailingCommasSingleQuotes() {
        assertParseError(#"{"a":1 /* c */}"#, .unexpectedCharacter(UInt8(ascii: "/")), offset: 7)
        assertParseError("// c\n1", .unexpectedCharacter(UInt8(ascii: "/")), offset: 0)
        assertParseError("1 // c", .trailingContent, offset: 2)
        assertParseError("# c\n1", .unexpectedCharacter(UInt8(ascii: "#")), offset: 0)
        assertParseError("[1,2,]", .unexpectedCharacter(UInt8(ascii: "]")), path: "[2]", offset: 5)
        assertParseError(#"{"a":1,}"#, .unexpectedCharacter(UInt8(ascii: "}")), offset: 7)
        assertParseError("[,1]", .unexpectedCharacter(UInt8(ascii: ",")), path: "[0]", offset: 1)
        assertParseError(#"{,"a":1}"#, .unexpectedCharacter(UInt8(ascii: ",")), offset: 1)
        assertParseError("{'a':1}", .unexpectedCharacter(UInt8(ascii: "'")), offset: 1)
        assertParseError(#"{"a":'x'}"#, .unexpectedCharacter(UInt8(ascii: "'")), path: "a", offset: 5)
    }

    func testStructuralErrors() {
        assertParseError("{", .unexpectedEnd, offset: 1)
        assertParseError("[1,", .unexpectedEnd, path: "[1]", offset: 3)
        assertParseError("[1", .unexpectedEnd, offset: 2)
        assertParseError(#"{"a""#, .unexpectedEnd, offset: 4)
        assertParseError(#"{"a":"#, .unexpectedEnd, path: "a", offset: 5)
        assertParseError(#"{"a" 1}"#, .unexpectedCharacter(UInt8(ascii: "1")), offset: 5)
        assertParseError(#"{1:2}"#, .unexpectedCharacter(UInt8(ascii: "1")), offset: 1)
        assertParseError("[1 2]", .unexpectedCharacter(UInt8(ascii: "2")), offset: 3)
        assertParseError(#"{"a":1 "b":2}"#, .unexpectedCharacter(UInt8(ascii: "\"")), offset: 7)
        assertParseError("]", .unexpectedCharacter(UInt8(ascii: "]")), offset: 0)
        assertParseError("tru", .unexpectedEnd, offset: 3)
        assertParseError("nul", .unexpectedEnd, offset: 3)
        assertParseError("nulL", .unexpectedCharacter(UInt8(ascii: "L")), offset: 3)
        assertParseError("True", .unexpectedCharacter(UInt8(ascii: "T")), offset: 0)
        assertParseError(#"{"privileged":fals}"#, .unexpectedCharacter(UInt8(ascii: "}")), path: "privileged",
                         offset: 18)
    }

    func testTrailingContentAndEmptyInput() {
        assertParseError("{} {}", .trailingContent, offset: 3)
        assertParseError("1 2", .trailingContent, offset: 2)
        assertParseError(#""a""b""#, .trailingContent, offset: 3)
        assertParseError("truex", .trailingContent, offset: 4)
        assertParseError("{}\n\u{0}", .trailingContent, offset: 3)
        assertParseError("", .emptyInput, offset: 0)
        assertParseError(" \n\t\r ", .emptyInput)
        XCTAssertThrowsError(try JSONParser.parse(UnsafeRawBufferPointer(start: nil, count: 0))) { error in
            XCTAssertEqual((error as? JSONParseError)?.reason, .emptyInput)
        }
    }

    func testOnlyFourWhitespaceCharacters() {
        assertParseError("\u{0C}1", .unexpectedCharacter(0x0C), offset: 0)  // form feed
        assertParseError("\u{0B}1", .unexpectedCharacter(0x0B), offset: 0)  // vertical tab
        assertParseError("\u{A0}1", .unexpectedCharacter(0xC2), offset: 0)  // no-break space
        assertParseError("[1,\u{2028}2]", .unexpectedCharacter(0xE2), path: "[1]", offset: 3)
        XCTAssertEqual(try JSONParser.parse(" \t\r\n[ \t\r\n1 \t\r\n] \t\r\n"), .array([1]))
    }

    func testUTF8ByteOrderMarkIsRejected() {
        assertParseError([0xEF, 0xBB, 0xBF] + Array("{}".utf8), .unexpectedCharacter(0xEF), offset: 0)
    }

    func testControlCharactersInStrings() {
        assertParseError("\"a\tb\"", .controlCharacterInString, offset: 2)
        assertParseError("\"a\u{0}\"", .controlCharacterInString, offset: 2)
        assertParseError("{\"summary\":\"line1\nline2\"}", .controlCharacterInString, path: "summary", offset: 17)
        assertParseError("{\"a\u{1F}\":1}", .controlCharacterInString, offset: 3)  // in a key: the object's path
        // After an escape (slow path) too.
        assertParseError("\"\\n\r\"", .controlCharacterInString, offset: 3)
        // DEL is not a control character in JSON's sense.
        XCTAssertEqual(try JSONParser.parse("\"\u{7F}\""), .string("\u{7F}"))
    }

    func testInvalidEscapes() {
        assertParseError(#""\x""#, .invalidEscape, offset: 1)
        assertParseError(#""ab\'""#, .invalidEscape, offset: 3)
        assertParseError(#""\U0041""#, .invalidEscape, offset: 1)
        assertParseError(#""\u12""#, .invalidEscape, offset: 1)
        assertParseError(#""\u00G0""#, .invalidEscape, offset: 1)
        assertParseError(#""\u-123""#, .invalidEscape, offset: 1)
        assertParseError(#""\0""#, .invalidEscape, offset: 1)
        assertParseError(#"{"k":["ok","\a"]}"#, .invalidEscape, path: "k[1]", offset: 12)
        assertParseError(#""\"#, .unexpectedEnd, offset: 2)
        assertParseError(#""\u00"#, .unexpectedEnd, offset: 5)
    }

    func testLoneSurrogates() {
        assertParseError(#""\ud800""#, .loneSurrogate, offset: 1)
        assertParseError(#""\uDBFF""#, .loneSurrogate, offset: 1)
        assertParseError(#""\udc00""#, .loneSurrogate, offset: 1)
        assertParseError(#""x\ud800\u0041""#, .loneSurrogate, offset: 2)
        assertParseError(#""\ud800x""#, .loneSurrogate, offset: 1)
        assertParseError(#""\ud800\n""#, .loneSurrogate, offset: 1)
        assertParseError(#""\ud800\ud800""#, .loneSurrogate, offset: 1)
        assertParseError(#""\udc00\ud800""#, .loneSurrogate, offset: 1)
        assertParseError(#"{"tags":["\uDE00"]}"#, .loneSurrogate, path: "tags[0]", offset: 10)
        // Pairs combine.
        XCTAssertEqual(try JSONParser.parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try JSONParser.parse(#""\uDBFF\uDFFF""#), .string("\u{10FFFF}"))
    }

    func testInvalidUTF8() {
        func inString(_ bytes: [UInt8]) -> [UInt8] { [0x22, 0x61] + bytes + [0x22] }
        let bad: [(String, [UInt8])] = [
            ("lone continuation", [0x80]),
            ("overlong 2-byte", [0xC0, 0x80]),
            ("overlong 2-byte C1", [0xC1, 0xBF]),
            ("overlong 3-byte", [0xE0, 0x80, 0x80]),
            ("overlong 3-byte max", [0xE0, 0x9F, 0xBF]),
            ("overlong 4-byte", [0xF0, 0x80, 0x80, 0x80]),
            ("overlong 4-byte max", [0xF0, 0x8F, 0xBF, 0xBF]),
            ("UTF-8 encoded high surrogate", [0xED, 0xA0, 0x80]),
            ("UTF-8 encoded low surrogate", [0xED, 0xBF, 0xBF]),
            ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
            ("F5 lead", [0xF5, 0x80, 0x80, 0x80]),
            ("FF", [0xFF]),
            ("FE", [0xFE]),
            ("truncated 2-byte", [0xC3]),
            ("truncated 3-byte", [0xE2, 0x82]),
            ("truncated 4-byte", [0xF0, 0x9F, 0x98]),
            ("bad continuation", [0xC3, 0x28]),
            ("bad second continuation", [0xE2, 0x82, 0x28]),
        ]
        for (name, seq) in bad {
            assertParseError(inString(seq), .invalidUTF8, offset: 2)
            // In a key, in a nested value, and after an escape (slow path).
            assertParseError([0x7B, 0x22] + seq + Array(#"":1}"#.utf8), .invalidUTF8, offset: 2)
            assertParseError(Array(#"{"summary":["#.utf8) + inString(seq) + Array("]}".utf8), .invalidUTF8,
                             path: "summary[0]", offset: 14)
            assertParseError(Array(#""\n"#.utf8) + seq + [0x22], .invalidUTF8, offset: 3)
            // Truncated at the very end of input.
            assertParseError([0x22] + seq, .invalidUTF8, offset: 1)
            _ = name
        }
        // Outside strings: malformed bytes are invalid UTF-8; well-formed non-ASCII is unexpected.
        assertParseError([0xFF], .invalidUTF8, offset: 0)
        assertParseError([0x31, 0x20, 0xC0, 0x80], .invalidUTF8, offset: 2)
        assertParseError([0xC3, 0xA9], .unexpectedCharacter(0xC3), offset: 0)
        // Valid multi-byte sequences at the edges of each range are accepted.
        let good: [[UInt8]] = [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
                               [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]]
        for seq in good {
            XCTAssertEqual(try JSONParser.parse(inString(seq)), .string("a" + String(decoding: seq, as: UTF8.self)))
        }
    }

    func testDuplicateKeysNameTheKey() {
        assertParseError(#"{"a":1,"b":2,"a":3}"#, .duplicateKey("a"), offset: 13)
        assertParseError(#"{"x":{"matter":1,"matter":2}}"#, .duplicateKey("matter"), path: "x", offset: 17)
        assertParseError(#"{"a":1,"\u0061":2}"#, .duplicateKey("a"), offset: 7)  // same key, escaped
        // Beyond the linear-search limit (dictionary path).
        let many = (0..<100).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        assertParseError("{" + many + #","k17":0}"#, .duplicateKey("k17"))
        XCTAssertEqual(try JSONParser.parse("{" + many + "}").objectValue?.count, 100)
        assertParseError("{" + many + #","k99":0}"#, .duplicateKey("k99"))
        let some = (0..<20).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        assertParseError("{" + some + #","k0":0}"#, .duplicateKey("k0"))
        // Canonically equivalent keys are one key to Swift's String, so they are duplicates too.
        assertParseError(#"{"\u00e9":1,"e\u0301":2}"#, .duplicateKey("\u{E9}"), offset: 12)
        assertParseError(#"{"K":1,"\u212A":2}"#, .duplicateKey("K"), offset: 7)  // KELVIN SIGN decomposes to "K"
        assertParseError(#"{"\u212A":1,"K":2}"#, .duplicateKey("K"), offset: 12)
        XCTAssertThrowsError(try JSONParser.parse(#"{"sourceId":"s","sourceId":"t"}"#)) { e in
            XCTAssertTrue("\(e)".contains("'sourceId'") || "\(e)".contains("\"sourceId\""), "\(e)")
        }
    }

    func testDepthLimit() {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        XCTAssertNoThrow(try JSONParser.parse(ok))
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        assertParseError(deep, .tooDeep, path: String(repeating: "[0]", count: 32), offset: 32)
        let deepObject = String(repeating: #"{"a":"#, count: 33) + "1" + String(repeating: "}", count: 33)
        assertParseError(deepObject, .tooDeep, path: Array(repeating: "a", count: 32).joined(separator: "."),
                         offset: 160)
        assertParseError("[]", .tooDeep, offset: 0, maxDepth: 0)
        XCTAssertEqual(try JSONParser.parse("7", maxDepth: 0), .integer(7))
        assertParseError(#"{"a":[{"b":[]}]}"#, .tooDeep, path: "a[0].b", offset: 11, maxDepth: 3)
        // A hostile 100k-deep document is rejected quickly, without exhausting the stack.
        let hostile = String(repeating: "[", count: 100_000)
        assertParseError(hostile, .tooDeep, path: String(repeating: "[0]", count: 32), offset: 32)
    }

    func testPathsForAwkwardKeys() {
        assertParseError(#"{"x-firm.code":1.5}"#, .floatNotAllowed, path: #"["x-firm.code"]"#)
        assertParseError(#"{"":1.5}"#, .floatNotAllowed, path: #"[""]"#)
        assertParseError(#"{"a":{"b c":[1.5]}}"#, .floatNotAllowed, path: #"a["b c"][0]"#)
        assertParseError(#"{"a\n":1.5}"#, .floatNotAllowed, path: #"["a\n"]"#)
    }

    func testParseOffsetsAreRelativeToTheBuffer() throws {
        let bytes = Array(#"XXXX{"a":1.5}"#.utf8)
        try bytes.withUnsafeBytes { raw in
            XCTAssertThrowsError(try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[4...]))) { e in
                XCTAssertEqual((e as? JSONParseError)?.offset, 5)
            }
        }
    }

    func testParseObjectRequiresAnObject() throws {
        let bytes = Array("  [1]".utf8)
        try bytes.withUnsafeBytes { raw in
            XCTAssertThrowsError(try JSONParser.parseObject(raw)) { e in
                XCTAssertEqual(e as? JSONParseError,
                               JSONParseError(reason: .unexpectedCharacter(UInt8(ascii: "[")), offset: 2))
            }
            XCTAssertEqual(try? JSONParser.parseObject(UnsafeRawBufferPointer(rebasing: raw[0..<0])), nil)
        }
        Array(#"{"a":1}"#.utf8).withUnsafeBytes { raw in
            XCTAssertEqual(try? JSONParser.parseObject(raw), ["a": 1])
        }
    }
}
