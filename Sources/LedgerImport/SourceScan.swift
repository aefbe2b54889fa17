import Foundation

/// Finds the records of a JSON array (bare, or inside an envelope object) without building them: one fast pass over
/// the bytes gives each element's byte range, so that the elements can then be parsed and mapped on every core.
extension SourceJSONReader {
    /// Skips one value at `pos`: strings and brackets are followed (escapes honoured, depth limited), but the
    /// contents are not checked — the element's own parse does that.
    mutating func skipValue() throws(SourceJSONError) {
        skipSpace()
        guard let first = peek else { throw fail("unexpected end of input") }
        if first == UInt8(ascii: "\"") { return try skipString() }
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            while let byte = peek, byte != UInt8(ascii: ","), byte != UInt8(ascii: "]"), byte != UInt8(ascii: "}"),
                  byte > 0x20 { pos += 1 }
            return
        }
        guard let base = bytes.baseAddress else { throw fail("unexpected end of input") }
        var depth = 0
        repeat {
            guard pos < bytes.count else { throw fail("unexpected end of input") }
            let byte = base.load(fromByteOffset: pos, as: UInt8.self)  // in bounds: checked above
            switch byte {
            case UInt8(ascii: "\""): try skipString(); continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                guard depth <= maxDepth else { throw fail("nested more than \(maxDepth) levels") }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
            pos += 1
        } while depth > 0
    }

    /// Skips a string; `pos` is at its opening quote.
    mutating func skipString() throws(SourceJSONError) {
        guard let base = bytes.baseAddress else { throw fail("unterminated string") }
        var from = pos + 1
        while from < bytes.count {
            // The next quote (memchr); it ends the string unless an odd number of backslashes escapes it.
            guard let hit = memchr(base + from, Int32(UInt8(ascii: "\"")), bytes.count - from) else { break }
            let quote = base.distance(to: UnsafeRawPointer(hit))
            var backslashes = 0
            while quote - backslashes - 1 > pos, bytes[quote - backslashes - 1] == UInt8(ascii: "\\") {
                backslashes += 1
            }
            from = quote + 1
            if backslashes % 2 == 0 { pos = from; return }
        }
        pos = bytes.count
        throw fail("unterminated string")
    }

    /// The byte ranges of the elements of the array at `pos` (at `[`); `pos` ends after the `]`.
    mutating func elementRanges() throws(SourceJSONError) -> [Range<Int>] {
        pos += 1
        var ranges = [Range<Int>]()
        skipSpace()
        if peek == UInt8(ascii: "]") { pos += 1; return ranges }
        while true {
            skipSpace()
            let start = pos
            try skipValue()
            ranges.append(start..<pos)
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"): pos += 1; return ranges
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    /// The element ranges of the document at `pos`: a bare array, or the array under the first of `envelopes` in
    /// a top-level object. Nil when the document is neither (one object, JSON lines): the caller parses it whole.
    mutating func documentRanges(envelopes: [String]) throws(SourceJSONError) -> [Range<Int>]? {
        skipSpace()
        var ranges: [Range<Int>]?
        if peek == UInt8(ascii: "[") {
            ranges = try elementRanges()
        } else {
            guard peek == UInt8(ascii: "{") else { return nil }
            pos += 1
            skipSpace()
            while peek == UInt8(ascii: "\"") {
                let key = try string()
                skipSpace()
                guard peek == UInt8(ascii: ":") else { return nil }
                pos += 1
                skipSpace()
                if ranges == nil, envelopes.contains(key), peek == UInt8(ascii: "[") {
                    ranges = try elementRanges()
                } else {
                    try skipValue()
                }
                skipSpace()
                if peek == UInt8(ascii: ",") { pos += 1; skipSpace() }
            }
            guard ranges != nil, peek == UInt8(ascii: "}") else { return nil }
            pos += 1
        }
        skipSpace()
        return peek == nil ? ranges : nil
    }
}
