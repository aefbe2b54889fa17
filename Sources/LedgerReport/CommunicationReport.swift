import LedgerFormat
import RecordFormats

/// One record the report reads: its seq (ledger seq, or bundle leaf index) and its fields (all, or a bundle's revealed ones).
public struct ReportRecord: Sendable {
    public var seq: UInt64
    public var fields: JSONObject

    public init(seq: UInt64, fields: JSONObject) {
        self.seq = seq
        self.fields = fields
    }
}

/// Kinds of breach, in the order reports list them.
public enum BreachKind: String, Sendable, CaseIterable {
    case cadence, respond, acknowledge, urgent, promise
    /// An inquiry with no response whose respond (or acknowledge) limit has passed as of the report time.
    case openInquiry = "open-inquiry"
}

/// A pure, deterministic report on client communications (docs/REPORT.md). Times are µs since the epoch;
/// durations are µs of wall-clock time, or of business time when the policy sets business hours (hour limits only).
public struct CommunicationReport: Sendable {
    public struct Gap: Sendable, Equatable {
        public var start: Int64
        public var end: Int64
        /// Wall-clock µs.
        public var duration: Int64 { end - start }
        /// True when the gap runs to the report time (no update since `start`).
        public var ongoing: Bool

        public init(start: Int64, end: Int64, ongoing: Bool) {
            self.start = start
            self.end = end
            self.ongoing = ongoing
        }
    }

    public struct MatterSummary: Sendable {
        public var matter: String
        public var entries = 0
        public var outboundUpdates = 0
        public var firstAt: Int64 = 0
        public var lastUpdateAt: Int64?
        /// Wall-clock µs from the last update (or the matter's first entry) to the report time or closedAt.
        public var sinceLastUpdate: Int64 = 0
        public var longestGap: Gap?
        /// Gaps longer than `updateEveryDays`.
        public var cadenceBreaches: [Gap] = []
        public var closedAt: Int64?
        public var limits = MatterLimits()
        /// Breaches of any kind in this matter (open inquiries past a limit included).
        public var breachCount = 0
        public var compliant: Bool { breachCount == 0 }
    }

    public struct Inquiry: Sendable {
        public var seq: UInt64
        public var matter: String
        public var at: Int64
        public var channel: String?
        public var responseSeq: UInt64?
        public var responseAt: Int64?
        public var responder: String?
        /// True when the response was not named by `inReplyTo` but taken as the next outbound entry in the matter.
        public var inferred = false
        /// Measured time (business time if configured) to the response.
        public var responseTime: Int64?
        public var acknowledgementSeq: UInt64?
        public var acknowledgementTime: Int64?
        /// Measured age at the report time, when still open.
        public var openAge: Int64?
        public var respondLimit: Int64 = 0
        public var acknowledgeLimit: Int64 = 0
        public var respondBreached: Bool { (responseTime ?? openAge ?? 0) > respondLimit }
        public var acknowledgeBreached: Bool { (acknowledgementTime ?? openAge ?? 0) > acknowledgeLimit }
        public var isOpen: Bool { responseSeq == nil }
    }

    /// One breach. `seq` is the entry it is about (inquiry, urgent development, promise), nil for cadence gaps.
    public struct Breach: Sendable {
        public var kind: BreachKind
        public var matter: String
        public var seq: UInt64?
        public var start: Int64
        /// When it was met (response, update), or the report time / closedAt when never met.
        public var end: Int64
        /// Measured time (business time for hour limits, when configured).
        public var measured: Int64
        public var limit: Int64
        public var metBy: UInt64?
        public var inferred = false
        public var open = false
    }

    public struct Stats: Sendable, Equatable {
        public var count: Int
        public var median: Int64
        public var p90: Int64
        public var max: Int64

        public init(count: Int, median: Int64, p90: Int64, max: Int64) {
            self.count = count
            self.median = median
            self.p90 = p90
            self.max = max
        }
    }

    public struct Correction: Sendable {
        public var seq: UInt64
        public var at: Int64?
        public var author: String?
        public var corrects: UInt64
        /// Nil when the corrected entry is not among the records (outside the selection, or never written).
        public var correctedAt: Int64?
        public var correctedKind: String?
        public var correctedAuthor: String?
        public var matter: String?
    }

    public struct MonthCompliance: Sendable, Equatable {
        /// "YYYY-MM" (UTC).
        public var month: String
        public var matters: Int
        public var compliant: Int

        public init(month: String, matters: Int, compliant: Int) {
            self.month = month
            self.matters = matters
            self.compliant = compliant
        }
    }

    public var asOf: Int64
    public var businessHours: Bool
    public var records = 0
    /// Records without a matter or a valid occurredAt, or occurring after `asOf`.
    public var skipped = 0
    public var matters: [MatterSummary] = []
    public var inquiries: [Inquiry] = []
    public var breaches: [Breach] = []
    public var byAuthor: [(String, Stats)] = []
    public var byChannel: [(String, Stats)] = []
    public var overall: Stats?
    public var corrections: [Correction] = []
    public var trend: [MonthCompliance] = []
    /// Outbound updates (matter, occurredAt) in matter then time order, up to each matter's end: the HTML timeline.
    public var updates: [(matter: String, at: Int64)] = []

    public var mattersCompliant: Int { matters.filter(\.compliant).count }
    public var openInquiries: [Inquiry] { inquiries.filter(\.isOpen) }
    public func breachCount(_ kind: BreachKind) -> Int { breaches.filter { $0.kind == kind }.count }
    /// What `--fail-on-breach` fails on: any breach, open inquiries past their limits included.
    public var hasBreaches: Bool { !breaches.isEmpty }

    package static let urgentKinds: Set<String> = ["court-ruling", "deadline", "settlement"]

    // MARK: - Computation

    /// Computes the report. `records` in any order; ties on occurredAt are broken by seq.
    public init(records input: [ReportRecord], policy: ReportPolicy = ReportPolicy(), asOf: Int64) {
        self.asOf = asOf
        businessHours = policy.businessHours != nil
        let clock = BusinessClock(policy.businessHours)

        struct Item {
            var seq: UInt64
            var at: Int64
            var matter: String
            var fields: JSONObject
            var direction: String?
            var kind: String?
            func string(_ k: String) -> String? { fields[k]?.stringValue }
        }
        var items = [Item]()
        items.reserveCapacity(input.count)
        var bySeq = [UInt64: JSONObject]()
        bySeq.reserveCapacity(input.count)
        for record in input {
            records += 1
            bySeq[record.seq] = record.fields
            guard let matter = record.fields["matter"]?.stringValue,
                  let at = record.fields["occurredAt"]?.stringValue.flatMap(Timestamp.parseRFC3339), at <= asOf else {
                skipped += 1
                continue
            }
            items.append(Item(seq: record.seq, at: at, matter: matter, fields: record.fields,
                              direction: record.fields["direction"]?.stringValue, kind: record.fields["kind"]?.stringValue))
        }
        items.sort { ($0.at, $0.seq) < ($1.at, $1.seq) }

        var sourceIDs = [String: UInt64]()
        for item in items { if let id = item.string("sourceId"), sourceIDs[id] == nil { sourceIDs[id] = item.seq } }
        func referencedSeq(_ ref: String) -> UInt64? {
            if ref.hasPrefix("#"), let seq = UInt64(ref.dropFirst()) { return seq }
            return sourceIDs[ref]
        }
        func isUpdate(_ item: Item) -> Bool { item.direction == "outbound" && item.kind != "correction" }

        // Explicit replies: inquiry seq → the earliest outbound entry naming it.
        var explicitReply = [UInt64: Int]()
        var groups = [String: [Int]]()
        for (i, item) in items.enumerated() {
            groups[item.matter, default: []].append(i)
            if item.direction == "outbound", let ref = item.string("inReplyTo"), let target = referencedSeq(ref),
               explicitReply[target] == nil {
                explicitReply[target] = i
            }
        }

        var breachesByMatter = [String: Int]()
        var inquiryPoints = [(month: Int64, matter: String)]()
        func addBreach(_ b: Breach) {
            breaches.append(b)
            breachesByMatter[b.matter, default: 0] += 1
        }
        var authorTimes = [String: [Int64]]()
        var channelTimes = [String: [Int64]]()
        var allTimes = [Int64]()
        var breachMonths = [String: Set<Int64>]()  // matter → months (index) with a breach
        func monthIndex(_ t: Int64) -> Int64 {
            let days = t >= 0 ? t / 86_400_000_000 : (t - 86_399_999_999) / 86_400_000_000
            let (y, m, _) = Timestamp.civil(fromDays: Int(days))
            return Int64(y * 12 + m - 1)
        }

        for matter in groups.keys.sorted() {
            let indices = groups[matter]!
            let limits = policy.limits(for: matter)
            let closedAt = policy.closed[matter]
            let end = min(asOf, closedAt ?? asOf)
            var summary = MatterSummary(matter: matter)
            summary.entries = indices.count
            summary.limits = limits
            summary.closedAt = closedAt
            summary.firstAt = items[indices[0]].at
            let updates = indices.filter { isUpdate(items[$0]) }
            // Next update position after each item, for inferred responses and urgent follow-ups.
            summary.outboundUpdates = updates.count

            // Cadence: the matter's first entry, each update up to closedAt, then the report time (or closedAt).
            var points = [summary.firstAt]
            for u in updates where items[u].at <= end {
                points.append(items[u].at)
                self.updates.append((matter, items[u].at))
            }
            summary.lastUpdateAt = updates.last.map { items[$0].at }
            let cadenceLimit = limits.updateEveryDays * 86_400_000_000
            var previous = points[0]
            var gaps = [Gap]()
            for p in points.dropFirst() {
                gaps.append(Gap(start: previous, end: p, ongoing: false))
                previous = p
            }
            if end > previous { gaps.append(Gap(start: previous, end: end, ongoing: closedAt == nil || asOf < closedAt!)) }
            summary.sinceLastUpdate = max(0, end - previous)
            for gap in gaps where gap.duration > 0 {
                if summary.longestGap == nil || gap.duration > summary.longestGap!.duration { summary.longestGap = gap }
                if gap.duration > cadenceLimit {
                    summary.cadenceBreaches.append(gap)
                    addBreach(Breach(kind: .cadence, matter: matter, seq: nil, start: gap.start, end: gap.end, measured: gap.duration,
                                     limit: cadenceLimit, metBy: nil, open: gap.ongoing))
                    breachMonths[matter, default: []].insert(monthIndex(gap.start + cadenceLimit))
                }
            }

            let outbounds = indices.filter { items[$0].direction == "outbound" }
            // Binary search: the first of `list` strictly after position (time, seq).
            func firstAfter(_ list: [Int], _ item: Item) -> Int? {
                var lo = 0, hi = list.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    let u = items[list[mid]]
                    if (u.at, u.seq) > (item.at, item.seq) { hi = mid } else { lo = mid + 1 }
                }
                return lo < list.count ? list[lo] : nil
            }
            func firstUpdate(after item: Item) -> Int? { firstAfter(updates, item) }
            // Acknowledgement: any outbound contact, corrections included.
            func firstOutbound(after item: Item) -> Int? { firstAfter(outbounds, item) }

            for i in indices {
                let item = items[i]
                // Inquiries.
                if item.direction == "inbound" && item.kind == "inquiry" {
                    var inquiry = Inquiry(seq: item.seq, matter: matter, at: item.at, channel: item.string("channel"))
                    inquiry.respondLimit = limits.respondWithinHours * 3_600_000_000
                    inquiry.acknowledgeLimit = limits.acknowledgeWithinHours * 3_600_000_000
                    var responseIndex: Int?
                    if let r = explicitReply[item.seq], items[r].matter == matter, items[r].at >= item.at {
                        responseIndex = r
                    } else if let r = firstUpdate(after: item) {
                        responseIndex = r
                        inquiry.inferred = true
                    }
                    if let r = responseIndex {
                        let response = items[r]
                        inquiry.responseSeq = response.seq
                        inquiry.responseAt = response.at
                        inquiry.responder = response.string("author")
                        let t = clock.elapsed(item.at, response.at)
                        inquiry.responseTime = t
                        allTimes.append(t)
                        authorTimes[inquiry.responder ?? "(unknown)", default: []].append(t)
                        channelTimes[inquiry.channel ?? "(unknown)", default: []].append(t)
                    } else {
                        inquiry.openAge = clock.elapsed(item.at, asOf)
                    }
                    var ackIndex = firstOutbound(after: item)
                    if let r = responseIndex, ackIndex == nil || (items[r].at, items[r].seq) < (items[ackIndex!].at, items[ackIndex!].seq) {
                        ackIndex = r
                    }
                    if let a = ackIndex {
                        inquiry.acknowledgementSeq = items[a].seq
                        inquiry.acknowledgementTime = clock.elapsed(item.at, items[a].at)
                    }
                    if inquiry.isOpen {
                        if inquiry.respondBreached || inquiry.acknowledgeBreached {
                            let limit = inquiry.acknowledgeBreached && inquiry.acknowledgementSeq == nil ? inquiry.acknowledgeLimit : inquiry.respondLimit
                            addBreach(Breach(kind: .openInquiry, matter: matter, seq: item.seq, start: item.at, end: asOf,
                                             measured: inquiry.openAge ?? 0, limit: limit, metBy: nil, open: true))
                            breachMonths[matter, default: []].insert(monthIndex(asOf))
                        }
                    } else if inquiry.respondBreached {
                        addBreach(Breach(kind: .respond, matter: matter, seq: item.seq, start: item.at, end: inquiry.responseAt!,
                                         measured: inquiry.responseTime!, limit: inquiry.respondLimit, metBy: inquiry.responseSeq,
                                         inferred: inquiry.inferred))
                        breachMonths[matter, default: []].insert(monthIndex(item.at))
                    }
                    if let ack = inquiry.acknowledgementTime, ack > inquiry.acknowledgeLimit {
                        addBreach(Breach(kind: .acknowledge, matter: matter, seq: item.seq, start: item.at,
                                         end: items[ackIndex!].at, measured: ack, limit: inquiry.acknowledgeLimit,
                                         metBy: inquiry.acknowledgementSeq))
                        breachMonths[matter, default: []].insert(monthIndex(item.at))
                    }
                    inquiries.append(inquiry)
                    inquiryPoints.append((monthIndex(item.at), matter))
                }
                // Urgent developments (an outbound one is itself the update).
                if item.direction != "outbound",
                   Self.urgentKinds.contains(item.kind ?? "") || item.string("urgency") == "urgent" {
                    let limit = limits.urgentUpdateWithinHours * 3_600_000_000
                    if let u = firstUpdate(after: item) {
                        let t = clock.elapsed(item.at, items[u].at)
                        if t > limit {
                            addBreach(Breach(kind: .urgent, matter: matter, seq: item.seq, start: item.at, end: items[u].at,
                                             measured: t, limit: limit, metBy: items[u].seq))
                            breachMonths[matter, default: []].insert(monthIndex(item.at))
                        }
                    } else {
                        let stop = closedAt.map { min($0, asOf) } ?? asOf
                        let t = clock.elapsed(item.at, stop)
                        if t > limit {
                            addBreach(Breach(kind: .urgent, matter: matter, seq: item.seq, start: item.at, end: stop,
                                             measured: t, limit: limit, metBy: nil, open: true))
                            breachMonths[matter, default: []].insert(monthIndex(item.at))
                        }
                    }
                }
                // Promises: followUpDue passed with no outbound update after the promise and by the end of that day.
                if let due = item.string("followUpDue"), let dueDay = Timestamp.parseDate(due) {
                    let deadline = clock.endOfLocalDay(dueDay)
                    if deadline <= asOf, closedAt.map({ deadline < $0 }) ?? true {
                        let next = firstUpdate(after: item)
                        if next == nil || items[next!].at >= deadline {
                            addBreach(Breach(kind: .promise, matter: matter, seq: item.seq, start: item.at, end: deadline,
                                             measured: deadline - item.at, limit: deadline - item.at,
                                             metBy: next.map { items[$0].seq }, open: next == nil))
                            breachMonths[matter, default: []].insert(monthIndex(deadline))
                        }
                    }
                }
            }
            summary.breachCount = breachesByMatter[matter] ?? 0
            matters.append(summary)
        }
        inquiries.sort { ($0.at, $0.seq) < ($1.at, $1.seq) }
        breaches.sort { (BreachKind.allCases.firstIndex(of: $0.kind)!, $0.matter, $0.start, $0.seq ?? 0)
            < (BreachKind.allCases.firstIndex(of: $1.kind)!, $1.matter, $1.start, $1.seq ?? 0) }
        overall = Self.stats(allTimes)
        byAuthor = authorTimes.keys.sorted().map { ($0, Self.stats(authorTimes[$0]!)!) }
        byChannel = channelTimes.keys.sorted().map { ($0, Self.stats(channelTimes[$0]!)!) }

        // Corrections, next to the entry they correct.
        for item in items {
            guard let target = item.fields["corrects"]?.integerValue, target >= 0 else { continue }
            let original = bySeq[UInt64(target)]
            corrections.append(Correction(seq: item.seq, at: item.at, author: item.string("author"), corrects: UInt64(target),
                                          correctedAt: original?["occurredAt"]?.stringValue.flatMap(Timestamp.parseRFC3339),
                                          correctedKind: original?["kind"]?.stringValue,
                                          correctedAuthor: original?["author"]?.stringValue, matter: item.matter))
        }

        // Monthly trend: of the matters open in a month (first entry at or before its end, not closed before its start),
        // those with no breach dated in that month.
        if let first = items.first {
            let startMonth = monthIndex(first.at), endMonth = monthIndex(asOf)
            var month = startMonth
            while month <= endMonth && endMonth - startMonth < 1200 {
                var open = 0, ok = 0
                for summary in matters {
                    let firstMonth = monthIndex(summary.firstAt)
                    if firstMonth > month { continue }
                    if let closed = summary.closedAt, monthIndex(closed) < month { continue }
                    open += 1
                    if !(breachMonths[summary.matter]?.contains(month) ?? false) { ok += 1 }
                }
                let y = month / 12, m = month % 12 + 1
                trend.append(MonthCompliance(month: "\(y)-\(m < 10 ? "0" : "")\(m)", matters: open, compliant: ok))
                month += 1
            }
        }
    }

    /// Nearest-rank statistics: the p-th percentile is the ⌈p·n/100⌉-th smallest value (median = p50).
    package static func stats(_ values: [Int64]) -> Stats? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ p: Int) -> Int64 { sorted[max(0, (p * sorted.count + 99) / 100 - 1)] }
        return Stats(count: sorted.count, median: rank(50), p90: rank(90), max: sorted.last!)
    }
}
