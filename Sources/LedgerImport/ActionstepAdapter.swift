import Foundation
import LedgerFormat
import RecordFormats

/// Actionstep phone records (`{"phonerecords":[...]}` as its API returns, or a bare array); mapping in
/// docs/IMPORT.md, "Actionstep".
public struct ActionstepAdapter: PracticeAdapter {
    public let sourceSystem = "actionstep"
    let time: SourceTime
    let envelopes = ["phonerecords", "data"]

    public init(time: SourceTime = SourceTime()) { self.time = time }

    func map(_ fields: SourceFields) throws(RecordError) -> JSONValue {
        var record = RecordBuilder(sourceSystem: sourceSystem, sourceId: try fields.id("id"))
        guard let links = try fields.object("links") else { throw fields.error("links", "is missing") }
        record.set("matter", try links.id("action"))  // matter ← links.action, the matter (action) id
        record.set("author", try fields.requiredString("enteredBy"))
        record.set("channel", "phone")
        // direction: in → inbound, out → outbound
        switch try fields.requiredString("direction").lowercased() {
        case "in": record.set("direction", "inbound")
        case "out": record.set("direction", "outbound")
        default: throw fields.error("direction", "must be in or out")
        }
        record.set("occurredAt", try occurredAt(fields, "callTimestamp", time: time))
        record.set("durationMinutes", try minutes(fields))
        record.set("summary", try fields.string("notes"))
        if let outcome = try fields.string("outcome") {
            // outcome: the table in docs/IMPORT.md; anything else is kept as x-outcome
            if let mapped = Self.outcomes[Self.normalised(outcome)] { record.set("outcome", mapped) }
            else { record.set("x-outcome", outcome) }
        }
        return record.value
    }

    /// durationMinutes ← actualHours × 60, rounded to the nearest minute (half away from zero).
    func minutes(_ fields: SourceFields) throws(RecordError) -> Int64? {
        guard let hours = try fields.number("actualHours") else { return nil }
        guard (0...16_000).contains(hours) else { throw fields.error("actualHours", "must be 0 to 16000 hours") }
        // Exactly from the decimal text where it is plain (1.025 h is 61.5 min: 62), not through a binary double.
        if let text = fields.numberText("actualHours"), let exact = DecimalText.scaled(text, by: 60) { return exact }
        return Int64((hours * 60).rounded())
    }

    /// Outcome text in lower case with `-`, `_` and runs of spaces as one space.
    static func normalised(_ text: String) -> String {
        text.lowercased().split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "_" }).joined(separator: " ")
    }

    /// Actionstep outcome (normalised) → our `outcome`.
    static let outcomes: [String: String] = [
        "spoke": "spoke", "spoke to client": "spoke", "spoke to contact": "spoke", "answered": "spoke",
        "connected": "spoke", "completed": "spoke",
        "left message": "left-message", "left voicemail": "left-message", "voicemail": "left-message",
        "left msg": "left-message",
        "no answer": "no-answer", "not answered": "no-answer", "busy": "no-answer", "unanswered": "no-answer",
    ]
}
