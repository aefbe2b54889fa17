import XCTest
import RecordFormats

final class JSONWriterTests: XCTestCase {
    func canonical(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do { return JSONWriter.string(try JSONParser.parse(text)) } catch {
            XCTFail("\(error)", file: file, line: line)
            return ""
        }
    }

    func testSortedKeysNoWhitespace() {
        XCTAssertEqual(canonical(#" { "b" : 1 , "a" : [ true , false , null ] , "A" : "x" } "#),
                       #"{"A":"x","a":[true,false,null],"b":1}"#)
        XCTAssertEqual(canonical(#"{"z":{"y":1,"x":{"b":[],"a":{}}}}"#), #"{"z":{"x":{"a":{},"b":[]},"y":1}}"#)
        XCTAssertEqual(canonical(#"{"ab":1,"a":2,"":3,"b":4}"#), #"{"":3,"a":2,"ab":1,"b":4}"#)
    }

    func testKeysSortByUTF8BytesNotUTF16() {
        // UTF-16 order would put U+1F600 (D83D...) before U+FFFF; UTF-8 puts F0... after EF....
        let o = JSONObject([("😀", 1), ("\u{FFFF}", 2), ("é", 3), ("z", 4), ("a", 5), ("Z", 6)])
        XCTAssertEqual(JSONWriter.string(.object(o)), "{\"Z\":6,\"a\":5,\"z\":4,\"é\":3,\"\u{FFFF}\":2,\"😀\":1}")
        XCTAssertTrue(JSONWriter.keyPrecedes("a", "ab"))
        XCTAssertFalse(JSONWriter.keyPrecedes("ab", "ab"))
        XCTAssertTrue(JSONWriter.keyPrecedes("\u{FFFF}", "😀"))
    }

    func testIntegers() {
        XCTAssertEqual(canonical("-0"), "0")
        XCTAssertEqual(JSONWriter.string(.integer(.min)), "-9223372036854775808")
        XCTAssertEqual(JSONWriter.string(.integer(.max)), "9223372036854775807")
        XCTAssertEqual(JSONWriter.string(.integer(-1)), "-1")
        XCTAssertEqual(JSONWriter.string(.integer(1_000_000)), "1000000")
    }

    func testOnlyRequiredEscapes() {
        let s = "\u{0}\u{1}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1B}\u{1F} \"\\/\u{7F}\u{80}\u{2028}\u{2029}é😀"
        var out: [UInt8] = []
        JSONWriter.writeString(s, into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       "\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001b\\u001f "
                           + "\\\"\\\\/\u{7F}\u{80}\u{2028}\u{2029}é😀\"")
        // Input escapes of characters that need none come out raw.
        XCTAssertEqual(canonical(#""\u0041\/\u00e9\u2028""#), "\"A/é\u{2028}\"")
    }

    func testWriteAppendsToExistingOutput() {
        var out = Array("prefix:".utf8)
        JSONWriter.write(["k": [1, "v"]], into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), #"prefix:{"k":[1,"v"]}"#)
        XCTAssertEqual(JSONWriter.serialize(.null), Array("null".utf8))
    }

    func testCanonicalFormIsAFixedPoint() throws {
        let text = #"{ "b": [1, {"d": "\u00e9", "c": -0}], "a": "\n" }"#
        let once = JSONWriter.serialize(try JSONParser.parse(text))
        let twice = JSONWriter.serialize(try JSONParser.parse(once))
        XCTAssertEqual(once, twice)
        XCTAssertEqual(String(decoding: once, as: UTF8.self), "{\"a\":\"\\n\",\"b\":[1,{\"c\":0,\"d\":\"é\"}]}")
    }

    func testRoundTripCorpus() throws {
        let corpus: [JSONValue] = [
            .null, true, false, 0, .integer(.min), .integer(.max), -1, "", "plain",
            "quote \" backslash \\ slash / tab \t newline \n cr \r nul \u{0} bell \u{7} del \u{7F}",
            "unicode é ß 中文 😀 \u{10FFFF} \u{2028}\u{2029} \u{FEFF} e\u{301}",
            [], [[]], [[[1, [2, [3]]]]], [:], ["": ""],
            ["nested": ["deeper": ["deepest": [1, 2, ["k": "v"]]]]],
            ["matter": "M-1", "durationMinutes": 45, "privileged": true,
             "attachments": [["name": "a.pdf", "sha256": "ab"]],
             "x-firm": .null, "tags": ["a", "b"]],
            .object(JSONObject((0..<50).map { ("k\($0)", JSONValue.integer(Int64($0) * 1_000_000_007)) })),
        ]
        for v in corpus {
            let bytes = JSONWriter.serialize(v)
            XCTAssertEqual(try JSONParser.parse(bytes), v, String(decoding: bytes, as: UTF8.self))
            XCTAssertEqual(try JSONParser.parse(JSONWriter.string(v)), v)
        }
    }
}
