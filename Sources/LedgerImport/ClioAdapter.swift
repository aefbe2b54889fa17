import LedgerFormat
import RecordFormats

/// Clio communications (API v4: `{"data":[...]}` or a bare array); mapping in docs/IMPORT.md, "Clio".
public struct ClioAdapter: PracticeAdapter {
    public let sourceSystem = "clio"
    let time: SourceTime
    let envelopes = ["data"]

    public init(time: SourceTime = SourceTime()) { self.time = time }

    /// One sender or receiver: `{"id", "type": "User"|"Contact", "name"}`.
    struct Participant {
        var isUser: Bool
        var name: String?
    }

    func map(_ fields: SourceFields) throws(RecordError) -> JSONValue {
        var record = RecordBuilder(sourceSystem: sourceSystem, sourceId: try fields.id("id"))
        let channel: String
        switch try fields.requiredString("type") {
        case "EmailCommunication": channel = "email"
        case "PhoneCommunication": channel = "phone"
        default: throw fields.error("type", "must be EmailCommunication or PhoneCommunication")
        }
        let senders = try participants(fields, "senders")
        let receivers = try participants(fields, "receivers")
        let direction = try direction(fields, senders: senders, receivers: receivers)
        // author: the firm's User who sent (outbound, internal) or received (inbound) it
        let staff = direction == "inbound" ? receivers : senders
        guard let author = staff.first(where: { $0.isUser && $0.name != nil })?.name else {
            throw fields.error(direction == "inbound" ? "receivers" : "senders", "names no User with a name")
        }
        guard let matter = try fields.object("matter") else { throw fields.error("matter", "is missing") }
        record.set("matter", try matter.requiredString("display_number"))
        record.set("author", author)
        record.set("channel", channel)
        record.set("direction", direction)
        // occurredAt: when an inbound email arrived (received_at), else the communication's date
        let received = try fields.string("received_at")  // an empty value counts as absent
        let useReceived = direction == "inbound" && channel == "email" && received != nil
        record.set("occurredAt", try occurredAt(fields, useReceived ? "received_at" : "date", time: time))
        record.set("subject", try fields.string("subject"))
        record.set("summary", try fields.string("body"))
        record.set("recipients", receivers.compactMap(\.name))
        return record.value
    }

    /// A User sender → outbound, a Contact sender → inbound; Users only on both sides → internal.
    func direction(_ fields: SourceFields, senders: [Participant],
                   receivers: [Participant]) throws(RecordError) -> String {
        guard let sender = senders.first else { throw fields.error("senders", "is missing or empty") }
        guard sender.isUser else { return "inbound" }
        return !receivers.isEmpty && receivers.allSatisfy(\.isUser) ? "internal" : "outbound"
    }

    func participants(_ fields: SourceFields, _ key: String) throws(RecordError) -> [Participant] {
        var out = [Participant]()
        for (index, item) in (try fields.array(key) ?? []).enumerated() {
            let path = key + "[" + String(index) + "]"
            guard case .object(let members) = item else {
                throw fields.error(path, "must be an object, not \(item.typeName)")
            }
            let participant = SourceFields(members, prefix: fields.path(path) + ".")
            let type = try participant.requiredString("type")
            guard type == "User" || type == "Contact" else {
                throw participant.error("type", "must be User or Contact")
            }
            out.append(Participant(isUser: type == "User", name: try participant.string("name")))
        }
        return out
    }
}
