/// RFC 3339 timestamps (with a mandatory offset) and full dates, parsed strictly without Foundation's
/// locale-dependent formatters. Times are carried as microseconds since 1970-01-01T00:00:00Z.
public enum Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` (RFC 3339 §5.6). Nil when malformed or out of range.
    public static func parseRFC3339(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parseRFC3339(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// The same on the text's UTF-8 bytes (deep verify reads them in place).
    package static func parseRFC3339(utf8 c: UnsafeRawBufferPointer) -> Int64? {
        guard c.count >= 20, c.count <= 40 else { return nil }
        guard let date = parseDate(c, 0), c[10] == UInt8(ascii: "T") || c[10] == UInt8(ascii: "t"),
              let hour = digits(c, 11, 2), c[13] == UInt8(ascii: ":"),
              let minute = digits(c, 14, 2), c[16] == UInt8(ascii: ":"),
              let second = digits(c, 17, 2),
              hour < 24, minute < 60, second <= 60 else { return nil }
        var i = 19
        var micros = 0
        if c[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100_000
            let start = i
            while i < c.count, let d = digit(c[i]) {
                micros += d * scale
                scale /= 10
                i += 1
            }
            guard i > start, i - start <= 9 else { return nil }
        }
        guard i < c.count else { return nil }
        var offsetSeconds = 0
        switch c[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard i + 6 == c.count, let oh = digits(c, i + 1, 2), c[i + 3] == UInt8(ascii: ":"),
                  let om = digits(c, i + 4, 2), oh < 24, om < 60 else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (c[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        default:
            return nil
        }
        guard i == c.count else { return nil }
        // A leap second (:60) is counted as the last microsecond of :59, so ordering is kept.
        let clampedSecond = min(second, 59)
        let extra = second == 60 ? 999_999 - micros : 0
        let seconds = Int64(date) * 86_400 + Int64(hour * 3600 + minute * 60 + clampedSecond) - Int64(offsetSeconds)
        return seconds * 1_000_000 + Int64(micros + extra)
    }

    /// Parses a full date `YYYY-MM-DD`; returns days since 1970-01-01.
    public static func parseDate(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parseDate(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// The same on the text's UTF-8 bytes.
    package static func parseDate(utf8 c: UnsafeRawBufferPointer) -> Int64? {
        guard c.count == 10, let days = parseDate(c, 0) else { return nil }
        return Int64(days)
    }

    /// Formats microseconds since the epoch as RFC 3339 UTC with microsecond precision
    /// (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, 27 ASCII bytes; reports format hundreds of thousands of these).
    public static func formatRFC3339(micros: Int64) -> String {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = Int(micros - seconds * 1_000_000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = civil(fromDays: Int(days))
        guard (0...9999).contains(y) else {
            let date = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
            let time = "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
            return date + "T" + time + ".\(pad(fraction, 6))Z"
        }
        return String(unsafeUninitializedCapacity: 27) { buffer in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var v = value
                for i in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
            }
            put(y, 4, at: 0); buffer[4] = UInt8(ascii: "-"); put(m, 2, at: 5)
            buffer[7] = UInt8(ascii: "-"); put(d, 2, at: 8)
            buffer[10] = UInt8(ascii: "T"); put(secondOfDay / 3600, 2, at: 11); buffer[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, 2, at: 14); buffer[16] = UInt8(ascii: ":"); put(secondOfDay % 60, 2, at: 17)
            buffer[19] = UInt8(ascii: "."); put(fraction, 6, at: 20); buffer[26] = UInt8(ascii: "Z")
            return 27
        }
    }

    public static func formatDate(days: Int64) -> String {
        let (y, m, d) = civil(fromDays: Int(days))
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, Howard Hinnant's days_from_civil)

    package static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    package static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    package static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func parseDate(_ c: UnsafeRawBufferPointer, _ at: Int) -> Int? {
        guard c.count >= at + 10, let y = digits(c, at, 4), c[at + 4] == UInt8(ascii: "-"),
              let m = digits(c, at + 5, 2), c[at + 7] == UInt8(ascii: "-"), let d = digits(c, at + 8, 2),
              (1...12).contains(m), d >= 1, d <= daysInMonth(y, m) else { return nil }
        return days(fromCivil: y, m, d)
    }

    private static func digits(_ c: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> Int? {
        guard at + count <= c.count else { return nil }
        var v = 0
        for i in at..<at + count {
            guard let d = digit(c[i]) else { return nil }
            v = v * 10 + d
        }
        return v
    }

    private static func digit(_ b: UInt8) -> Int? {
        b >= 0x30 && b <= 0x39 ? Int(b - 0x30) : nil
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
