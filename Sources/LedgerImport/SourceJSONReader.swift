/// A tolerant but hostile-input-safe JSON reader for practice-management exports: RFC 8259 syntax with numbers of
/// any form (kept as text), nesting limited to `maxDepth`, strings checked to be valid UTF-8, duplicate keys refused
/// (a record whose field appears twice is ambiguous). Never traps on any input.
struct SourceJSONReader {
    let bytes: UnsafeRawBufferPointer
    var pos = 0
    let maxDepth: Int

    init(_ bytes: UnsafeRawBufferPointer, at start: Int = 0, maxDepth: Int = 32) {
        self.bytes = bytes
        self.pos = start
        self.maxDepth = maxDepth
    }

    /// The byte at `pos`, or nil at the end.
    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    mutating func skipSpace() {
        while pos < bytes.count {
            let byte = bytes[pos]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            pos += 1
        }
    }

    func fail(_ reason: String) -> SourceJSONError { SourceJSONError(offset: pos, reason: reason) }

    /// Reads one value at `pos` (after optional white space).
    mutating func value(depth: Int = 0) throws(SourceJSONError) -> SourceValue {
        skipSpace()
        guard let byte = peek else { throw fail("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw fail("nested more than \(maxDepth) levels") }
            return try object(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw fail("nested more than \(maxDepth) levels") }
            return .array(try array(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    mutating func literal(_ word: StaticString) throws(SourceJSONError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - pos >= count else { throw fail("unexpected end of input") }
        for i in 0..<count where bytes[pos + i] != word.utf8Start[i] { throw fail("unexpected character") }
        pos += count
    }

    /// The elements of an array; `pos` is at `[`.
    mutating func array(depth: Int) throws(SourceJSONError) -> [SourceValue] {
        pos += 1
        var items = [SourceValue]()
        skipSpace()
        if peek == UInt8(ascii: "]") { pos += 1; return items }
        while true {
            items.append(try value(depth: depth))
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"): pos += 1; return items
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    /// An object; `pos` is at `{`.
    mutating func object(depth: Int) throws(SourceJSONError) -> SourceValue {
        pos += 1
        var members = SourceObject(capacity: 12)
        var keys = Set<String>()  // only once the object is large: a linear check is cheaper below that
        skipSpace()
        if peek == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw fail("expected a string key in an object") }
            let keyAt = pos
            let key = try string()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
            pos += 1
            let member = try value(depth: depth)
            if members.members.count < 16 {
                guard members[key] == nil else {
                    throw SourceJSONError(offset: keyAt, reason: "duplicate key in an object")
                }
            } else {
                if keys.isEmpty { keys = Set(members.members.map(\.key)) }
                guard keys.insert(key).inserted else {
                    throw SourceJSONError(offset: keyAt, reason: "duplicate key in an object")
                }
            }
            members.append(key, member)
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"): pos += 1; return .object(members)
            default: throw fail("expected ',' or '}' in an object")
            }
        }
    }
}
