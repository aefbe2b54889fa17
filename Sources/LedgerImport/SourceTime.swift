import Foundation
import LedgerFormat

/// Turns an export's time values into RFC 3339 with an offset (docs/IMPORT.md, "Times"). A value with an offset (or
/// `Z`) keeps it; a date-only value or a time without an offset is read in `zone` (`--time-zone`, UTC by default).
public struct SourceTime: Sendable {
    public let zone: TimeZone
    private let calendar: Calendar

    public init(zone: TimeZone = .gmt) {
        self.zone = zone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.calendar = calendar
    }

    /// `YYYY-MM-DD`, `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|±HH:MM|±HHMM]`, or the US form
    /// `M/D/YYYY[ h:mm[ AM|PM]]`, as RFC 3339; nil when the text is none of these or names an impossible date or time.
    public func rfc3339(_ text: String) -> String? {
        guard text.utf8.count <= 64 else { return nil }
        // Already RFC 3339 with `Z` or `±HH:MM` (the common case): kept as it is.
        if text.utf8.count >= 20, text.utf8.contains(UInt8(ascii: "T")), Timestamp.parseRFC3339(text) != nil {
            return text
        }
        let iso = text.utf8.contains(UInt8(ascii: "/")) ? Self.isoFromUS(text) : text
        guard let iso, let parts = Self.split(iso) else { return nil }
        let offset = parts.offset ?? localOffset(parts.date, parts.time)
        guard let offset else { return nil }
        let stamp = "\(parts.date)T\(parts.time)\(offset)"
        return Timestamp.parseRFC3339(stamp) == nil ? nil : stamp
    }

    /// A date-only value is midnight; the rest is `HH:MM:SS[.fraction]` and the offset as written (nil if none).
    static func split(_ text: String) -> (date: String, time: String, offset: String?)? {
        let chars = Array(text.utf8)
        guard chars.count >= 10, Timestamp.parseDate(String(decoding: chars[0..<10], as: UTF8.self)) != nil else {
            return nil
        }
        let date = String(decoding: chars[0..<10], as: UTF8.self)
        if chars.count == 10 { return (date, "00:00:00", nil) }  // a date-only value: midnight in the zone
        guard [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(chars[10]) else { return nil }
        var end = 11
        while end < chars.count, chars[end] != UInt8(ascii: "Z"), chars[end] != UInt8(ascii: "z"),
              chars[end] != UInt8(ascii: "+"), chars[end] != UInt8(ascii: "-") { end += 1 }
        var time = String(decoding: chars[11..<end], as: UTF8.self)
        if time.utf8.count == 5 { time += ":00" }  // HH:MM: seconds are zero
        guard let offset = offset(String(decoding: chars[end...], as: UTF8.self)) else { return nil }
        return (date, time, offset.isEmpty ? nil : offset)
    }

    /// `Z`, `±HH:MM` or `±HHMM` normalised to `Z` / `±HH:MM`; "" when there is none; nil when malformed.
    static func offset(_ text: String) -> String? {
        switch text.utf8.count {
        case 0: return ""
        case 1: return text == "Z" || text == "z" ? "Z" : nil
        case 5: return String(text.prefix(3)) + ":" + String(text.suffix(2))
        case 6: return text
        default: return nil
        }
    }

    /// The zone's offset at that local time (daylight saving included), as `±HH:MM` or `Z`.
    func localOffset(_ date: String, _ time: String) -> String? {
        let d = date.split(separator: "-").compactMap { Int($0) }
        let t = time.prefix(8).split(separator: ":").compactMap { Int($0) }
        guard d.count == 3, t.count == 3 else { return nil }
        let components = DateComponents(year: d[0], month: d[1], day: d[2], hour: t[0], minute: t[1], second: t[2])
        guard let instant = calendar.date(from: components) else { return nil }
        let seconds = zone.secondsFromGMT(for: instant)
        if seconds == 0 { return "Z" }
        let sign = seconds < 0 ? "-" : "+"
        let minutes = abs(seconds) / 60
        return sign + String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }

    /// `M/D/YYYY[ h:mm[:ss][ AM|PM]]` (how US practice-management CSV exports write times) as ISO text.
    static func isoFromUS(_ text: String) -> String? {
        let words = text.split(separator: " ")
        guard (1...3).contains(words.count) else { return nil }
        let mdy = words[0].split(separator: "/").compactMap { Int($0) }
        // Every part in range before formatting (%02d reads 32 bits: a huge month would wrap into a valid one).
        guard mdy.count == 3, (1000...9999).contains(mdy[2]), (1...12).contains(mdy[0]), (1...31).contains(mdy[1]) else {
            return nil
        }
        let date = String(format: "%04d-%02d-%02d", mdy[2], mdy[0], mdy[1])
        guard words.count > 1 else { return date }
        var hms = words[1].split(separator: ":").compactMap { Int($0) }
        guard (2...3).contains(hms.count), (0...23).contains(hms[0]), (0...59).contains(hms[1]),
              hms.count == 2 || (0...60).contains(hms[2]) else { return nil }
        if words.count == 3 {
            let meridiem = words[2].uppercased()
            guard meridiem == "AM" || meridiem == "PM", (1...12).contains(hms[0]) else { return nil }
            hms[0] = hms[0] % 12 + (meridiem == "PM" ? 12 : 0)  // 12 AM is 00, 12 PM is 12
        }
        return date + String(format: "T%02d:%02d:%02d", hms[0], hms[1], hms.count == 3 ? hms[2] : 0)
    }
}
