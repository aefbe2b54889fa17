import XCTest
import RecordFormats

final class CSVReaderTests: XCTestCase {
    func rows(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [CSVRow] {
        rows(Array(text.utf8), file: file, line: line)
    }

    func rows(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [CSVRow] {
        do { return try CSVReader.readAll(bytes) } catch {
            XCTFail("\(error)", file: file, line: line)
            return []
        }
    }

    func error(_ text: String) -> CSVParseError? { error(Array(text.utf8)) }

    func error(_ bytes: [UInt8]) -> CSVParseError? {
        do {
            _ = try CSVReader.readAll(bytes)
            return nil
        } catch { return error }
    }

    func testSimpleRecordsLFAndCRLF() {
        let expected = [CSVRow(line: 1, fields: ["seq", "matter", "author"]),
                        CSVRow(line: 2, fields: ["1", "M-1", "ann"])]
        XCTAssertEqual(rows("seq,matter,author\n1,M-1,ann\n"), expected)
        XCTAssertEqual(rows("seq,matter,author\r\n1,M-1,ann\r\n"), expected)
        XCTAssertEqual(rows("seq,matter,author\r\n1,M-1,ann"), expected)  // no final line break
        XCTAssertEqual(rows("seq,matter,author\n1,M-1,ann\r\n"), expected)  // mixed
    }

    func testEmptyFieldsAndLines() {
        XCTAssertEqual(rows(",a,,\n"), [CSVRow(line: 1, fields: ["", "a", "", ""])])
        XCTAssertEqual(rows("a,"), [CSVRow(line: 1, fields: ["a", ""])])
        XCTAssertEqual(rows(""), [])
        XCTAssertEqual(rows("\n"), [CSVRow(line: 1, fields: [""])])  // one empty record, then the empty trailing line
        XCTAssertEqual(rows("a\n\nb\n"),
                       [CSVRow(line: 1, fields: ["a"]), CSVRow(line: 2, fields: [""]), CSVRow(line: 3, fields: ["b"])])
        XCTAssertEqual(rows(#""""#), [CSVRow(line: 1, fields: [""])])
        XCTAssertEqual(rows(" a , b "), [CSVRow(line: 1, fields: [" a ", " b "])])  // spaces are data
    }

    func testQuotedCommasAndEscapedQuotes() {
        XCTAssertEqual(rows(#"a,"b,c",d"#), [CSVRow(line: 1, fields: ["a", "b,c", "d"])])
        let text = "\"say \"\"hi\"\"\"," + "\"\"\"\"," + "\"\"\"\"\"\""  // "say ""hi""" , """" , """"""
        XCTAssertEqual(rows(text + "\n"), [CSVRow(line: 1, fields: ["say \"hi\"", "\"", "\"\""])])
        XCTAssertEqual(rows(#""","x""#), [CSVRow(line: 1, fields: ["", "x"])])
    }

    func testEmbeddedNewlinesKeepLineNumbersRight() {
        let text = "h1,h2\n\"multi\nline\r\nnote\",x\nnext,row\n\"a\"\"\n\",b\nlast,1\n"
        XCTAssertEqual(rows(text), [
            CSVRow(line: 1, fields: ["h1", "h2"]),
            CSVRow(line: 2, fields: ["multi\nline\r\nnote", "x"]),
            CSVRow(line: 5, fields: ["next", "row"]),
            CSVRow(line: 6, fields: ["a\"\n", "b"]),
            CSVRow(line: 8, fields: ["last", "1"]),
        ])
        // And errors after a multi-line record report the physical line.
        XCTAssertEqual(error("h\n\"a\nb\nc\",x\nbad\"cell\n")?.line, 5)
    }

    func testByteOrderMarkIsSkippedOnlyAtStart() {
        XCTAssertEqual(rows([0xEF, 0xBB, 0xBF] + Array("matter,author\nM,a\n".utf8)),
                       [CSVRow(line: 1, fields: ["matter", "author"]), CSVRow(line: 2, fields: ["M", "a"])])
        XCTAssertEqual(rows([0xEF, 0xBB, 0xBF]), [])
        XCTAssertEqual(rows(Array("a\n".utf8) + [0xEF, 0xBB, 0xBF] + Array("b".utf8)),
                       [CSVRow(line: 1, fields: ["a"]), CSVRow(line: 2, fields: ["\u{FEFF}b"])])
    }

    func testUnicodeFields() {
        XCTAssertEqual(rows("Zustellung,\"réponse, 中文\",😀\n"),
                       [CSVRow(line: 1, fields: ["Zustellung", "réponse, 中文", "😀"])])
    }

    func testInvalidUTF8NamesLineAndColumn() {
        XCTAssertEqual(error(Array("a,b\nc,d".utf8) + [0xC0, 0x80] + Array(",e\n".utf8)),
                       CSVParseError(line: 2, column: 2, reason: CSVParseError.invalidUTF8, offset: 7))
        XCTAssertEqual(error(Array("a,\"b\nc".utf8) + [0xED, 0xA0, 0x80] + Array("\"\n".utf8)),
                       CSVParseError(line: 2, column: 2, reason: CSVParseError.invalidUTF8, offset: 6))
        XCTAssertEqual(error([0x61, 0xFF])?.column, 1)
        XCTAssertEqual(error([0x61, 0x2C, 0xE2, 0x82])?.column, 2)  // truncated at end of input
    }

    func testQuoteInsideUnquotedField() {
        XCTAssertEqual(error("a,b\nc,d\"e\n"),
                       CSVParseError(line: 2, column: 2, reason: CSVParseError.quoteInUnquotedField, offset: 7))
        XCTAssertEqual(error(#"a, "b""#),
                       CSVParseError(line: 1, column: 2, reason: CSVParseError.quoteInUnquotedField, offset: 3))
    }

    func testTextAfterClosingQuote() {
        XCTAssertEqual(error("x\n\"a\"b,c\n"),
                       CSVParseError(line: 2, column: 1, reason: CSVParseError.textAfterClosingQuote, offset: 5))
        XCTAssertEqual(error("x,\"a\nb\" ,c\n"),
                       CSVParseError(line: 2, column: 2, reason: CSVParseError.textAfterClosingQuote, offset: 7))
    }

    func testUnterminatedQuoteNamesTheRecordStart() {
        XCTAssertEqual(error("h1,h2\nok,1\nx,\"never closed\nmore\nlines\n"),
                       CSVParseError(line: 3, column: 2, reason: CSVParseError.unterminatedQuote, offset: 13))
        XCTAssertEqual(error("\"")?.line, 1)
    }

    func testBareCarriageReturn() {
        XCTAssertEqual(error("a\rb\n"),
                       CSVParseError(line: 1, column: 1, reason: CSVParseError.bareCarriageReturn, offset: 1))
        XCTAssertEqual(rows("\"a\rb\"\n"), [CSVRow(line: 1, fields: ["a\rb"])])  // allowed inside quotes
    }

    func testErrorDescription() {
        let quoteError = CSVParseError(line: 3, column: 2, reason: "quote inside an unquoted field", offset: 9)
        XCTAssertEqual(quoteError.description, "CSV line 3, column 2: quote inside an unquoted field")
        XCTAssertEqual(CSVParseError(line: 3, column: nil, reason: "x", offset: 0).description, "CSV line 3: x")
    }

    func testIterationYieldsResultsAndStopsAfterAnError() {
        var seen: [Result<CSVRow, CSVParseError>] = []
        for r in CSVReader("a\nb\"\nc\n") { seen.append(r) }
        XCTAssertEqual(seen.count, 2)
        XCTAssertEqual(try seen[0].get(), CSVRow(line: 1, fields: ["a"]))
        guard case .failure(let e) = seen[1] else { return XCTFail("expected a failure") }
        XCTAssertEqual(e.line, 2)

        var reader = CSVReader("x,y\n1,2\n")
        XCTAssertEqual(try reader.readRow()?.fields, ["x", "y"])
        XCTAssertEqual(try reader.readRow()?.fields, ["1", "2"])
        XCTAssertNil(try reader.readRow())
        XCTAssertNil(try reader.readRow())
    }

    func testColumnCountsAreNotEnforced() {
        XCTAssertEqual(rows("a,b,c\n1\n1,2,3,4\n").map(\.fields.count), [3, 1, 4])
    }
}
