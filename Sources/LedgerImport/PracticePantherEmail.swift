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
        let from = try fields.requiredString("from").lowercased()
        // direction: outbound when the sender is one of the assigned users
        let outbound = staff.contains { from.contains($0.lowercased()) }
        record.set("author", author)
        record.set("channel", "email")
        record.set("direction", outbound ? "outbound" : "inbound")
        // recipients ← to, then cc (arrays, or `,`/`;`-separated text)
        record.set("recipients", try addresses(fields, "to") + addresses(fields, "cc"))
        record.set("summary", try fields.string("body"))
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
