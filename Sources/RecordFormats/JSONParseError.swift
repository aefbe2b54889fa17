// Errors of the strict JSON parser. They say where (byte offset, JSON path) and
// what, and never repeat string contents of the input (only key names), because
// the input may hold privileged text and error messages end up in logs.

public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case unexpectedEnd
        /// The byte found where something else was required (a structural
        /// position, never inside a string). A leading zero (`01`) is reported
        /// as the unexpected digit after the `0`; a UTF-8 BOM as 0xEF at offset 0.
        case unexpectedCharacter(UInt8)
        case invalidUTF8
        case floatNotAllowed
        case integerOutOfRange
        case duplicateKey(String)
        case tooDeep
        case invalidEscape
        case loneSurrogate
        case controlCharacterInString
        case trailingContent
        case emptyInput
    }

    public let reason: Reason
    /// Byte offset in the input: where the offending token (number, escape,
    /// key, bracket) or byte starts.
    public let offset: Int
    /// JSON path of the value being parsed when it failed: `""` at top level,
    /// `durationMinutes`, `attachments[1].sha256`, `[3]`. Keys that are empty
    /// or contain `.`, `[`, `]`, `"`, `\`, whitespace or control characters
    /// are written `["..."]` with JSON escapes.
    public let path: String

    public init(reason: Reason, offset: Int, path: String = "") {
        self.reason = reason
        self.offset = offset
        self.path = path
    }

    /// E.g. `field 'durationMinutes': floats are not allowed (integers only) at byte 57`.
    public var description: String {
        let what = reason.message
        if path.isEmpty { return "\(what) at byte \(offset)" }
        return "field '\(path)': \(what) at byte \(offset)"
    }

    // MARK: path building, on the error path only

    internal func inside(key: String) -> JSONParseError {
        let component = JSONParseError.pathComponent(forKey: key)
        let joined: String
        if path.isEmpty {
            joined = component
        } else if path.hasPrefix("[") {
            joined = component + path
        } else {
            joined = component + "." + path
        }
        return JSONParseError(reason: reason, offset: offset, path: joined)
    }

    internal func inside(index: Int) -> JSONParseError {
        let component = "[\(index)]"
        let joined: String
        if path.isEmpty || path.hasPrefix("[") { joined = component + path } else { joined = component + "." + path }
        return JSONParseError(reason: reason, offset: offset, path: joined)
    }

    internal static func pathComponent(forKey key: String) -> String {
        var plain = !key.isEmpty
        for u in key.utf8 {
            switch u {
            case UInt8(ascii: "."), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "\""),
                UInt8(ascii: "\\"), UInt8(ascii: " "), UInt8(ascii: "'"), 0x7F, 0x00..<0x20:
                plain = false
            default: break
            }
            if !plain { break }
        }
        if plain { return key }
        return "[" + JSONWriter.string(.string(key)) + "]"
    }
}

extension JSONParseError.Reason {
    /// Human text; never includes input string contents (a duplicate key's name is shown).
    public var message: String {
        switch self {
        case .unexpectedEnd: return "unexpected end of input"
        case .unexpectedCharacter(let b):
            if b >= 0x21 && b <= 0x7E && b != UInt8(ascii: "'") {
                return "unexpected character '\(Character(Unicode.Scalar(b)))'"
            }
            if b == 0xEF { return "unexpected byte 0xEF (a byte order mark is not allowed)" }
            return "unexpected byte 0x" + hex2(b)
        case .invalidUTF8: return "invalid UTF-8"
        case .floatNotAllowed: return "floats are not allowed (integers only)"
        case .integerOutOfRange: return "integer outside the 64-bit signed range"
        case .duplicateKey(let k): return "duplicate key \(JSONWriter.string(.string(k)))"
        case .tooDeep: return "nesting too deep"
        case .invalidEscape: return "invalid escape sequence in string"
        case .loneSurrogate: return "unpaired UTF-16 surrogate in \\u escape"
        case .controlCharacterInString: return "unescaped control character in string"
        case .trailingContent: return "unexpected content after the JSON value"
        case .emptyInput: return "empty input"
        }
    }
}

@inline(__always)
internal func hex2(_ b: UInt8) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}
