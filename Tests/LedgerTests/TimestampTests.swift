@testable import Ledger
import LedgerFormat
import XCTest

final class TimestampTests: XCTestCase {
    let second: Int64 = 1_000_000

    func testParsesZuluOffsetsAndFractions() {
        XCTAssertEqual(Timestamp.parseRFC3339("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(Timestamp.parseRFC3339("1970-01-01t00:00:01z"), second)
        XCTAssertEqual(Timestamp.parseRFC3339("2026-03-01T14:30:00Z"), 1_772_375_400 * second)
        XCTAssertEqual(Timestamp.parseRFC3339("2026-03-01T15:30:00+01:00"), 1_772_375_400 * second)
        XCTAssertEqual(Timestamp.parseRFC3339("2026-03-01T09:00:00-05:30"), 1_772_375_400 * second)
        XCTAssertEqual(Timestamp.parseRFC3339("2026-03-01T14:30:00-00:00"), 1_772_375_400 * second)
        XCTAssertEqual(Timestamp.parseRFC3339("1970-01-01T00:00:00.5Z"), 500_000)
        XCTAssertEqual(Timestamp.parseRFC3339("1970-01-01T00:00:00.000001Z"), 1)
        XCTAssertEqual(Timestamp.parseRFC3339("1970-01-01T00:00:00.123456789Z"), 123_456,
                       "beyond microseconds is truncated")
        XCTAssertEqual(Timestamp.parseRFC3339("1969-12-31T23:59:59.5Z"), -500_000)
        XCTAssertEqual(Timestamp.parseRFC3339("2024-02-29T00:00:00Z"), Int64(19_782) * 86_400 * second)
        XCTAssertEqual(Timestamp.parseRFC3339("2000-02-29T12:00:00+12:00"), Int64(11_016) * 86_400 * second)
        XCTAssertNotNil(Timestamp.parseRFC3339("2026-12-31T23:59:60Z"), "leap second")
        XCTAssertLessThan(Timestamp.parseRFC3339("2026-12-31T23:59:60Z")!,
                          Timestamp.parseRFC3339("2027-01-01T00:00:00Z")!)
    }

    func testRejections() {
        let bad = [
            "", "garbage", "2026-03-01", "2026-03-01T14:30:00", "2026-03-01T14:30:00.123",  // no offset
            "2026-03-01 14:30:00Z", "2026-3-01T14:30:00Z", "2026-03-01T14:30Z",
            "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-32T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z",  // not leap years
            "2026-03-01T24:00:00Z", "2026-03-01T23:60:00Z", "2026-03-01T23:59:61Z",
            "2026-03-01T14:30:00+24:00", "2026-03-01T14:30:00+01:60", "2026-03-01T14:30:00+0100",
            "2026-03-01T14:30:00+01", "2026-03-01T14:30:00+01:00Z", "2026-03-01T14:30:00.Z",
            "2026-03-01T14:30:00.1234567890Z", "2026-03-01T14:30:00ZZ", "2026-03-01T14:30:00 Z",
            " 2026-03-01T14:30:00Z", "2026-03-01T14:30:00Z ", "２026-03-01T14:30:00Z", "2026-03-01T14:30:0aZ",
        ]
        for text in bad {
            XCTAssertNil(Timestamp.parseRFC3339(text), "accepted \(text)")
        }
    }

    func testFormattingRoundTrip() {
        let samples: [Int64] = [0, 1, -1, 999_999, 1_772_375_400 * second + 123_456, -86_400 * second - 1,
                                Int64(19_782) * 86_400 * second, 253_402_300_799 * second + 999_999]
        for micros in samples {
            let text = Timestamp.formatRFC3339(micros: micros)
            XCTAssertEqual(Timestamp.parseRFC3339(text), micros, text)
        }
        XCTAssertEqual(Timestamp.formatRFC3339(micros: 0), "1970-01-01T00:00:00.000000Z")
        XCTAssertEqual(Timestamp.formatRFC3339(micros: -1), "1969-12-31T23:59:59.999999Z")
        XCTAssertEqual(Timestamp.formatRFC3339(micros: Timestamp.parseRFC3339("2026-03-01T15:30:00.25+01:00")!),
                       "2026-03-01T14:30:00.250000Z")
    }

    func testParseDate() {
        XCTAssertEqual(Timestamp.parseDate("1970-01-01"), 0)
        XCTAssertEqual(Timestamp.parseDate("1969-12-31"), -1)
        XCTAssertEqual(Timestamp.parseDate("2024-02-29"), 19_782)
        XCTAssertEqual(Timestamp.parseDate("2000-02-29"), 11_016)
        for bad in ["2026-02-29", "2026-13-01", "2026-00-10", "2026-06-31", "2026-1-01", "20260101",
                    "2026-01-01T00:00:00Z", "2026-01-01 ", "", "yyyy-mm-dd"] {
            XCTAssertNil(Timestamp.parseDate(bad), bad)
        }
        for days: Int64 in [-1, 0, 19_782, 2_932_896] {
            XCTAssertEqual(Timestamp.parseDate(Timestamp.formatDate(days: days)), days)
        }
        XCTAssertEqual(Timestamp.formatDate(days: 19_782), "2024-02-29")
    }

    func testCivilArithmeticAgreesWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for days in stride(from: -140_000, through: 800_000, by: 9_973) {
            let date = Date(timeIntervalSince1970: TimeInterval(days) * 86_400)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let (y, m, d) = Timestamp.civil(fromDays: days)
            XCTAssertEqual([y, m, d], [parts.year!, parts.month!, parts.day!], "day \(days)")
            XCTAssertEqual(Timestamp.days(fromCivil: y, m, d), days)
        }
    }
}
