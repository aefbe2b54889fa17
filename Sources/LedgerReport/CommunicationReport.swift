import LedgerFormat
import RecordFormats

/// One record the report reads: its seq (ledger seq, or bundle leaf index) and its fields (all, or a bundle's
/// revealed ones).
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
    /// Who read what (from the ledger's access entries, master key only); nil for bundle reports.
    public var access: AccessReport?
    /// Destroyed matters among those reported on (ledger reports); nil for bundle reports.
    public var destroyed: [DestroyedMatterSummary]?
    /// Recorded exports of the reported matters (ledger reports, master key); nil otherwise.
    public var exports: [ExportedBundle]?

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
    /// Breaches, or reads without a grant (which the engine never writes: someone forged the log).
    public var hasBreaches: Bool { !breaches.isEmpty || !(access?.flagged.isEmpty ?? true) }

    package static let urgentKinds: Set<String> = ["court-ruling", "deadline", "settlement"]

    // MARK: - Computation

    /// Computes the report. `records` in any order; ties on occurredAt are broken by seq.
    public init(records input: [ReportRecord], policy: ReportPolicy = ReportPolicy(), asOf: Int64) {
        var builder = ReportBuilder(records: input, policy: policy, asOf: asOf)
        for matter in builder.groups.keys.sorted() { builder.addMatter(matter) }
        builder.sortAndSummarize()
        builder.addCorrections()
        builder.addTrend()
        self = builder.report
    }

    /// An empty report, for `ReportBuilder` to fill in.
    fileprivate init(asOf: Int64, businessHours: Bool) {
        self.asOf = asOf
        self.businessHours = businessHours
    }

    /// Nearest-rank statistics: the p-th percentile is the ⌈p·n/100⌉-th smallest value (median = p50).
    package static func stats(_ values: [Int64]) -> Stats? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ p: Int) -> Int64 { sorted[max(0, (p * sorted.count + 99) / 100 - 1)] }
        return Stats(count: sorted.count, median: rank(50), p90: rank(90), max: sorted.last!)
    }
}

/// One computation of a `CommunicationReport`: the dated records in time order, grouped by matter, and the
/// tallies the matters add to (breaches, response times, months with a breach) until the report is complete.
private struct ReportBuilder {
    typealias Gap = CommunicationReport.Gap
    typealias Breach = CommunicationReport.Breach
    typealias Inquiry = CommunicationReport.Inquiry
    typealias MatterSummary = CommunicationReport.MatterSummary

    /// A record with a matter and an occurredAt at or before the report time.
    struct Item {
        var seq: UInt64
        var at: Int64
        var matter: String
        var fields: JSONObject
        var direction: String?
        var kind: String?
        func string(_ k: String) -> String? { fields[k]?.stringValue }
        /// An outbound entry other than a correction: what the cadence counts and what answers an inquiry.
        var isUpdate: Bool { direction == "outbound" && kind != "correction" }
    }

    /// One matter while it is scanned: its items (positions in `items`, in time order) and what bounds it.
    struct Matter {
        var name: String
        var indices: [Int]
        var limits: MatterLimits
        var closedAt: Int64?
        /// The report time, or closedAt when earlier.
        var end: Int64
        /// Its outbound updates: the cadence, inferred responses and follow-ups.
        var updates: [Int]
        /// Its outbound entries of any kind, corrections included: what acknowledges an inquiry.
        var outbounds: [Int]
    }

    let policy: ReportPolicy
    let asOf: Int64
    let clock: BusinessClock
    var report: CommunicationReport
    /// The dated records, in (occurredAt, seq) order.
    var items = [Item]()
    /// Every record's fields by seq (undated ones too): what corrections point at.
    var bySeq = [UInt64: JSONObject]()
    /// Matter → positions of its items.
    var groups = [String: [Int]]()
    /// Explicit replies: inquiry seq → position of the earliest outbound entry naming it.
    var explicitReply = [UInt64: Int]()
    var breachesByMatter = [String: Int]()
    /// Matter → months (`monthIndex`) with a breach dated in them.
    var breachMonths = [String: Set<Int64>]()
    var authorTimes = [String: [Int64]]()
    var channelTimes = [String: [Int64]]()
    var allTimes = [Int64]()

    init(records input: [ReportRecord], policy: ReportPolicy, asOf: Int64) {
        self.policy = policy
        self.asOf = asOf
        clock = BusinessClock(policy.businessHours)
        report = CommunicationReport(asOf: asOf, businessHours: policy.businessHours != nil)
        collectItems(input)
        groupAndLinkReplies()
    }

    // MARK: Records

    /// Keeps the records with a matter and a valid occurredAt up to the report time, in (occurredAt, seq) order.
    private mutating func collectItems(_ input: [ReportRecord]) {
        items.reserveCapacity(input.count)
        bySeq.reserveCapacity(input.count)
        for record in input {
            report.records += 1
            bySeq[record.seq] = record.fields
            guard let matter = record.fields["matter"]?.stringValue,
                  let at = record.fields["occurredAt"]?.stringValue.flatMap(Timestamp.parseRFC3339),
                  at <= asOf else {
                report.skipped += 1
                continue
            }
            items.append(Item(seq: record.seq, at: at, matter: matter, fields: record.fields,
                              direction: record.fields["direction"]?.stringValue,
                              kind: record.fields["kind"]?.stringValue))
        }
        items.sort { ($0.at, $0.seq) < ($1.at, $1.seq) }
    }

    /// Groups the items by matter and finds each inquiry's explicit reply: the earliest outbound entry whose
    /// `inReplyTo` names it ("#seq", or its sourceId).
    private mutating func groupAndLinkReplies() {
        var sourceIDs = [String: UInt64]()
        for item in items {
            if let id = item.string("sourceId"), sourceIDs[id] == nil { sourceIDs[id] = item.seq }
        }
        func referencedSeq(_ ref: String) -> UInt64? {
            if ref.hasPrefix("#"), let seq = UInt64(ref.dropFirst()) { return seq }
            return sourceIDs[ref]
        }
        for (i, item) in items.enumerated() {
            groups[item.matter, default: []].append(i)
            if item.direction == "outbound", let ref = item.string("inReplyTo"), let target = referencedSeq(ref),
               explicitReply[target] == nil {
                explicitReply[target] = i
            }
        }
    }

    // MARK: Matters

    /// Adds one matter: its summary, its cadence gaps, and the breaches of its inquiries, urgent developments
    /// and promises.
    mutating func addMatter(_ name: String) {
        let matter = makeMatter(name)
        var summary = MatterSummary(matter: name)
        summary.entries = matter.indices.count
        summary.outboundUpdates = matter.updates.count
        summary.firstAt = items[matter.indices[0]].at
        summary.lastUpdateAt = matter.updates.last.map { items[$0].at }
        summary.closedAt = matter.closedAt
        summary.limits = matter.limits
        addCadence(of: matter, to: &summary)
        for i in matter.indices {
            let item = items[i]
            if item.direction == "inbound" && item.kind == "inquiry" { addInquiry(item, in: matter) }
            // Urgent developments (an outbound one is itself the update).
            if item.direction != "outbound",
               CommunicationReport.urgentKinds.contains(item.kind ?? "") || item.string("urgency") == "urgent" {
                addUrgentDevelopment(item, in: matter)
            }
            if let due = item.string("followUpDue"), let dueDay = Timestamp.parseDate(due) {
                addPromise(item, dueDay: dueDay, in: matter)
            }
        }
        summary.breachCount = breachesByMatter[name] ?? 0
        report.matters.append(summary)
    }

    private func makeMatter(_ name: String) -> Matter {
        let indices = groups[name]!
        let closedAt = policy.closed[name]
        return Matter(name: name, indices: indices, limits: policy.limits(for: name), closedAt: closedAt,
                      end: min(asOf, closedAt ?? asOf),
                      updates: indices.filter { items[$0].isUpdate },
                      outbounds: indices.filter { items[$0].direction == "outbound" })
    }

    /// Cadence: the gaps from the matter's first entry through each update up to its end, then to the report
    /// time (or closedAt). Each one longer than `updateEveryDays` is a breach.
    private mutating func addCadence(of matter: Matter, to summary: inout MatterSummary) {
        let points = updatePoints(of: matter, from: summary.firstAt)
        summary.sinceLastUpdate = max(0, matter.end - points.last!)
        let cadenceLimit = matter.limits.updateEveryDays * 86_400_000_000
        for gap in gaps(between: points, in: matter) where gap.duration > 0 {
            if summary.longestGap == nil || gap.duration > summary.longestGap!.duration { summary.longestGap = gap }
            if gap.duration > cadenceLimit {
                summary.cadenceBreaches.append(gap)
                addBreach(Breach(kind: .cadence, matter: matter.name, seq: nil, start: gap.start, end: gap.end,
                                 measured: gap.duration, limit: cadenceLimit, metBy: nil, open: gap.ongoing),
                          datedAt: gap.start + cadenceLimit)
            }
        }
    }

    /// The matter's first entry, then each update up to its end (each also a tick of the HTML timeline).
    private mutating func updatePoints(of matter: Matter, from firstAt: Int64) -> [Int64] {
        var points = [firstAt]
        for u in matter.updates where items[u].at <= matter.end {
            points.append(items[u].at)
            report.updates.append((matter.name, items[u].at))
        }
        return points
    }

    /// The gaps between consecutive points, then from the last to the matter's end (ongoing unless closed by then).
    private func gaps(between points: [Int64], in matter: Matter) -> [Gap] {
        var gaps = zip(points, points.dropFirst()).map { Gap(start: $0, end: $1, ongoing: false) }
        let last = points.last!
        if matter.end > last {
            gaps.append(Gap(start: last, end: matter.end, ongoing: matter.closedAt.map { asOf < $0 } ?? true))
        }
        return gaps
    }

    // MARK: Inquiries

    /// An inbound inquiry: its response (the entry its `inReplyTo` names, else the next update: inferred), its
    /// acknowledgement (the first outbound contact, or the response when earlier), their times and breaches.
    private mutating func addInquiry(_ item: Item, in matter: Matter) {
        var inquiry = Inquiry(seq: item.seq, matter: matter.name, at: item.at, channel: item.string("channel"))
        inquiry.respondLimit = matter.limits.respondWithinHours * 3_600_000_000
        inquiry.acknowledgeLimit = matter.limits.acknowledgeWithinHours * 3_600_000_000
        let responseIndex = response(to: item, in: matter, inferred: &inquiry.inferred)
        if let r = responseIndex {
            recordResponse(items[r], in: &inquiry)
        } else {
            inquiry.openAge = clock.elapsed(item.at, asOf)
        }
        let ackIndex = acknowledgement(of: item, response: responseIndex, in: matter)
        if let a = ackIndex {
            inquiry.acknowledgementSeq = items[a].seq
            inquiry.acknowledgementTime = clock.elapsed(item.at, items[a].at)
        }
        addBreaches(of: inquiry, acknowledgedAt: ackIndex.map { items[$0].at })
        report.inquiries.append(inquiry)
    }

    /// The position of an inquiry's response: the entry naming it, when in the same matter and not before it;
    /// else the matter's next update (then `inferred` is set).
    private func response(to item: Item, in matter: Matter, inferred: inout Bool) -> Int? {
        if let r = explicitReply[item.seq], items[r].matter == matter.name, items[r].at >= item.at { return r }
        guard let r = firstAfter(matter.updates, item) else { return nil }
        inferred = true
        return r
    }

    /// Fills in the response and adds its time to the response-time statistics.
    private mutating func recordResponse(_ response: Item, in inquiry: inout Inquiry) {
        inquiry.responseSeq = response.seq
        inquiry.responseAt = response.at
        inquiry.responder = response.string("author")
        let t = clock.elapsed(inquiry.at, response.at)
        inquiry.responseTime = t
        allTimes.append(t)
        authorTimes[inquiry.responder ?? "(unknown)", default: []].append(t)
        channelTimes[inquiry.channel ?? "(unknown)", default: []].append(t)
    }

    /// The position of an inquiry's acknowledgement: its first outbound contact of any kind (corrections
    /// included), or its response when that comes first.
    private func acknowledgement(of item: Item, response: Int?, in matter: Matter) -> Int? {
        let contact = firstAfter(matter.outbounds, item)
        guard let r = response else { return contact }
        guard let a = contact else { return r }
        return (items[r].at, items[r].seq) < (items[a].at, items[a].seq) ? r : a
    }

    /// An open inquiry past either limit, a late response, a late acknowledgement.
    private mutating func addBreaches(of inquiry: Inquiry, acknowledgedAt: Int64?) {
        if inquiry.isOpen {
            if inquiry.respondBreached || inquiry.acknowledgeBreached {
                let unacknowledged = inquiry.acknowledgeBreached && inquiry.acknowledgementSeq == nil
                addBreach(Breach(kind: .openInquiry, matter: inquiry.matter, seq: inquiry.seq, start: inquiry.at,
                                 end: asOf, measured: inquiry.openAge ?? 0,
                                 limit: unacknowledged ? inquiry.acknowledgeLimit : inquiry.respondLimit,
                                 metBy: nil, open: true),
                          datedAt: asOf)
            }
        } else if inquiry.respondBreached {
            addBreach(Breach(kind: .respond, matter: inquiry.matter, seq: inquiry.seq, start: inquiry.at,
                             end: inquiry.responseAt!, measured: inquiry.responseTime!, limit: inquiry.respondLimit,
                             metBy: inquiry.responseSeq, inferred: inquiry.inferred),
                      datedAt: inquiry.at)
        }
        if let ack = inquiry.acknowledgementTime, ack > inquiry.acknowledgeLimit, let acknowledgedAt {
            addBreach(Breach(kind: .acknowledge, matter: inquiry.matter, seq: inquiry.seq, start: inquiry.at,
                             end: acknowledgedAt, measured: ack, limit: inquiry.acknowledgeLimit,
                             metBy: inquiry.acknowledgementSeq),
                      datedAt: inquiry.at)
        }
    }

    // MARK: Developments and promises

    /// An urgent development: an update must follow within `urgentUpdateWithinHours` (counted to the matter's
    /// end while none has).
    private mutating func addUrgentDevelopment(_ item: Item, in matter: Matter) {
        let limit = matter.limits.urgentUpdateWithinHours * 3_600_000_000
        let update = firstAfter(matter.updates, item)
        let stop = update.map { items[$0].at } ?? matter.end
        let t = clock.elapsed(item.at, stop)
        guard t > limit else { return }
        addBreach(Breach(kind: .urgent, matter: matter.name, seq: item.seq, start: item.at, end: stop,
                         measured: t, limit: limit, metBy: update.map { items[$0].seq }, open: update == nil),
                  datedAt: item.at)
    }

    /// A promise: `followUpDue` has passed (before any closedAt) with no update after the promise and by the end
    /// of that day.
    private mutating func addPromise(_ item: Item, dueDay: Int64, in matter: Matter) {
        let deadline = clock.endOfLocalDay(dueDay)
        guard deadline <= asOf, matter.closedAt.map({ deadline < $0 }) ?? true else { return }
        let next = firstAfter(matter.updates, item)
        if let n = next, items[n].at < deadline { return }
        addBreach(Breach(kind: .promise, matter: matter.name, seq: item.seq, start: item.at, end: deadline,
                         measured: deadline - item.at, limit: deadline - item.at,
                         metBy: next.map { items[$0].seq }, open: next == nil),
                  datedAt: deadline)
    }

    /// Binary search: the first of `list` (positions in time order) strictly after `item`'s (occurredAt, seq).
    private func firstAfter(_ list: [Int], _ item: Item) -> Int? {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let u = items[list[mid]]
            if (u.at, u.seq) > (item.at, item.seq) { hi = mid } else { lo = mid + 1 }
        }
        return lo < list.count ? list[lo] : nil
    }

    /// Records a breach, dated for the monthly trend in the month of `date`.
    private mutating func addBreach(_ breach: Breach, datedAt date: Int64) {
        report.breaches.append(breach)
        breachesByMatter[breach.matter, default: 0] += 1
        breachMonths[breach.matter, default: []].insert(Self.monthIndex(date))
    }

    // MARK: Totals

    /// Puts the inquiries in time order and the breaches in report order; sums up the response times.
    mutating func sortAndSummarize() {
        report.inquiries.sort { ($0.at, $0.seq) < ($1.at, $1.seq) }
        report.breaches.sort { (BreachKind.allCases.firstIndex(of: $0.kind)!, $0.matter, $0.start, $0.seq ?? 0)
            < (BreachKind.allCases.firstIndex(of: $1.kind)!, $1.matter, $1.start, $1.seq ?? 0) }
        report.overall = CommunicationReport.stats(allTimes)
        report.byAuthor = authorTimes.keys.sorted().map { ($0, CommunicationReport.stats(authorTimes[$0]!)!) }
        report.byChannel = channelTimes.keys.sorted().map { ($0, CommunicationReport.stats(channelTimes[$0]!)!) }
    }

    /// Corrections, next to the entry they correct.
    mutating func addCorrections() {
        for item in items {
            guard let target = item.fields["corrects"]?.integerValue, target >= 0 else { continue }
            let original = bySeq[UInt64(target)]
            report.corrections.append(CommunicationReport.Correction(
                seq: item.seq, at: item.at, author: item.string("author"), corrects: UInt64(target),
                correctedAt: original?["occurredAt"]?.stringValue.flatMap(Timestamp.parseRFC3339),
                correctedKind: original?["kind"]?.stringValue,
                correctedAuthor: original?["author"]?.stringValue, matter: item.matter))
        }
    }

    /// The monthly trend, each UTC month from the first record to the report time (at most 100 years).
    mutating func addTrend() {
        guard let first = items.first else { return }
        let startMonth = Self.monthIndex(first.at), endMonth = Self.monthIndex(asOf)
        guard endMonth - startMonth < 1200 else { return }
        for month in stride(from: startMonth, through: endMonth, by: 1) {
            report.trend.append(compliance(in: month))
        }
    }

    /// Of the matters open in a month (first entry at or before its end, not closed before its start), those with
    /// no breach dated in that month.
    private func compliance(in month: Int64) -> CommunicationReport.MonthCompliance {
        var open = 0, ok = 0
        for summary in report.matters {
            if Self.monthIndex(summary.firstAt) > month { continue }
            if let closed = summary.closedAt, Self.monthIndex(closed) < month { continue }
            open += 1
            if !(breachMonths[summary.matter]?.contains(month) ?? false) { ok += 1 }
        }
        let y = month / 12, m = month % 12 + 1
        return CommunicationReport.MonthCompliance(month: "\(y)-\(m < 10 ? "0" : "")\(m)", matters: open, compliant: ok)
    }

    /// The UTC month holding `t`, as year × 12 + month − 1.
    static func monthIndex(_ t: Int64) -> Int64 {
        let days = t >= 0 ? t / 86_400_000_000 : (t - 86_399_999_999) / 86_400_000_000
        let (y, m, _) = Timestamp.civil(fromDays: Int(days))
        return Int64(y * 12 + m - 1)
    }
}
