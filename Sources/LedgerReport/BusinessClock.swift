import Foundation
import LedgerFormat

/// Measures elapsed time between two instants (µs since the epoch): wall-clock time, or only the time inside
/// business hours when the policy sets them. Local days, offsets and DST come from Foundation's TimeZone/Calendar.
/// Not thread-safe: one per report computation (it caches each local day's window).
package final class BusinessClock {
    package let hours: BusinessHours?
    private var calendar: Calendar
    /// Local day number (days since 1970-01-01 in the zone) → window [start, end) in µs, or nil when closed.
    private var windows: [Int64: (Int64, Int64)?] = [:]

    package init(_ hours: BusinessHours?) {
        self.hours = hours
        calendar = Calendar(identifier: .gregorian)
        if let hours { calendar.timeZone = hours.timeZone }
    }

    /// Elapsed µs from `a` to `b` (0 when b ≤ a): wall clock, or business time.
    package func elapsed(_ a: Int64, _ b: Int64) -> Int64 {
        guard b > a else { return 0 }
        guard let hours else { return b - a }
        var total: Int64 = 0
        let first = localDay(a, hours.timeZone)
        let last = localDay(b, hours.timeZone)
        var day = first
        while day <= last {
            if let (ws, we) = window(day) {
                let s = max(ws, a), e = min(we, b)
                if e > s { total += e - s }
            }
            day += 1
        }
        return total
    }

    /// The local calendar day (days since 1970-01-01) that contains instant `t` in `zone`.
    package func localDay(_ t: Int64, _ zone: TimeZone) -> Int64 {
        let seconds = floorDiv(t, 1_000_000)
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        return floorDiv(seconds + offset, 86_400)
    }

    /// The end (exclusive, µs) of local day `day` in the business-hours zone, or of the UTC day without one.
    package func endOfLocalDay(_ day: Int64) -> Int64 {
        guard hours != nil else { return (day + 1) * 86_400_000_000 }
        return localTime(day + 1, minute: 0)
    }

    /// Business-hours window of a local day, cached.
    private func window(_ day: Int64) -> (Int64, Int64)? {
        if let cached = windows[day] { return cached }
        var result: (Int64, Int64)?
        if let hours {
            let weekday = Int(((day + 4) % 7 + 7) % 7)  // 1970-01-01 was a Thursday; 0 = Sunday
            if hours.days.contains(weekday) {
                result = (localTime(day, minute: hours.startMinute), localTime(day, minute: hours.endMinute))
            }
        }
        windows[day] = result
        return result
    }

    /// The instant of local wall-clock time `minute` (after midnight) on local day `day`, via Calendar (DST-aware).
    private func localTime(_ day: Int64, minute: Int) -> Int64 {
        let (y, m, d) = Timestamp.civil(fromDays: Int(day))
        var components = DateComponents()
        components.year = y
        components.month = m
        components.day = d
        components.hour = minute / 60
        components.minute = minute % 60
        guard let date = calendar.date(from: components) else {
            return day * 86_400_000_000 + Int64(minute) * 60_000_000
        }
        return Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
}
