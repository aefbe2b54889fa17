import Foundation
import LedgerFormat

/// A wall-clock time without an offset, as another system's export writes it.
struct LocalDateTime: Sendable, Equatable {
    var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0

    /// Seconds since 1970-01-01T00:00:00 as if this local time were UTC.
    var naiveSeconds: Int64 {
        Int64(Timestamp.days(fromCivil: year, month, day)) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}

/// An offset-less time layout of `input.timeFormat` (docs/MAPPING.md, "Times"): the letters `yyyy` (4-digit year),
/// `MM` (month), `dd` (day), `HH` (hour 0–23), `hh` (hour 1–12, with `a`), `mm` (minute), `ss` (second, optional),
/// `a` (AM/PM, any case); text in single quotes and any other non-letter character must appear as written.
/// `MM`, `dd`, `HH` and `hh` accept one or two digits; `yyyy` four; `mm` and `ss` two. Up to two parts in `[ ]` are
/// optional (`yyyy-MM-dd HH:mm[:ss]`).
struct LocalTimePattern: Sendable, Equatable {
    enum Token: Sendable, Hashable {
        case year, month, day, hour24, hour12, minute, second, meridiem
        case literal(UInt8)
        case open, close  // [ ] around an optional part
    }

    /// The layouts this pattern accepts, tried in order (more than one when it has optional parts).
    let alternatives: [[Token]]

    /// Why a pattern is not supported.
    struct Problem: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private static let letters: [(String, Token)] = [
        ("yyyy", .year), ("MM", .month), ("dd", .day), ("HH", .hour24), ("hh", .hour12),
        ("mm", .minute), ("ss", .second), ("a", .meridiem),
    ]

    /// The pattern, or a reason it is not one this parser supports.
    static func compile(_ pattern: String) -> Result<LocalTimePattern, Problem> {
        guard let tokens = tokenize(Array(pattern.utf8)) else {
            return .failure(Problem("uses a letter or quoting not supported (letters: yyyy MM dd HH hh mm ss a; "
                + "literal text in single quotes; optional parts in [ ])"))
        }
        guard let alternatives = expand(tokens), alternatives.count <= 4, let full = alternatives.first else {
            return .failure(Problem("has unbalanced, nested, empty or more than two [ ] optional parts"))
        }
        let kinds = full.filter { if case .literal = $0 { return false } else { return true } }
        guard Set(kinds).count == kinds.count else { return .failure(Problem("names a letter twice")) }
        for alternative in alternatives {
            if let problem = check(alternative) { return .failure(problem) }
        }
        return .success(LocalTimePattern(alternatives: alternatives))
    }

    /// The required letters of one alternative: the date, the minute, and either HH or hh with a.
    private static func check(_ tokens: [Token]) -> Problem? {
        for needed in [Token.year, .month, .day, .minute] where !tokens.contains(needed) {
            return Problem("must contain yyyy, MM, dd and mm (outside [ ])")
        }
        let twelve = tokens.contains(.hour12), meridiem = tokens.contains(.meridiem)
        guard tokens.contains(.hour24) != twelve, twelve == meridiem else {
            return Problem("must contain either HH, or hh together with a (outside [ ])")
        }
        return nil
    }

    /// Every layout a pattern with `[ ]` optional parts spells, the one with all parts first, none last.
    private static func expand(_ tokens: [Token]) -> [[Token]]? {
        guard let open = tokens.firstIndex(of: .open) else { return tokens.contains(.close) ? nil : [tokens] }
        guard let close = tokens[open...].firstIndex(of: .close), close > open + 1,
              !tokens[..<open].contains(.close), !tokens[(open + 1)..<close].contains(.open),
              let tails = expand(Array(tokens[(close + 1)...])) else { return nil }
        let prefix = Array(tokens[..<open]), inner = Array(tokens[(open + 1)..<close])
        return tails.map { prefix + inner + $0 } + tails.map { prefix + $0 }
    }

    /// Splits a pattern into tokens; nil on an unknown letter or an unterminated quote.
    private static func tokenize(_ c: [UInt8]) -> [Token]? {
        var tokens = [Token](), i = 0
        scan: while i < c.count {
            if c[i] == UInt8(ascii: "'") {
                guard let close = c[(i + 1)...].firstIndex(of: UInt8(ascii: "'")), close > i + 1 else { return nil }
                tokens += c[(i + 1)..<close].map { .literal($0) }
                i = close + 1
                continue
            }
            for (text, token) in letters where c[i...].starts(with: text.utf8) {
                tokens.append(token)
                i += text.utf8.count
                continue scan
            }
            guard !isLetter(c[i]), c[i] < 0x80 else { return nil }
            tokens.append(c[i] == UInt8(ascii: "[") ? .open : c[i] == UInt8(ascii: "]") ? .close : .literal(c[i]))
            i += 1
        }
        return tokens
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    /// The local time `text` spells in this layout, or nil when it does not match or names no real calendar time.
    func parse(_ text: String) -> LocalDateTime? {
        let c = Array(text.utf8)
        for tokens in alternatives {
            if let t = Self.parse(c, tokens) { return t }
        }
        return nil
    }

    private static func parse(_ c: [UInt8], _ tokens: [Token]) -> LocalDateTime? {
        var t = LocalDateTime(), i = 0, pm: Bool? = nil
        for token in tokens {
            switch token {
            case .literal(let b):
                guard i < c.count, c[i] == b else { return nil }
                i += 1
            case .meridiem:
                guard i + 2 <= c.count, let p = meridiem(c[i], c[i + 1]) else { return nil }
                pm = p
                i += 2
            default:
                let (minDigits, maxDigits) = token == .year ? (4, 4) : token == .minute || token == .second ? (2, 2) : (1, 2)
                guard let v = number(c, &i, min: minDigits, max: maxDigits) else { return nil }
                set(token, v, in: &t)
            }
        }
        guard i == c.count else { return nil }
        if let pm {
            guard (1...12).contains(t.hour) else { return nil }
            t.hour = t.hour % 12 + (pm ? 12 : 0)
        }
        return isReal(t) ? t : nil
    }

    private static func set(_ token: Token, _ v: Int, in t: inout LocalDateTime) {
        switch token {
        case .year: t.year = v
        case .month: t.month = v
        case .day: t.day = v
        case .hour24, .hour12: t.hour = v
        case .minute: t.minute = v
        case .second: t.second = v
        case .meridiem, .literal, .open, .close: break
        }
    }

    private static func meridiem(_ a: UInt8, _ b: UInt8) -> Bool? {
        guard b | 0x20 == UInt8(ascii: "m") else { return nil }
        switch a | 0x20 {
        case UInt8(ascii: "a"): return false
        case UInt8(ascii: "p"): return true
        default: return nil
        }
    }

    private static func number(_ c: [UInt8], _ i: inout Int, min: Int, max: Int) -> Int? {
        var v = 0, n = 0
        while n < max, i < c.count, c[i] >= 0x30, c[i] <= 0x39 {
            v = v * 10 + Int(c[i] - 0x30)
            n += 1
            i += 1
        }
        return n >= min ? v : nil
    }

    private static func isReal(_ t: LocalDateTime) -> Bool {
        (1...12).contains(t.month) && t.day >= 1 && t.day <= Timestamp.daysInMonth(t.year, t.month)
            && t.hour < 24 && t.minute < 60 && t.second < 60
    }
}

/// Local wall-clock times placed in an IANA time zone, DST-correct.
enum ZonedTime {
    /// Why a local time cannot be placed.
    enum Failure: Error { case nonexistent }

    /// RFC 3339 with the zone's offset at that instant (`2026-03-29T02:30:00+01:00`). A time that occurs twice
    /// (clocks going back) is the earlier instant; a time that never occurs (clocks going forward) is refused.
    static func rfc3339(_ local: LocalDateTime, in zone: TimeZone) -> Result<String, Failure> {
        let naive = local.naiveSeconds
        var offsets = Set<Int>()
        for probe in [naive - 86_400, naive, naive + 86_400] {
            offsets.insert(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(probe))))
        }
        let instants = offsets.compactMap { offset -> (Int64, Int)? in
            let instant = naive - Int64(offset)
            let actual = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))
            return actual == offset ? (instant, offset) : nil
        }
        guard let (instant, offset) = instants.min(by: { $0.0 < $1.0 }) else { return .failure(.nonexistent) }
        guard offset % 60 == 0 else { return .success(Timestamp.formatRFC3339(micros: instant * 1_000_000)) }
        return .success(format(local) + formatOffset(offset))
    }

    private static func format(_ t: LocalDateTime) -> String {
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):"
            + pad(t.second, 2)
    }

    private static func formatOffset(_ seconds: Int) -> String {
        // +00:00 rather than Z: the zone's own, known offset.
        let sign = seconds < 0 ? "-" : "+", minutes = abs(seconds) / 60
        let hh = minutes / 60, mm = minutes % 60
        return sign + (hh < 10 ? "0" : "") + "\(hh):" + (mm < 10 ? "0" : "") + "\(mm)"
    }
}
