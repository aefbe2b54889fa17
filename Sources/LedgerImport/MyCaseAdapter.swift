import Foundation
import LedgerFormat
import RecordFormats

/// MyCase call logs (a JSON array, `{"data":[...]}`, or CSV); mapping in docs/IMPORT.md, "MyCase".
public struct MyCaseAdapter: PracticeAdapter {
    public let sourceSystem = "mycase"
    let time: SourceTime
    let envelopes = ["data", "call_logs"]

    public init(time: SourceTime = SourceTime()) { self.time = time }

    func map(_ fields: SourceFields) throws(RecordError) -> JSONValue {
        var record = RecordBuilder(sourceSystem: sourceSystem, sourceId: try fields.id("id"))
        record.set("matter", try matter(fields))
        record.set("author", try staff(fields))
        record.set("channel", "phone")
        // call_type: incoming → inbound, outgoing → outbound
        switch try fields.requiredString("call_type").lowercased() {
        case "incoming": record.set("direction", "inbound")
        case "outgoing": record.set("direction", "outbound")
        default: throw fields.error("call_type", "must be incoming or outgoing")
        }
        record.set("occurredAt", try occurredAt(fields, "called_at", time: time))
        record.set("summary", try fields.string("message"))
        // resolved: true → the tag "resolved"
        if try fields.bool("resolved") == true { record.set("tags", ["resolved"]) }
        return record.value
    }

    /// matter ← case.case_number, else case.id; in CSV the column `case_number`.
    func matter(_ fields: SourceFields) throws(RecordError) -> String {
        if let number = try fields.string("case_number") { return number }
        guard let reference = try fields.object("case") else {
            throw fields.error("case", "is missing: a call log must name its case")
        }
        if let number = try reference.string("case_number") { return number }
        return try reference.id("id")
    }

    /// author ← call_for: the staff member's name, or an object with `name`.
    func staff(_ fields: SourceFields) throws(RecordError) -> String {
        if case .object = fields.value("call_for"), let user = try fields.object("call_for") {
            return try user.requiredString("name")
        }
        return try fields.requiredString("call_for")
    }
}
