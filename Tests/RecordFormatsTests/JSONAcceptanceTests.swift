import XCTest
import RecordFormats

final class JSONAcceptanceTests: XCTestCase {
    func testScalars() throws {
        XCTAssertEqual(try JSONParser.parse("null"), .null)
        XCTAssertEqual(try JSONParser.parse("true"), .bool(true))
        XCTAssertEqual(try JSONParser.parse(" false "), .bool(false))
        XCTAssertEqual(try JSONParser.parse("0"), .integer(0))
        XCTAssertEqual(try JSONParser.parse("-0"), .integer(0))
        XCTAssertEqual(try JSONParser.parse("-17"), .integer(-17))
        XCTAssertEqual(try JSONParser.parse("1234567890"), .integer(1_234_567_890))
        XCTAssertEqual(try JSONParser.parse(#""""#), .string(""))
    }

    func testEscapesDecode() throws {
        let v = try JSONParser.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00\u0000""#)
        XCTAssertEqual(v, .string("\"\\/\u{8}\u{C}\n\r\tAé€😀\u{0}"))
        // Escapes mixed with long unescaped runs and raw UTF-8 (SWAR and slow paths).
        let long = String(repeating: "abcdefghé", count: 20)
        XCTAssertEqual(try JSONParser.parse("\"\(long)\\n\(long)\""), .string(long + "\n" + long))
    }

    func testRawUTF8AndSpecialCharacters() throws {
        let s = "é€😀\u{7F}\u{2028}\u{2029}\u{FEFF}\u{10FFFF}中文 Zustellungsurkunde"
        XCTAssertEqual(try JSONParser.parse("\"\(s)\""), .string(s))
    }

    func testContainersAndOrder() throws {
        let v = try JSONParser.parse(#" { "z" : [ 1 , [ ] , { } ] , "a" : { "n" : null } , "m" : -5 } "#)
        guard case .object(let o) = v else { return XCTFail("not an object") }
        XCTAssertEqual(o.keys, ["z", "a", "m"])  // input order preserved
        XCTAssertEqual(o.count, 3)
        XCTAssertEqual(o["z"], .array([.integer(1), .array([]), .object(JSONObject())]))
        XCTAssertEqual(o["a"]?.objectValue?["n"], .null)
        XCTAssertEqual(o["m"]?.integerValue, -5)
        XCTAssertNil(o["missing"])
        XCTAssertEqual(o.map(\.key), ["z", "a", "m"])
    }

    func testAllThreeEntryPointsAgree() throws {
        let text = #"{"matter":"M-1","durationMinutes":12,"tags":["a","b"]}"#
        let bytes = Array(text.utf8)
        let a = try JSONParser.parse(text)
        let b = try JSONParser.parse(bytes)
        let c = try bytes.withUnsafeBytes { try JSONParser.parse($0) }
        XCTAssertEqual(a, b)
        XCTAssertEqual(b, c)
    }

    func testSampleRecordsParse() throws {
        var rng = SplitMix64(seed: 1)
        for i in 0..<50 {
            let line = sampleRecordLine(i, rng: &rng)
            let v = try JSONParser.parse(line)
            XCTAssertEqual(v.objectValue?["sourceId"], .string("src-\(i)"))
            XCTAssertEqual(v.objectValue?["durationMinutes"], .integer(Int64(i % 120)))
        }
    }

    func testJSONObjectAPI() {
        var o: JSONObject = ["b": 1, "a": "x"]
        XCTAssertEqual(o.keys, ["b", "a"])
        XCTAssertEqual(o.updateValue(2, forKey: "b"), 1)
        XCTAssertNil(o.updateValue(true, forKey: "c"))
        XCTAssertEqual(o.keys, ["b", "a", "c"])
        XCTAssertEqual(o.removeValue(forKey: "a"), "x")
        XCTAssertEqual(o.keys, ["b", "c"])
        XCTAssertEqual(o.values, [2, true])
        // Equality is order-insensitive, like JSON objects.
        XCTAssertEqual(JSONObject([("a", 1), ("b", 2)]), JSONObject([("b", 2), ("a", 1)]))
        XCTAssertNotEqual(JSONObject([("a", 1), ("b", 2)]), JSONObject([("a", 1), ("b", 3)]))
        XCTAssertNotEqual(JSONObject([("a", 1)]), JSONObject([("a", 1), ("b", 2)]))
        // Large objects (indexed lookup) behave the same.
        var big = JSONObject((0..<100).map { ("key\($0)", JSONValue.integer(Int64($0))) })
        XCTAssertEqual(big["key77"], 77)
        XCTAssertEqual(big.removeValue(forKey: "key3"), 3)
        XCTAssertNil(big["key3"])
        XCTAssertEqual(big["key99"], 99)
        XCTAssertEqual(big.count, 99)
        big.updateValue("new", forKey: "key3")
        XCTAssertEqual(big["key3"], "new")
        XCTAssertEqual(big.keys.last, "key3")
        XCTAssertEqual(big, JSONObject(big.reversed().map { ($0.key, $0.value) }))
    }

    func testTypeNames() {
        XCTAssertEqual(JSONValue.null.typeName, "null")
        XCTAssertEqual(JSONValue.bool(true).typeName, "boolean")
        XCTAssertEqual(JSONValue.integer(1).typeName, "integer")
        XCTAssertEqual(JSONValue.string("s").typeName, "string")
        XCTAssertEqual(JSONValue.array([]).typeName, "array")
        XCTAssertEqual(JSONValue.object(JSONObject()).typeName, "object")
    }
}
