import LedgerFormat
import RecordFormats

extension FieldRule {
    /// This rule's value for one record whose source cell is `cell` (nil when the column is absent): nil when the
    /// field is left out. A refusal names the source column and the problem, never the cell's value.
    func value(cell: String?, input: MappingFile.Input) -> Result<JSONValue?, RecordError> {
        let trimmed = cell.map { $0.trimmingSpaces } ?? ""
        guard !trimmed.isEmpty else {
            if let defaultValue { return .success(defaultValue) }
            if RecordSchema.required.contains(target) {
                return refuse("is empty, and '\(target)' is required (give 'fields.\(target).default' to fill it)")
            }
            return .success(nil)
        }
        var text = trimmed
        if let values {
            guard let mapped = values[text] ?? otherwise else {
                return refuse("has a value that 'fields.\(target).values' does not list (and there is no 'otherwise')")
            }
            text = mapped
        }
        return convert(text, input: input).map { Optional($0) }
    }

    private func refuse(_ reason: String) -> Result<JSONValue?, RecordError> {
        .failure(RecordError(field: column ?? target, reason: reason))
    }

    private func failure(_ reason: String) -> Result<JSONValue, RecordError> {
        .failure(RecordError(field: column ?? target, reason: reason))
    }

    /// `text` as a value of the target's kind.
    private func convert(_ text: String, input: MappingFile.Input) -> Result<JSONValue, RecordError> {
        switch kind {
        case .text, .date, .reference, .choice, .extensionValue: return .success(.string(text))
        case .timestamp: return time ? localTime(text, input: input) : .success(.string(text))
        case .integer:
            guard let n = DecimalText.scaled(text, by: multiply) else {
                return failure("is not a number (digits, optionally a '.' and up to 9 decimals)")
            }
            return .success(.integer(n))
        case .boolean:
            switch text.lowercased() {
            case "true": return .success(.bool(true))
            case "false": return .success(.bool(false))
            default: return failure("is not true or false (map other spellings with 'values')")
            }
        case .list: return .success(.array(items(text).map { .string($0) }))
        case .attachments: return attachments(text)
        }
    }

    /// The non-empty items of a list cell, each trimmed.
    private func items(_ text: String) -> [String] {
        text.split(separator: split, omittingEmptySubsequences: true).map { String($0).trimmingSpaces }
            .filter { !$0.isEmpty }
    }

    /// `name=sha256` items.
    private func attachments(_ text: String) -> Result<JSONValue, RecordError> {
        var list = [JSONValue]()
        for item in items(text) {
            guard let eq = item.lastIndex(of: "="), eq != item.startIndex else {
                return failure("has an attachment that is not name=sha256")
            }
            let name = String(item[..<eq]).trimmingSpaces, digest = String(item[item.index(after: eq)...])
            list.append(.object(["name": .string(name), "sha256": .string(digest.trimmingSpaces)]))
        }
        return .success(.array(list))
    }

    /// An RFC 3339 time with an offset as it is; otherwise `input.timeFormat` in `input.timeZone`.
    private func localTime(_ text: String, input: MappingFile.Input) -> Result<JSONValue, RecordError> {
        if Timestamp.parseRFC3339(text) != nil { return .success(.string(text)) }
        guard let pattern = input.timePattern, let zone = input.timeZone else {
            return failure("is not an RFC 3339 time with an offset")
        }
        guard let local = pattern.parse(text) else {
            return failure("does not match 'input.timeFormat' (nor RFC 3339 with an offset)")
        }
        switch ZonedTime.rfc3339(local, in: zone) {
        case .success(let rfc): return .success(.string(rfc))
        case .failure:
            return failure("is a local time that does not exist in \(zone.identifier) (the clocks went forward)")
        }
    }
}

/// Decimal numbers of cells (`1.5`, `-2`, `30`), scaled by an integer factor and rounded half away from zero.
enum DecimalText {
    /// `text` × `factor`, rounded; nil when not a plain decimal (at most 18 integer and 9 fraction digits) or when
    /// the result does not fit in 64 bits.
    static func scaled(_ text: String, by factor: Int64) -> Int64? {
        var c = Substring(text)
        var negative = false
        if let sign = c.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            c = c.dropFirst()
        }
        let parts = c.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, (1...18).contains(whole.count), whole.allSatisfy(\.isASCIIDigit) else {
            return nil
        }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 9, fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty,
              let w = Int64(whole) else { return nil }
        var scale: Int64 = 1
        for _ in 0..<fraction.count { scale *= 10 }
        let (units, o1) = w.multipliedReportingOverflow(by: scale)
        let (exact, o2) = units.addingReportingOverflow(Int64(fraction) ?? 0)
        let (product, o3) = exact.multipliedReportingOverflow(by: factor)
        guard !o1, !o2, !o3 else { return nil }
        let rounded = product / scale + (2 * (product % scale) >= scale ? 1 : 0)
        return negative ? -rounded : rounded
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
