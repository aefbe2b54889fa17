@testable import Ledger
import XCTest

/// `JSONLines.split` cuts a large input in pieces on every core; its lines and line numbers must be exactly those
/// of reading the input from start to end.
final class JSONLinesSplitTests: XCTestCase {
    /// The reference: every line (ended by LF or the end of input, CR before LF dropped), numbered from 1,
    /// blank lines (spaces, tabs, CR only) skipped.
    private func reference(_ bytes: [UInt8]) -> [(line: Int, text: [UInt8])] {
        var out = [(line: Int, text: [UInt8])]()
        var line = 1, start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0a) ?? bytes.count
            var text = Array(bytes[start..<end])
            if text.last == 0x0d { text.removeLast() }
            if !text.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { out.append((line, text)) }
            start = end + 1
            line += 1
        }
        return out
    }

    func testAnInputOfManyPiecesSplitsAsReadFromStartToEnd() {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        var n = 0
        while bytes.count < 5 << 20 {  // over four pieces of 1 MiB
            switch Int.random(in: 0..<10, using: &generator) {
            case 0: bytes += Array("\n".utf8)                                   // blank line
            case 1: bytes += Array(" \t\r\n".utf8)                              // blank with CR
            case 2: bytes += Array("{\"n\":\(n)}\r\n".utf8)                     // CRLF
            case 3: bytes += Array(repeating: UInt8(ascii: "x"), count: 300_000) + [0x0a]  // long line
            default: bytes += Array("{\"n\":\(n),\"pad\":\"\(String(repeating: "p", count: n % 900))\"}\n".utf8)
            }
            n += 1
        }
        bytes += Array("{\"last\":true}".utf8)  // no newline at the end
        let expected = reference(bytes)
        let got = bytes.withUnsafeBytes { raw in
            JSONLines.split(raw).map { (line: $0.line, text: Array(raw[$0.range])) }
        }
        XCTAssertEqual(got.count, expected.count)
        for (g, e) in zip(got, expected) where g.line != e.line || g.text != e.text {
            return XCTFail("line \(g.line) (expected \(e.line)) differs")
        }
    }

    func testSmallInputsAndEdges() {
        for text in ["", "\n", "{}", "{}\n\n{}", "\r\n{}\r\n", "  \n\t\n{\"a\":1}"] {
            let bytes = Array(text.utf8)
            let got = bytes.withUnsafeBytes { raw in JSONLines.split(raw).map { ($0.line, Array(raw[$0.range])) } }
            let expected = reference(bytes)
            XCTAssertEqual(got.map(\.0), expected.map(\.line), text.debugDescription)
            XCTAssertEqual(got.map(\.1), expected.map(\.text), text.debugDescription)
        }
    }
}
