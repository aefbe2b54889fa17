import Foundation
import LedgerFormat
import RecordFormats

/// PracticePanther call logs and emails (a JSON array, `{"data":[...]}`, or CSV); a record with `call_direction` or
/// `duration` is a call, one with `from` or `to` an email. Mapping in docs/IMPORT.md, "PracticePanther".
public struct PracticePantherAdapter: PracticeAdapter {
    public let sourceSystem = "practicepanther"
    let time: SourceTime
    let envelopes = ["data", "value"]

    public init(time: SourceTime = SourceTime()) { self.time = time }

    func map(_ fields: SourceFields) throws(RecordError) -> JSONValue {
        // Calls and emails are separate entities in PracticePanther, each with its own ids: the kind prefixes the id
        // (`call:ID`, `email:ID`), so a call and an email with the same id are never taken for duplicates.
        let id = try fields.id("id")
        let isCall = fields.value("call_direction") != nil || fields.value("duration") != nil
        let isEmail = !isCall && (fields.value("from") != nil || fields.value("to") != nil)
        var record = RecordBuilder(sourceSystem: sourceSystem, sourceId: (isCall ? "call:" : "email:") + id)
        record.set("matter", try matter(fields))
        if isCall {
            try mapCall(fields, into: &record)
        } else if isEmail {
            try mapEmail(fields, into: &record)
        } else {
            throw fields.error("call_direction", "is missing: the record is neither a call nor an email (from)")
        }
        record.set("occurredAt", try occurredAt(fields, "date", time: time))
        record.set("subject", try fields.string("subject"))
        record.set("tags", try stringList(fields, "tags"))
        return record.value
    }

    /// matter ← matter_ref: a string (the matter's name or number) or an object's `display_name`.
    func matter(_ fields: SourceFields) throws(RecordError) -> String {
        if case .object = fields.value("matter_ref"), let ref = try fields.object("matter_ref") {
            return try ref.requiredString("display_name")
        }
        return try fields.requiredString("matter_ref")
    }

    func mapCall(_ fields: SourceFields, into record: inout RecordBuilder) throws(RecordError) {
        // call_direction: Inbound → inbound, Outbound → outbound (any case)
        switch try fields.requiredString("call_direction").lowercased() {
        case "inbound": record.set("direction", "inbound")
        case "outbound": record.set("direction", "outbound")
        default: throw fields.error("call_direction", "must be Inbound or Outbound")
        }
        guard let author = try users(fields).first else {
            throw fields.error("assigned_to_users", "is missing or empty: the call needs its staff member")
        }
        record.set("author", author)
        record.set("channel", "phone")
        record.set("durationMinutes", try duration(fields))
        record.set("summary", try fields.string("notes"))
    }

    /// duration: whole minutes (a number, rounded) or `h:mm`.
    func duration(_ fields: SourceFields) throws(RecordError) -> Int64? {
        if case .string(let text)? = fields.value("duration"), text.contains(":") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int64($0) }
            guard parts.count == 2, let hours = parts[0], let minutes = parts[1],
                  (0...16_000).contains(hours), (0..<60).contains(minutes) else {
                throw fields.error("duration", "must be minutes or h:mm")
            }
            return hours * 60 + minutes
        }
        guard let minutes = try fields.number("duration") else { return nil }
        guard (0...1_000_000).contains(minutes) else { throw fields.error("duration", "must be 0 to 1000000 minutes") }
        return Int64(minutes.rounded())
    }

    /// assigned_to_users: names (strings, `;`-separated in CSV) or objects with `display_name`, `name` or `email`.
    func users(_ fields: SourceFields) throws(RecordError) -> [String] {
        guard case .array(let items)? = fields.value("assigned_to_users") else {
            return try stringList(fields, "assigned_to_users").filter { !$0.isEmpty }
        }
        var names = [String]()
        for (index, item) in items.enumerated() {
            switch item {
            case .string(let name) where !name.isEmpty: names.append(name)
            case .object(let members):
                let user = SourceFields(members, prefix: "assigned_to_users[\(index)].")
                names.append(try userName(user))
            default: throw fields.error("assigned_to_users[\(index)]", "must be a name or a user object")
            }
        }
        return names
    }

    /// A user object's `display_name`, else `name`, else `email`.
    func userName(_ user: SourceFields) throws(RecordError) -> String {
        for key in ["display_name", "name", "email"] {
            if let name = try user.string(key) { return name }
        }
        throw user.error("display_name", "is missing or empty")
    }
}
