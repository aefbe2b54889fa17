import Foundation
@testable import Ledger
import XCTest

/// The Concordance DAT encoding (docs/PRODUCE.md): BOM, þ qualifier, ASCII 20 delimiter, CRLF, escaping.
final class ConcordanceDATTests: XCTestCase {
    func testConstantsAreTheConventionalBytes() {
        XCTAssertEqual(ConcordanceDAT.byteOrderMark, [0xEF, 0xBB, 0xBF])
        XCTAssertEqual(Array(String(ConcordanceDAT.qualifier).utf8), [0xC3, 0xBE])
        XCTAssertEqual(Array(String(ConcordanceDAT.delimiter).utf8), [0x14])
        XCTAssertEqual(Array(String(ConcordanceDAT.newline).utf8), [0xC2, 0xAE])
        XCTAssertEqual(ConcordanceDAT.lineEnd, "\r\n")
    }

    func testUnicodeLineBreaksAndC1ControlsCannotBreakARow() {
        XCTAssertEqual(ConcordanceDAT.escape("a\u{2028}b\u{2029}c\u{85}d\u{9B}e"), "a\u{AE}b\u{AE}c\u{AE}d e")
    }

    func testPlainValuesAreKept() {
        for value in ["", "J. Rivera", "a, \"quoted\"; value", "tab\there", "Zürich — 東京", "=SUM(A1)"] {
            XCTAssertEqual(ConcordanceDAT.escape(value), value)
        }
    }

    func testLineBreaksBecomeOneRegisteredSign() {
        XCTAssertEqual(ConcordanceDAT.escape("a\r\nb"), "a\u{AE}b")
        XCTAssertEqual(ConcordanceDAT.escape("a\nb"), "a\u{AE}b")
        XCTAssertEqual(ConcordanceDAT.escape("a\rb"), "a\u{AE}b")
        XCTAssertEqual(ConcordanceDAT.escape("a\n\nb"), "a\u{AE}\u{AE}b")
        XCTAssertEqual(ConcordanceDAT.escape("a\r\n\r\nb"), "a\u{AE}\u{AE}b")
        XCTAssertEqual(ConcordanceDAT.escape("a\n\rb"), "a\u{AE}\u{AE}b")
        XCTAssertEqual(ConcordanceDAT.escape("\r\n"), "\u{AE}")
    }

    func testQualifierDelimiterAndControlsBecomeSpaces() {
        XCTAssertEqual(ConcordanceDAT.escape("Þór þá"), "Þór  á")
        XCTAssertEqual(ConcordanceDAT.escape("a\u{14}b"), "a b")
        XCTAssertEqual(ConcordanceDAT.escape("a\u{0}b\u{7}c\u{1B}d\u{7F}e"), "a b c d e")
    }

    func testRowWrapsEveryFieldAndEndsWithCRLF() {
        let row = ConcordanceDAT.row(["A", "", "x\ny", "þ"])
        XCTAssertEqual(row, "\u{FE}A\u{FE}\u{14}\u{FE}\u{FE}\u{14}\u{FE}x\u{AE}y\u{FE}\u{14}\u{FE} \u{FE}\r\n")
    }

    func testFileStartsWithBOMThenHeaderThenRows() {
        let bytes = ConcordanceDAT.file(header: ["H1", "H2"], rows: [["a", "b"], ["c\r\nd", "e\u{14}f"]])
        XCTAssertEqual(Array(bytes.prefix(3)), [0xEF, 0xBB, 0xBF])
        let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        XCTAssertEqual(lines.count, 4)  // header, two rows, "" after the last CRLF
        XCTAssertEqual(lines.last, "")
        let cells = lines.dropLast().map { line in
            line.split(separator: "\u{14}", omittingEmptySubsequences: false).map(String.init)
        }
        XCTAssertEqual(cells[0], ["\u{FE}H1\u{FE}", "\u{FE}H2\u{FE}"])
        XCTAssertEqual(cells[2], ["\u{FE}c\u{AE}d\u{FE}", "\u{FE}e f\u{FE}"])
    }

    func testEscapedValueNeverHoldsAStructuralCharacter() {
        let hostile = "\u{FE}\u{14}\r\n\r\u{FE}\n\u{14}x"
        let escaped = ConcordanceDAT.escape(hostile)
        for scalar in escaped.unicodeScalars {
            XCTAssertFalse(["\u{FE}", "\u{14}", "\r", "\n"].contains(scalar))
        }
        XCTAssertTrue(escaped.hasSuffix("x"))
    }

    func testUTCDateAndTimeOfOccurredAt() {
        XCTAssertEqual(Ledger.sentDateTime("2026-03-01T00:30:00+01:00").0, "2026-02-28")
        XCTAssertEqual(Ledger.sentDateTime("2026-03-01T00:30:00+01:00").1, "23:30:00")
        XCTAssertEqual(Ledger.sentDateTime("2026-03-03T09:05:07Z").0, "2026-03-03")
        XCTAssertEqual(Ledger.sentDateTime("2026-03-03T09:05:07Z").1, "09:05:07")
        XCTAssertEqual(Ledger.sentDateTime(nil).0, "")
    }

    func testBatesNumbersArePaddedToSevenDigits() {
        XCTAssertEqual(Ledger.bates("PROD", 1), "PROD0000001")
        XCTAssertEqual(Ledger.bates("ABC", 1234567), "ABC1234567")
    }

    func testPrivilegeLogRowsAreCSVInjectionSafeAndRevealNothingWithheld() {
        let record = ProducedRecord(bates: "P0000001", seq: 9, leafHash: String(repeating: "a", count: 64),
                                    revealed: ["author": .string("=cmd|' /C calc'!A0"), "channel": .string("email"),
                                               "occurredAt": .string("2026-03-01T10:00:00Z"), "kind": .string("advice")],
                                    withheld: [("recipients", .attorneyClientPrivilege), ("summary", .workProduct)])
        let plain = ProducedRecord(bates: "P0000002", seq: 10, leafHash: "", revealed: ["summary": .string("x")],
                                   withheld: [("sourceId", .notRequested)])
        let log = Ledger.productionPrivilegeLog([record, plain])
        let rows = log.components(separatedBy: "\r\n")
        XCTAssertEqual(rows.count, 3, log)  // header, one record (sourceId is not content), ""
        XCTAssertEqual(rows[1], "P0000001,2026-03-01T10:00:00Z,'=cmd|' /C calc'!A0,[redacted],email,"
                       + "attorney-client privilege; work product,communication providing legal advice,"
                       + "confidential communication between attorney and client for the purpose of legal advice; "
                       + "prepared by or for counsel in anticipation of litigation,recipients; summary,9")
        let text = Ledger.recordText(record)
        XCTAssertTrue(text.contains("Summary:\n[withheld: work product]\n"), text)
        XCTAssertFalse(text.contains("Subject:"), text)
        let row = Ledger.datRow(record, custodian: nil)
        XCTAssertEqual(row.count, Ledger.productionFields.count)
        XCTAssertEqual(row[5], "")  // TO: withheld
        XCTAssertEqual(row[16], "attorney-client privilege; work product")
    }
}
