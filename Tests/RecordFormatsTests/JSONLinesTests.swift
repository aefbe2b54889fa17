import XCTest
import RecordFormats

final class JSONLinesTests: XCTestCase {
    func lines(_ text: String) -> [(Int, String)] {
        var out: [(Int, String)] = []
        Array(text.utf8).withUnsafeBytes { raw in
            JSONLines.forEachLine(in: raw) { n, bytes in out.append((n, String(decoding: bytes, as: UTF8.self))) }
        }
        return out
    }

    func testSplitting() {
        XCTAssertEqual(lines("{}\n[1]\r\n2").map(\.0), [1, 2, 3])
        XCTAssertEqual(lines("{}\n[1]\r\n2").map(\.1), ["{}", "[1]", "2"])
        XCTAssertEqual(lines("a\n\nb\n").map(\.1), ["a", "", "b"])
        XCTAssertEqual(lines("").count, 0)
        XCTAssertEqual(lines("\n").map(\.1), [""])
    }

    func testParsingLinesReportsLineAndPath() {
        let text = "{\"a\":1}\n{\"a\":2}\n{\"a\":{\"b\":1.5}}\n"
        var results: [Int: Result<JSONValue, JSONParseError>] = [:]
        Array(text.utf8).withUnsafeBytes { raw in
            JSONLines.forEachLine(in: raw) { n, bytes in
                results[n] = Result { () throws(JSONParseError) in try JSONParser.parse(bytes) }
            }
        }
        XCTAssertEqual(try results[2]?.get(), ["a": 2])
        guard case .failure(let e)? = results[3] else { return XCTFail("line 3 should fail") }
        XCTAssertEqual(e, JSONParseError(reason: .floatNotAllowed, offset: 10, path: "a.b"))
    }
}
