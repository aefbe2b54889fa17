/// Numbers and strings of `SourceJSONReader`.
extension SourceJSONReader {
    /// A JSON number (`-`? int frac? exp?), returned as its text.
    mutating func number() throws(SourceJSONError) -> String {
        let start = pos
        if peek == UInt8(ascii: "-") { pos += 1 }
        guard try digits() > 0 else { throw fail("unexpected character") }
        if peek == UInt8(ascii: ".") {
            pos += 1
            guard try digits() > 0 else { throw fail("a number needs digits after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            pos += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
            guard try digits() > 0 else { throw fail("a number needs digits in its exponent") }
        }
        guard pos - start <= 64 else {
            throw SourceJSONError(offset: start, reason: "number longer than 64 characters")
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
    }

    private mutating func digits() throws(SourceJSONError) -> Int {
        let start = pos
        while let byte = peek, byte >= 0x30, byte <= 0x39 { pos += 1 }
        return pos - start
    }

    /// A string; `pos` is at the opening quote. Escapes are decoded; invalid UTF-8 and raw control characters are
    /// refused.
    mutating func string() throws(SourceJSONError) -> String {
        pos += 1
        if let plain = try plainString() { return plain }
        var out = [UInt8]()
        var runStart = pos
        while true {
            guard let byte = peek else { throw fail("unterminated string") }
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw fail("control character in a string") }
            if byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<pos]))
                try escape(into: &out)
                runStart = pos
            } else {
                pos += 1
            }
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<pos]))
        pos += 1
        guard let text = String(validating: out, as: UTF8.self) else {
            throw SourceJSONError(offset: runStart, reason: "invalid UTF-8 in a string")
        }
        return text
    }

    /// The common case, a string without escapes, decoded in place; nil (and `pos` unchanged) when it has escapes.
    private mutating func plainString() throws(SourceJSONError) -> String? {
        var end = pos
        var high: UInt8 = 0  // any byte ≥ 0x80 sets the top bit
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") { return nil }
            if byte < 0x20 { pos = end; throw fail("control character in a string") }
            high |= byte
            end += 1
        }
        guard end < bytes.count else { pos = end; throw fail("unterminated string") }
        let run = UnsafeRawBufferPointer(rebasing: bytes[pos..<end])
        pos = end + 1
        return try Self.text(run, ascii: high < 0x80, at: pos)
    }

    /// UTF-8 bytes as a String: ASCII needs no validation (the common case, and much cheaper); anything else must
    /// be valid UTF-8.
    static func text(_ run: UnsafeRawBufferPointer, ascii: Bool, at offset: Int) throws(SourceJSONError) -> String {
        if ascii { return String(decoding: run, as: UTF8.self) }
        guard let text = String(validating: run, as: UTF8.self) else {
            throw SourceJSONError(offset: offset, reason: "invalid UTF-8 in a string")
        }
        return text
    }

    /// One escape sequence; `pos` is at the backslash.
    private mutating func escape(into out: inout [UInt8]) throws(SourceJSONError) {
        pos += 1
        guard let code = peek else { throw fail("unterminated string") }
        pos += 1
        switch code {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(code)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"): out.append(contentsOf: String(try unicodeScalar()).utf8)
        default: throw fail("invalid escape in a string")
        }
    }

    /// The scalar of `\uXXXX` (with its low surrogate when it is a high one); `pos` is after the `u`.
    private mutating func unicodeScalar() throws(SourceJSONError) -> Unicode.Scalar {
        let high = try hex4()
        if (0xD800...0xDBFF).contains(high) {
            guard bytes.count - pos >= 6, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                throw fail("unpaired surrogate in a string")
            }
            pos += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in a string") }
            let combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw fail("invalid escape in a string") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(high) else { throw fail("unpaired surrogate in a string") }
        return scalar
    }

    private mutating func hex4() throws(SourceJSONError) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw fail("unterminated string") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexValue(bytes[pos]) else { throw fail("invalid \\u escape in a string") }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: return UInt32(byte - 0x30)
        case 0x41...0x46: return UInt32(byte - 0x41 + 10)
        case 0x61...0x66: return UInt32(byte - 0x61 + 10)
        default: return nil
        }
    }
}
