import LedgerSupport
import RecordFormats

/// Deterministic, realistic client-communication records (~1 KiB of JSON each) for the demo and `ledger bench`.
/// Synthetic text only: no real client data.
public struct SampleRecords {
    private var rng: SplitMix64
    public let matterCount: Int

    public init(seed: UInt64 = 0x1ed9e5, matterCount: Int = 100) {
        rng = SplitMix64(seed: seed)
        self.matterCount = matterCount
    }

    package static let authors = ["a.okafor", "b.lindqvist", "c.moreau", "d.tanaka", "e.silva",
                                  "f.nguyen", "g.kowalski", "h.osei"]
    package static let channels = ["email", "phone", "portal", "secure-message", "video", "in-person", "letter"]
    package static let phrases = [
        "Reviewed the draft settlement terms with the client and explained the release clause in detail.",
        "Client asked whether the limitation period affects the counterclaim; we confirmed the dates on file.",
        "Summarised the expert report and the likely questions at the deposition next month.",
        "Discussed the cost estimate for the next phase and the options for staged billing.",
        "Explained the court's scheduling order and what documents the client must gather by the deadline.",
        "Client confirmed receipt of the disclosure bundle and raised two questions about privilege.",
        "We advised against responding to the opposing party directly and agreed a holding reply.",
        "Walked through the mediation process, the mediator's background and a realistic settlement range.",
        "Client reported new correspondence from the insurer; we will review it and update them by Friday.",
        "Agreed next steps: file the amended pleading, notify the client once served, and diarise the hearing.",
    ]

    /// The i-th record as a JSON object (deterministic for a given seed and index order).
    public mutating func next(index: Int) -> JSONValue {
        let matterNumber = Int(rng.next() % UInt64(matterCount))
        let channel = pick(Self.channels)
        let inbound = rng.next() % 3 == 0
        let day = index / 50
        let month = 1 + (day / 28) % 12
        let year = 2024 + day / 336
        let occurredAt = "\(year)-\(two(month))-\(two(1 + day % 28))T\(two(8 + index % 10)):\(two(index % 60)):00+01:00"
        var summary = ""
        while summary.utf8.count < 520 { summary += (summary.isEmpty ? "" : " ") + pick(Self.phrases) }
        var members: [(String, JSONValue)] = [
            ("matter", .string("M-2026-\(four(matterNumber))")),
            ("client", .string("Client \(matterNumber) Holdings Ltd")),
            ("author", .string(pick(Self.authors))),
            ("channel", .string(channel)),
            ("direction", .string(inbound ? "inbound" : "outbound")),
            ("kind", .string(inbound ? "inquiry" : pick(["update", "advice", "response", "meeting"]))),
            ("occurredAt", .string(occurredAt)),
            ("subject", .string("Matter \(matterNumber): "
                                + "\(pick(["case update", "settlement", "disclosure", "hearing", "costs"]))")),
            ("summary", .string(summary)),
            ("recipients", .array([.string("client\(matterNumber)@example.com")])),
            ("tags", .array([.string("litigation"), .string(pick(["priority", "routine", "billing"]))])),
            ("sourceSystem", .string("pms")),
            ("sourceId", .string("comm-\(index)")),
        ]
        if channel == "phone" || channel == "video" {
            members.append(("durationMinutes", .integer(Int64(5 + rng.next() % 55))))
            members.append(("outcome", .string("spoke")))
        }
        if !inbound && rng.next() % 4 == 0 {
            members.append(("decisions",
                            .string("Client instructed us to proceed with the proposed course of action.")))
            members.append(("followUpDue", .string("\(year)-\(two(month))-\(two(min(28, 1 + day % 28 + 7)))")))
        }
        return .object(JSONObject(members))
    }

    /// `count` records as JSON lines.
    public mutating func jsonLines(count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count * 1100)
        for i in 0..<count {
            JSONWriter.write(next(index: i), into: &out)
            out.append(0x0a)
        }
        return out
    }

    private mutating func pick(_ items: [String]) -> String { items[Int(rng.next() % UInt64(items.count))] }
    private func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    private func four(_ v: Int) -> String { String(repeating: "0", count: max(0, 4 - String(v).count)) + String(v) }
}

