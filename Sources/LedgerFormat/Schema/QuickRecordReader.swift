import Foundation
import RecordFormats

// The fast twin of `JSONParser.parse` + `RecordSchema.validate` that `ledger import` tries on every JSON line: a
// flat object written without whitespace whose names are plain and whose values are plain strings (printable
// ASCII, no escapes), arrays of them, canonical integers, `true` or `false` — what practice-management exports and
// `ledger bench` write. Such a line already is its canonical form, field by field, so the record is built from its
// bytes and checked by `quickCheck`. Anything else gives nil, and the caller runs the strict twin, which decides and
// names the problem. ImportFastPathTests holds the two to the same answers.

extension RecordSchema {
    /// What the first pass of a large import needs of a valid record (it keeps no records).
    package struct QuickFacts {
        package let matter: String
        package let corrects: UInt64?
    }

    /// `quickValidate` without building the record: the same checks, the same nil.
    package static func quickFacts(_ line: UnsafeRawBufferPointer) -> QuickFacts? {
        quickChecked(line) { fields, matter, _ in
            var corrects: UInt64?
            for field in fields where FastJSON.bytesEqual(line.part(field.name), "corrects") {
                guard let value = correctsValue(line.part(field.value)) else { return nil }
                corrects = value
            }
            return QuickFacts(matter: matter, corrects: corrects)
        }
    }

    /// Calls `body` with the line's fields (byte ranges of names and values, in a scratch buffer) in leaf order and
    /// its matter, once every check has passed; nil to decide strictly.
    private static func quickChecked<R>(
        _ line: UnsafeRawBufferPointer,
        _ body: (UnsafeBufferPointer<QuickRecordReader.Member>, String, CheckedFields) -> R?
    ) -> R? {
        QuickRecordReader.withMembers(line) { members -> R? in
            var fields = members  // sorted in place: the buffer is scratch
            guard fields.count <= maxFieldCount else { return nil }
            // Writers that sort their keys give names already in order: one pass then checks order and repeats.
            if !strictlyAscending(line, fields) {
                fields.sort { lexicographicallyPrecedes(line, $0.name, line, $1.name) }
                guard strictlyAscending(line, fields) else { return nil }  // a repeated name: the strict parser names it
            }
            // The names and values are read where they lie in the line: no per-record arrays of them.
            let sorted = UnsafeBufferPointer(fields)
            guard let checked = quickCheck(fieldCount: sorted.count, plainScanned: true, forEachField: { visit in
                for (index, field) in sorted.enumerated() { visit(index, line.part(field.name), line.part(field.value)) }
            }), case .string(let matter)? = checked.matter else { return nil }
            return body(sorted, matter, checked)
        }
    }

    /// The record of one JSON line, as `validate(JSONParser.parse(line))` would give it, or nil (decide strictly).
    package static func quickValidate(_ line: UnsafeRawBufferPointer) -> ValidatedRecord? {
        quickChecked(line) { fields, matter, checked in
            var valueBytes = [UInt8]()
            valueBytes.reserveCapacity(fields.reduce(0) { $0 + $1.value.count })
            var valueEnds = [Int]()
            valueEnds.reserveCapacity(fields.count)
            var occurredAt: Int64?, corrects: UInt64?
            for field in fields {
                let (name, value) = (line.part(field.name), line.part(field.value))
                valueBytes.append(contentsOf: value)
                valueEnds.append(valueBytes.count)
                if FastJSON.bytesEqual(name, "occurredAt"), let body = FastJSON.quotedBody(value) {
                    occurredAt = Timestamp.parseRFC3339(utf8: body)
                } else if FastJSON.bytesEqual(name, "corrects") {
                    guard let number = correctsValue(value) else { return nil }
                    corrects = number
                }
            }
            guard let occurredAt else { return nil }
            let schema = fieldTable
            return ValidatedRecord(names: fields.map { field in
                                       let name = line.part(field.name)
                                       return schema.field(utf8: name)?.name ?? String(decoding: name, as: UTF8.self)
                                   },
                                   valueBytes: valueBytes, valueEnds: valueEnds, matter: matter,
                                   occurredAt: occurredAt, sourceSystem: checked.sourceSystem.flatMap(plainString),
                                   sourceId: checked.sourceId.flatMap(plainString), corrects: corrects)
        }
    }

    /// A `corrects` value on its bytes: a non-negative integer, or nil (the strict path names the problem).
    private static func correctsValue(_ value: UnsafeRawBufferPointer) -> UInt64? {
        guard let number = Int64(String(decoding: value, as: UTF8.self)), number >= 0 else { return nil }
        return UInt64(number)
    }

    private static func plainString(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    private static func strictlyAscending(_ line: UnsafeRawBufferPointer,
                                          _ fields: UnsafeMutableBufferPointer<QuickRecordReader.Member>) -> Bool {
        for i in fields.indices.dropFirst() where !lexicographicallyPrecedes(line, fields[i - 1].name,
                                                                             line, fields[i].name) {
            return false
        }
        return true
    }

    private static func lexicographicallyPrecedes(_ a: UnsafeRawBufferPointer, _ ra: Range<Int>,
                                                  _ b: UnsafeRawBufferPointer, _ rb: Range<Int>) -> Bool {
        let common = min(ra.count, rb.count)
        let order = memcmp(a.baseAddress! + ra.lowerBound, b.baseAddress! + rb.lowerBound, common)
        return order != 0 ? order < 0 : ra.count < rb.count
    }
}

/// Splits a flat JSON object written without whitespace into (name, value) byte ranges; nil for anything else.
enum QuickRecordReader {
    typealias Member = (name: Range<Int>, value: Range<Int>)

    /// The members in a buffer of `body`'s (on the stack for up to `stackMembers` of them), or nil if the line is not
    /// a flat canonical object.
    static func withMembers<R>(_ line: UnsafeRawBufferPointer,
                               _ body: (UnsafeMutableBufferPointer<Member>) -> R?) -> R? {
        withUnsafeTemporaryAllocation(of: Member.self, capacity: stackMembers) { stack in
            var count = 0
            guard scan(line, { member in
                guard count < stack.count else { return false }
                stack.initializeElement(at: count, to: member)
                count += 1
                return true
            }) else {
                guard count == stack.count, var members = members(line) else { return nil }  // more than fit
                return members.withUnsafeMutableBufferPointer { body($0) }
            }
            return body(UnsafeMutableBufferPointer(rebasing: stack[..<count]))
        }
    }

    /// Members a record may have before `withMembers` puts them on the heap (the schema has fewer fields; 32
    /// members are 1 KiB, the most `withUnsafeTemporaryAllocation` keeps on the stack).
    static let stackMembers = 32

    static func members(_ line: UnsafeRawBufferPointer) -> [Member]? {
        var members = [Member]()
        members.reserveCapacity(24)
        return scan(line) { members.append($0); return true } ? members : nil
    }

    /// Calls `visit` with each member in line order; false if the line is not a flat canonical object (or `visit`
    /// asked to stop).
    private static func scan(_ line: UnsafeRawBufferPointer, _ visit: (Member) -> Bool) -> Bool {
        let count = line.count
        guard count >= 2, line[0] == UInt8(ascii: "{"), line[count - 1] == UInt8(ascii: "}") else { return false }
        var o = 1
        if count == 2 { return true }
        while true {
            guard let nameEnd = plainName(line, at: o), nameEnd < count, line[nameEnd] == UInt8(ascii: ":"),
                  let valueEnd = valueEnd(line, at: nameEnd + 1),
                  visit(((o + 1)..<(nameEnd - 1), (nameEnd + 1)..<valueEnd)) else { return false }
            if valueEnd == count - 1 { return true }
            guard line[valueEnd] == UInt8(ascii: ",") else { return false }
            o = valueEnd + 1
        }
    }

    /// After a name of field-name bytes (letters, digits, `-`) in quotes at `start`.
    private static func plainName(_ line: UnsafeRawBufferPointer, at start: Int) -> Int? {
        guard start < line.count, line[start] == UInt8(ascii: "\"") else { return nil }
        var o = start + 1
        while o < line.count {
            let c = line[o]
            if c == UInt8(ascii: "\"") { return o > start + 1 ? o + 1 : nil }
            guard (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)
                  || c == UInt8(ascii: "-") else { return nil }
            o += 1
        }
        return nil
    }

    /// After a value at `start` that is already canonical: a plain string, an array of plain strings, a canonical
    /// integer, `true` or `false`.
    private static func valueEnd(_ line: UnsafeRawBufferPointer, at start: Int) -> Int? {
        guard start < line.count else { return nil }
        switch line[start] {
        case UInt8(ascii: "\""):
            return stringEnd(line, at: start)
        case UInt8(ascii: "["):
            guard start + 1 < line.count else { return nil }
            if line[start + 1] == UInt8(ascii: "]") { return start + 2 }
            var o = start + 1
            while true {
                guard let end = stringEnd(line, at: o), end < line.count else { return nil }
                if line[end] == UInt8(ascii: "]") { return end + 1 }
                guard line[end] == UInt8(ascii: ",") else { return nil }
                o = end + 1
            }
        case UInt8(ascii: "t"):
            return matches(line, at: start, "true") ? start + 4 : nil
        case UInt8(ascii: "f"):
            return matches(line, at: start, "false") ? start + 5 : nil
        case UInt8(ascii: "-"), 0x30...0x39:
            var o = start + (line[start] == UInt8(ascii: "-") ? 1 : 0)
            let digits = o
            while o < line.count, line[o] >= 0x30, line[o] <= 0x39 { o += 1 }
            let length = o - digits
            // canonical: no leading zero, no "-0", at most 18 digits (always within Int64)
            guard length >= 1, length <= 18, line[digits] != 0x30 || (length == 1 && digits == start) else {
                return nil
            }
            return o
        default:
            return nil
        }
    }

    /// After a string of printable ASCII other than `"` and `\` in quotes at `start` (eight bytes at a time).
    private static func stringEnd(_ line: UnsafeRawBufferPointer, at start: Int) -> Int? {
        FastJSON.plainStringEnd(line, at: start)
    }

    private static func matches(_ line: UnsafeRawBufferPointer, at start: Int, _ word: StaticString) -> Bool {
        guard start + word.utf8CodeUnitCount <= line.count else { return false }
        return memcmp(line.baseAddress! + start, word.utf8Start, word.utf8CodeUnitCount) == 0
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes in `range`, as a buffer of their own (no copy).
    fileprivate func part(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: self[range]) }
}
