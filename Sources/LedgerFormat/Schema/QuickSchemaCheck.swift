import CTextScan
import Foundation
import RecordFormats

// The fast twin of `RecordSchema.checkRecord` that deep verify runs on every entry: it checks the record on its
// canonical value bytes where it can, and answers nil (the caller then runs the strict form, which names the
// problem) for anything it does not recognise. It lives beside the strict form so both change together
// (VerifyFastPathTests holds them to the same answers).

extension RecordSchema {
    /// The few values the tag checks need from a record that validated.
    package struct CheckedFields {
        package var matter: JSONValue?
        package var sourceSystem: JSONValue?
        package var sourceId: JSONValue?

        package init(matter: JSONValue? = nil, sourceSystem: JSONValue? = nil, sourceId: JSONValue? = nil) {
            self.matter = matter
            self.sourceSystem = sourceSystem
            self.sourceId = sourceId
        }
    }

    /// `checkRecord` over the record's canonical value bytes, for a record whose names are unique
    /// (the leaf's, strictly ascending): the same field count limit, required fields and per-field checks.
    /// Text of printable ASCII without escapes is checked on its bytes (it has no control characters, so the
    /// text rules reduce to its length, and timestamps and dates parse from them); any other value is parsed and
    /// checked by `check`.
    /// nil when anything fails, or is valid JSON that this does not recognise; the caller then decides in full.
    package static func quickCheck(_ leaf: LeafView, values: [UnsafeRawBufferPointer]) -> CheckedFields? {
        quickCheck(fieldCount: leaf.fieldCount) { body in leaf.forEachName { body($0, $1, values[$0]) } }
    }

    /// The same for fields given one by one (`forEachField` calls its body with each index, name and value; the
    /// names unique and in leaf order: `quickValidate` sorts them and refuses a repeat).
    /// `plainScanned`: every value that starts with a quote is already known to be a plain string, and every one
    /// that starts with a bracket an array of them (the import's reader checked their bytes as it split the line),
    /// so they are not scanned again.
    static func quickCheck(
        fieldCount: Int, plainScanned: Bool = false,
        forEachField: ((Int, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) -> Void
    ) -> CheckedFields? {
        guard fieldCount <= maxFieldCount else { return nil }
        var record = CheckedFields()
        var required = 0
        var ok = true
        let schema = fieldTable
        forEachField { _, nameBytes, value in
            guard ok else { return }
            let known = schema.field(utf8: nameBytes)
            guard let type = known?.type ?? type(utf8: nameBytes) else {
                ok = false
                return
            }
            if known?.required == true { required += 1 }
            let kept = CheckedFields.Kept(utf8: nameBytes)
            guard let value = quickValue(value, type, plainScanned: plainScanned, keeping: kept != .none) else {
                ok = false
                return
            }
            if let value { record.set(kept, value) }
        }
        return ok && required == schema.requiredCount ? record : nil
    }

    /// `quickCheck` for a leaf whose field list `shapes` has seen (`leaf.shape`): each name's type, whether it is
    /// required and whether the tag checks keep it were worked out once for that list (`LeafShapes.plan`), so a
    /// record costs the checks of its values only. Same result as `quickCheck(_:values:)`; without a shape it is
    /// that.
    package static func quickCheck(_ leaf: LeafView, values: [UnsafeRawBufferPointer],
                                   shapes: LeafShapes) -> CheckedFields? {
        // Only a shape of this very memo names a plan in it (a leaf read with another memo is checked unplanned).
        guard let shape = leaf.shape, shape.owner == ObjectIdentifier(shapes) else {
            return quickCheck(leaf, values: values)
        }
        let plan = shapes.plan(shape.index) { ShapePlan(leaf) }
        guard plan.valid else { return nil }
        var record = CheckedFields()
        for (index, field) in plan.fields.enumerated() {
            guard let value = quickValue(values[index], field.type, plainScanned: false,
                                         keeping: field.kept != .none, choices: field.choices) else { return nil }
            if let value { record.set(field.kept, value) }
        }
        return record
    }

    /// One value against its type: nil when it fails (or is something this does not recognise: the caller then
    /// decides in full); `.some(nil)` when it passes and is not kept; the value when it passes and `keeping`.
    /// `choices`: a choice field's allowed words as bytes (else they are compared as the schema's strings).
    @inline(__always)
    private static func quickValue(_ value: UnsafeRawBufferPointer, _ type: FieldType, plainScanned: Bool,
                                   keeping: Bool, choices: [[UInt8]]? = nil) -> JSONValue?? {
        let plainBody = { plainScanned ? FastJSON.quotedBody(value) : FastJSON.plainStringBody(value) }
        switch type {
        case .line(let maxLength), .text(let maxLength):
            if let text = plainBody() {
                guard (1...maxLength).contains(text.count) else { return nil }
                return .some(keeping ? .string(String(decoding: text, as: UTF8.self)) : nil)
            }
        case .lines(let maxCount):
            if let lines = FastJSON.plainStringArrayCount(value, maxItemLength: 1024) {
                return lines.count <= maxCount && lines.itemsFit ? .some(nil) : nil
            }
        case .timestamp:
            if let text = plainBody() { return Timestamp.parseRFC3339(utf8: text) != nil ? .some(nil) : nil }
        case .date:
            if let text = plainBody() { return Timestamp.parseDate(utf8: text) != nil ? .some(nil) : nil }
        case .choice(let allowed):
            // A plain string is one of the allowed words exactly when its bytes are (no escapes to undo).
            if let text = plainBody() {
                let found = choices.map { $0.contains { FastJSON.bytesEqual(text, $0) } }
                    ?? allowed.contains { FastJSON.bytesEqual(text, $0) }
                return found ? .some(nil) : nil
            }
        default:
            break
        }
        guard let parsed = FastJSON.value(value) ?? (try? JSONParser.parse(value)) else { return nil }
        // Only the verdict is used here (a failure goes to the full check, which names the field).
        do { try check(parsed, as: type, field: "") } catch { return nil }
        return .some(keeping ? parsed : nil)
    }

    /// What `quickCheck` works out from a field list alone, once per list (`LeafShapes`).
    struct ShapePlan {
        struct Field {
            let type: FieldType
            let kept: CheckedFields.Kept
            /// A choice field's allowed words as bytes.
            let choices: [[UInt8]]?
        }
        /// False when a name is neither a schema field nor an extension, a required field is missing, or there
        /// are too many fields: every record with this list fails the quick check.
        let valid: Bool
        let fields: [Field]

        init(_ leaf: LeafView) {
            var fields = [Field](), required = 0, valid = leaf.fieldCount <= maxFieldCount
            let schema = fieldTable
            leaf.forEachName { _, name in
                let known = schema.field(utf8: name)
                guard let type = known?.type ?? RecordSchema.type(utf8: name) else {
                    valid = false
                    return
                }
                if known?.required == true { required += 1 }
                var choices: [[UInt8]]?
                if case .choice(let allowed) = type { choices = allowed.map { Array($0.utf8) } }
                fields.append(Field(type: type, kept: CheckedFields.Kept(utf8: name), choices: choices))
            }
            self.valid = valid && required == schema.requiredCount
            self.fields = fields
        }
    }
}

extension RecordSchema.CheckedFields {
    private static let matterName = Array("matter".utf8), sourceSystemName = Array("sourceSystem".utf8),
                       sourceIdName = Array("sourceId".utf8)

    /// Which of the values the tag checks need a field is, if any.
    enum Kept: UInt8 {
        case none, matter, sourceSystem, sourceId

        init(utf8 name: UnsafeRawBufferPointer) {
            switch name.count {   // the length first: most fields are none of the three
            case matterName.count where FastJSON.bytesEqual(name, matterName): self = .matter
            case sourceSystemName.count where FastJSON.bytesEqual(name, sourceSystemName): self = .sourceSystem
            case sourceIdName.count where FastJSON.bytesEqual(name, sourceIdName): self = .sourceId
            default: self = .none
            }
        }
    }

    fileprivate mutating func set(_ kept: Kept, _ value: JSONValue) {
        switch kept {
        case .matter: matter = value
        case .sourceSystem: sourceSystem = value
        case .sourceId: sourceId = value
        case .none: break
        }
    }
}

/// The field lists of leaves one thread has checked (u16 count || names, to the leaf's end: the exact bytes), with
/// what the quick schema check works out from each: a ledger has a handful of record shapes, so a leaf's list is
/// usually one comparison with a list already checked instead of a check of every name (`LeafView.init(_:shapes:)`).
/// Bounded: past `capacity` lists, new ones are checked every time and not kept. One per thread: not locked.
package final class LeafShapes: @unchecked Sendable {
    /// A kept list: its index, and which memo keeps it.
    package struct Shape: Equatable {
        package let index: Int
        package let owner: ObjectIdentifier
    }

    package static let capacity = 32
    private var lists: [[UInt8]] = []
    private var plans: [RecordSchema.ShapePlan?] = []

    package init() {}

    /// The index of a list equal to `list`, if one was kept.
    package func index(of list: UnsafeRawBufferPointer) -> Int? {
        for (index, known) in lists.enumerated() where known.count == list.count {
            if FastJSON.bytesEqual(list, known) { return index }
        }
        return nil
    }

    /// Keeps `list` (already checked) and returns its index; nil when full.
    package func insert(_ list: UnsafeRawBufferPointer) -> Int? {
        guard lists.count < Self.capacity else { return nil }
        lists.append(Array(list))
        plans.append(nil)
        return lists.count - 1
    }

    func plan(_ index: Int, make: () -> RecordSchema.ShapePlan) -> RecordSchema.ShapePlan {
        if let plan = plans[index] { return plan }
        let plan = make()
        plans[index] = plan
        return plan
    }
}

/// Recognises the common canonical JSON values directly — a string of printable ASCII without escapes, an array
/// of such strings, `true`, `false`, an integer of at most 18 digits — and gives the value `JSONParser.parse` gives for the same bytes; nil for
/// anything else (the caller parses it in full).
package enum FastJSON {
    package static func value(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        guard let first = bytes.first else { return nil }
        switch first {
        case UInt8(ascii: "\""):
            guard let (string, end) = plainString(bytes, at: 0), end == bytes.count else { return nil }
            return .string(string)
        case UInt8(ascii: "["):
            return stringArray(bytes)
        case UInt8(ascii: "t"):
            return bytes.elementsEqual("true".utf8) ? .bool(true) : nil
        case UInt8(ascii: "f"):
            return bytes.elementsEqual("false".utf8) ? .bool(false) : nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return canonicalInteger(bytes).map(JSONValue.integer)
        default:
            return nil
        }
    }

    /// An integer written canonically (optional `-`, no leading zero, no `-0`, at most 18 digits: always an Int64).
    private static func canonicalInteger(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let negative = bytes.first == UInt8(ascii: "-")
        let digits = UnsafeRawBufferPointer(rebasing: bytes[(negative ? 1 : 0)...])
        guard (1...18).contains(digits.count), digits[0] != UInt8(ascii: "0") || (digits.count == 1 && !negative)
        else { return nil }
        var value: Int64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }

    /// `["…","…",…]` with no whitespace, every element a plain string.
    private static func stringArray(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        guard bytes.count >= 2, bytes[bytes.count - 1] == UInt8(ascii: "]") else { return nil }
        if bytes.count == 2 { return .array([]) }
        var items = [JSONValue]()
        var o = 1
        while true {
            guard let (string, end) = plainString(bytes, at: o) else { return nil }
            items.append(.string(string))
            if end == bytes.count - 1 { return .array(items) }
            guard bytes[end] == UInt8(ascii: ",") else { return nil }
            o = end + 1
        }
    }

    /// A string at `start` whose bytes are printable ASCII other than `"` and `\`; returns it and the offset
    /// after its closing quote.
    private static func plainString(_ bytes: UnsafeRawBufferPointer, at start: Int) -> (String, Int)? {
        guard let end = plainStringEnd(bytes, at: start) else { return nil }
        return (String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(end - 1)]), as: UTF8.self), end)
    }

    /// The characters of a value that is one plain string (see `plainString`), without its quotes.
    /// True if the bytes are exactly these (memcmp: the generic sequence comparison is slow on this path).
    package static func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ expected: [UInt8]) -> Bool {
        guard bytes.count == expected.count else { return false }
        guard let base = bytes.baseAddress else { return true }
        return expected.withUnsafeBytes { memcmp(base, $0.baseAddress!, bytes.count) == 0 }
    }

    /// The same against a string's UTF-8.
    package static func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ expected: String) -> Bool {
        var expected = expected
        return expected.withUTF8 { utf8 in
            guard bytes.count == utf8.count else { return false }
            guard let base = bytes.baseAddress else { return true }
            return memcmp(base, utf8.baseAddress!, bytes.count) == 0
        }
    }

    /// The characters between the quotes of a value already known to be a plain string or something else (not
    /// scanned again); nil if it does not start with a quote.
    package static func quotedBody(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\"") else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[1..<(bytes.count - 1)])
    }

    package static func plainStringBody(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard plainStringEnd(bytes, at: 0) == bytes.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[1..<(bytes.count - 1)])
    }

    /// For a value that is `["…",…]` (no whitespace) of plain strings: how many, and whether each has
    /// 1 to `maxItemLength` characters.
    package static func plainStringArrayCount(_ bytes: UnsafeRawBufferPointer,
                                      maxItemLength: Int) -> (count: Int, itemsFit: Bool)? {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "["),
              bytes[bytes.count - 1] == UInt8(ascii: "]") else { return nil }
        if bytes.count == 2 { return (0, true) }
        var count = 0
        var fit = true
        var o = 1
        while true {
            guard let end = plainStringEnd(bytes, at: o) else { return nil }
            count += 1
            fit = fit && (1...maxItemLength).contains(end - o - 2)
            if end == bytes.count - 1 { return (count, fit) }
            guard bytes[end] == UInt8(ascii: ",") else { return nil }
            o = end + 1
        }
    }

    /// The offset after the closing quote of a plain string that starts at `start`; nil if there is none.
    /// 64 or 32 bytes at a time with AVX-512BW or AVX2 (CTextScan), else `plainStringEndSWAR`.
    package static func plainStringEnd(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Int? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
        let end = ctextscan_plain_string_end(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count,
                                             start + 1)
        if end >= 0 { return end }
        return end == -1 ? nil : plainStringEndSWAR(bytes, at: start)
    }

    /// The vector scan in use: 0 none (`plainStringEndSWAR`), 1 AVX2, 2 AVX-512BW.
    package static var scanKernel: Int { Int(ctextscan_kernel()) }

    /// Uses at most scan `level`, or the CPU's best if lower (tests run each).
    package static func limitScanKernel(_ level: Int) { ctextscan_limit_kernel(Int32(level)) }

    /// The same, eight bytes at a time: a word without `"`, `\`, control or non-ASCII bytes is skipped whole (the
    /// code for CPUs without AVX2, and the reference the vector scans are tested against).
    package static func plainStringEndSWAR(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Int? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
        var o = start + 1
        while o + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self))
            if mayBeSpecial(word) { break }
            o += 8
        }
        while o < bytes.count {
            let c = bytes[o]
            if c == UInt8(ascii: "\"") { return o + 1 }
            guard c >= 0x20, c < 0x7f, c != UInt8(ascii: "\\") else { return nil }
            o += 1
        }
        return nil
    }

    /// True if some byte of `word` may be `"`, `\`, below 0x20 or at least 0x7f (exact, or a false alarm that
    /// only sends the caller to its byte loop).
    @inline(__always)
    private static func mayBeSpecial(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ w: UInt64) -> UInt64 { (w &- ones) & ~w & highs }
        let control = (word &- ones &* 0x20) & ~word & highs
        let high = (word &+ ones) & highs | word & highs                 // >= 0x7f
        return (control | high | hasZero(word ^ (ones &* 0x22)) | hasZero(word ^ (ones &* 0x5c))) != 0
    }
}
