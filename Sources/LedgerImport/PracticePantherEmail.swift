import Foundation
import LedgerFormat

extension PracticePantherAdapter {
    /// An email: the staff member is the first of `assigned_to_users` (required: an address alone does not tell staff
    /// from client); outbound when `from` names one of the assigned users, inbound otherwise.
    func mapEmail(_ fields: SourceFields, into record: inout RecordBuilder) throws(RecordError) {
        let staff = try users(fields)
        guard let author = staff.first else {
            throw fields.error("assigned_to_users", "is missing or empty: the email needs its staff member")
        }
        let from = Self.sender(try fields.requiredString("from"))
        // direction: outbound when the sender is one of the assigned users, by exact address or exact name (a
        // substring test would make "Danielle Client" outbound for a user named "Dan")
        let known = try staffIdentities(fields)
        let outbound = (from.address.map { known.contains($0) } ?? false) || (from.name.map { known.contains($0) } ?? false)
        record.set("author", author)
        record.set("channel", "email")
        record.set("direction", outbound ? "outbound" : "inbound")
        // recipients ← to, then cc (arrays, or `,`/`;`-separated text)
        record.set("recipients", try addresses(fields, "to") + addresses(fields, "cc"))
        record.set("summary", try fields.string("body"))
    }

    /// A `from` value taken apart: `Name <addr>`, a bare address, or a bare name; lowercased and trimmed.
    static func sender(_ text: String) -> (name: String?, address: String?) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), let close = trimmed.lastIndex(of: ">"), open < close {
            let name = trimmed[..<open].trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
            let address = trimmed[trimmed.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            return (name.isEmpty ? nil : name.lowercased(), address.isEmpty ? nil : address.lowercased())
        }
        return trimmed.contains("@") ? (nil, trimmed.lowercased()) : (trimmed.lowercased(), nil)
    }

    /// Every name and address of the assigned users, lowercased: a user object's display_name, name and email.
    func staffIdentities(_ fields: SourceFields) throws(RecordError) -> Set<String> {
        guard case .array(let items)? = fields.value("assigned_to_users") else {
            return Set(try users(fields).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
        }
        var identities = Set<String>()
        for (index, item) in items.enumerated() {
            if case .string(let name) = item { identities.insert(name.trimmingCharacters(in: .whitespaces).lowercased()) }
            guard case .object(let members) = item else { continue }
            let user = SourceFields(members, prefix: "assigned_to_users[\(index)].")
            for key in ["display_name", "name", "email"] {
                if let value = try user.string(key) { identities.insert(value.trimmingCharacters(in: .whitespaces).lowercased()) }
            }
        }
        identities.remove("")
        return identities
    }

    /// The addresses of `to` or `cc`.
    func addresses(_ fields: SourceFields, _ key: String) throws(RecordError) -> [String] {
        if case .string(let text)? = fields.value(key) {
            return text.split(whereSeparator: { $0 == "," || $0 == ";" })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return try stringList(fields, key)
    }
}
