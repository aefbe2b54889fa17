import RecordFormats
import XCTest

/// `CSVWriter`: OWASP's formula-injection rule (a leading = + - @ tab or CR gets a leading single quote), then
/// RFC 4180 quoting; and every cell it writes reads back through `CSVReader` as the guarded value.
final class CSVWriterTests: XCTestCase {
    func testEachFormulaTriggerIsGuarded() {
        XCTAssertEqual(CSVWriter.cell("=1+2"), "'=1+2")
        XCTAssertEqual(CSVWriter.cell("+1"), "'+1")
        XCTAssertEqual(CSVWriter.cell("-1"), "'-1")
        XCTAssertEqual(CSVWriter.cell("@SUM(A1)"), "'@SUM(A1)")
        XCTAssertEqual(CSVWriter.cell("\tx"), "'\tx")
        // A CR both triggers the guard and makes the cell need quotes.
        XCTAssertEqual(CSVWriter.cell("\rx"), "\"'\rx\"")
        XCTAssertEqual(CSVWriter.formulaTriggers, ["=", "+", "-", "@", "\t", "\r"])
    }

    func testOnlyTheFirstCharacterCounts() {
        XCTAssertEqual(CSVWriter.cell("a=b"), "a=b")
        XCTAssertEqual(CSVWriter.cell(" =1"), " =1")
        XCTAssertEqual(CSVWriter.cell("M-2026-001"), "M-2026-001")
        XCTAssertEqual(CSVWriter.cell("x@example.com"), "x@example.com")
        XCTAssertEqual(CSVWriter.cell("\n=1"), "\"\n=1\"")  // LF is not a trigger (but is quoted)
    }

    func testGuardIsIdempotent() {
        for value in ["=HYPERLINK(\"http://x\")", "+1", "-5", "@x", "\tx", "\rx"] {
            let guarded = CSVWriter.formulaSafe(value)
            XCTAssertEqual(guarded, "'" + value)
            XCTAssertEqual(CSVWriter.formulaSafe(guarded), guarded, value)
        }
        XCTAssertEqual(CSVWriter.cell("'=1"), "'=1")
    }

    func testQuotingOfCommaQuoteCRAndLF() {
        XCTAssertEqual(CSVWriter.quoted("a,b"), "\"a,b\"")
        XCTAssertEqual(CSVWriter.quoted("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSVWriter.quoted("a\r\nb"), "\"a\r\nb\"")
        XCTAssertEqual(CSVWriter.quoted("a\nb"), "\"a\nb\"")
        XCTAssertEqual(CSVWriter.quoted("a\rb"), "\"a\rb\"")
        XCTAssertEqual(CSVWriter.cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"")
    }

    func testPlainValuesAreUnchanged() {
        for value in ["", "plain", "42", "2026-01-05T10:00:00.000000Z", "naïve café", "a b", "'quoted already"] {
            XCTAssertEqual(CSVWriter.cell(value), value)
        }
    }

    func testNegativeIntegersAreNowGuarded() {
        XCTAssertEqual(CSVWriter.cell("-5"), "'-5")
        XCTAssertEqual(CSVWriter.cell(String(Int64.min)), "'-9223372036854775808")
        XCTAssertEqual(CSVWriter.cell("5"), "5")
    }

    func testRowJoinsCellsAndEndsInCRLF() {
        XCTAssertEqual(CSVWriter.row(["a", "=b", "c,d", ""]), "a,'=b,\"c,d\",\r\n")
        XCTAssertEqual(CSVWriter.row([]), "\r\n")
    }

    func testRowsReadBackAsTheGuardedValues() throws {
        let values = ["=1+2", "-5", "a,b", "say \"hi\"", "line\r\nbreak", "\rx", "plain", "", "@x"]
        let rows = try CSVReader.readAll(Array((CSVWriter.row(values) + CSVWriter.row(["end"])).utf8))
        XCTAssertEqual(rows.map(\.fields), [values.map(CSVWriter.formulaSafe), ["end"]])
    }
}
