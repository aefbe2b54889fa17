// Strict RFC 8259 JSON parser over raw bytes, integers only.
//
// Hand-written, byte-level, one pass: UTF-8 is validated inside strings as they
// are scanned (outside strings only ASCII structure is allowed), string values
// are made from validated byte slices, escapes are decoded into one reused
// scratch buffer. JSON paths for errors are built only while an error unwinds.

public enum JSONParser {
    /// Parses exactly one JSON value (surrounded by optional whitespace).
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 32) throws(JSONParseError) -> JSONValue {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(reason: .emptyInput, offset: 0)
        }
        var p = _JSONParser(base: base, end: bytes.count, maxDepth: maxDepth)
        return try p.parseDocument()
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = 32) throws(JSONParseError) -> JSONValue {
        let r: Result<JSONValue, JSONParseError> = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSONValue in try parse(raw, maxDepth: maxDepth) }
        }
        return try r.get()
    }

    public static func parse(_ text: String, maxDepth: Int = 32) throws(JSONParseError) -> JSONValue {
        var text = text
        let r: Result<JSONValue, JSONParseError> = text.withUTF8 { buf in
            Result { () throws(JSONParseError) -> JSONValue in
                try parse(UnsafeRawBufferPointer(buf), maxDepth: maxDepth)
            }
        }
        return try r.get()
    }

    /// Parses a JSON value that must be an object (e.g. one record).
    /// A non-object top-level value is reported as `unexpectedCharacter` at its first byte.
    public static func parseObject(_ bytes: UnsafeRawBufferPointer,
                                   maxDepth: Int = 32) throws(JSONParseError) -> JSONObject {
        let v = try parse(bytes, maxDepth: maxDepth)
        if case .object(let o) = v { return o }
        var i = 0
        while i < bytes.count, _isJSONWhitespace(bytes[i]) { i += 1 }
        throw JSONParseError(reason: .unexpectedCharacter(bytes[i]), offset: i)
    }
}

@inline(__always)
internal func _isJSONWhitespace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
}

private let asciiQuote = UInt8(ascii: "\"")
private let asciiBackslash = UInt8(ascii: "\\")

fileprivate struct _JSONParser {
    let base: UnsafeRawPointer
    let end: Int
    let maxDepth: Int
    var pos = 0
    var scratch: [UInt8] = []
    /// Members / elements of the containers being parsed, innermost on top; each
    /// container copies its slice out once, at its exact size.
    let memberStack = _MoveStack<JSONObject.Member>()
    let elementStack = _MoveStack<JSONValue>()

    init(base: UnsafeRawPointer, end: Int, maxDepth: Int) {
        self.base = base
        self.end = end
        self.maxDepth = maxDepth
    }

    @inline(__always) func byte(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }

    @inline(__always) mutating func skipWhitespace() {
        while pos < end, _isJSONWhitespace(byte(pos)) { pos += 1 }
    }

    func fail(_ reason: JSONParseError.Reason, at offset: Int) -> JSONParseError {
        JSONParseError(reason: reason, offset: offset)
    }

    /// The error for a byte that may not appear at `offset` (a structural position).
    func unexpected(at offset: Int) -> JSONParseError {
        guard offset < end else { return fail(.unexpectedEnd, at: offset) }
        let c = byte(offset)
        if c >= 0x80, utf8MultibyteLength(base, offset, end) == 0 { return fail(.invalidUTF8, at: offset) }
        return fail(.unexpectedCharacter(c), at: offset)
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        if pos == end { throw fail(.emptyInput, at: pos) }
        let v = try parseValue(depth: 0)
        skipWhitespace()
        if pos != end {
            let c = byte(pos)
            if c >= 0x80, utf8MultibyteLength(base, pos, end) == 0 { throw fail(.invalidUTF8, at: pos) }
            throw fail(.trailingContent, at: pos)
        }
        return v
    }

    /// Precondition: whitespace skipped.
    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
        switch byte(pos) {
        case asciiQuote: return .string(try parseString())
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .integer(try parseInteger())
        default: throw unexpected(at: pos)
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        for k in 0..<n {
            guard pos + k < end else { throw fail(.unexpectedEnd, at: pos + k) }
            guard byte(pos + k) == w[k] else { throw unexpected(at: pos + k) }
        }
        pos += n
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> [JSONValue] {
        if depth > maxDepth { throw fail(.tooDeep, at: pos) }
        pos += 1  // [
        skipWhitespace()
        if pos < end, byte(pos) == UInt8(ascii: "]") {
            pos += 1
            return []
        }
        let base = elementStack.count
        while true {
            do throws(JSONParseError) {
                let v = try parseValue(depth: depth)
                elementStack.append(v)
            } catch {
                throw error.inside(index: elementStack.count - base)
            }
            if try closes(UInt8(ascii: "]")) { return elementStack.popArray(from: base) }
        }
    }

    /// After a member or element: `,` (false: another follows, whitespace after it skipped) or `close` (true).
    @inline(__always) mutating func closes(_ close: UInt8) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
        let c = byte(pos)
        pos += 1
        if c == UInt8(ascii: ",") {
            skipWhitespace()
            return false
        }
        if c == close { return true }
        throw unexpected(at: pos - 1)
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONObject {
        if depth > maxDepth { throw fail(.tooDeep, at: pos) }
        pos += 1  // {
        skipWhitespace()
        if pos < end, byte(pos) == UInt8(ascii: "}") {
            pos += 1
            return JSONObject()
        }
        let base = memberStack.count
        var index: [String: Int]? = nil  // only for very large objects
        while true {
            let keyOffset = pos
            let (key, fp) = try parseKey()
            try rejectDuplicate(key, fingerprint: fp, at: keyOffset, membersFrom: base, index: &index)
            try colon()
            do throws(JSONParseError) {
                let v = try parseValue(depth: depth)
                memberStack.append(JSONObject.Member(key: key, fingerprint: fp, value: v))
            } catch {
                throw error.inside(key: key)
            }
            if try closes(UInt8(ascii: "}")) {
                return JSONObject(uniqueMembers: memberStack.popArray(from: base), index: index)
            }
        }
    }

    /// A member's key at `pos` and its fingerprint (hashed from the input bytes when it has no escapes).
    @inline(__always) mutating func parseKey() throws(JSONParseError) -> (key: String, fingerprint: UInt64) {
        guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
        guard byte(pos) == asciiQuote else { throw unexpected(at: pos) }
        let keyOffset = pos
        let key = try parseString()
        if pos - keyOffset - 2 == key.utf8.count {  // no escapes: hash the input bytes
            let raw = UnsafeRawBufferPointer(start: self.base + keyOffset + 1, count: pos - keyOffset - 2)
            return (key, keyFingerprint(raw))
        }
        return (key, keyFingerprint(key))
    }

    /// Throws `duplicateKey` when the object being parsed (members `base...` of the stack) already has `key`:
    /// a scan of fingerprints, or once the object has `JSONObject.indexThreshold` members, a dictionary `index`.
    @inline(__always)
    func rejectDuplicate(_ key: String, fingerprint fp: UInt64, at keyOffset: Int, membersFrom base: Int,
                         index: inout [String: Int]?) throws(JSONParseError) {
        if index != nil {
            if index!.updateValue(memberStack.count - base, forKey: key) != nil {
                throw fail(.duplicateKey(key), at: keyOffset)
            }
            return
        }
        let top = memberStack.count
        let m = memberStack.base
        for i in base..<top {
            let f = m[i].fingerprint
            if f == fp || f == 0 || fp == 0, m[i].key == key { throw fail(.duplicateKey(key), at: keyOffset) }
        }
        if top - base >= JSONObject.indexThreshold {
            var d = [String: Int](minimumCapacity: (top - base) * 2)
            for i in base..<top { d[m[i].key] = i - base }
            d[key] = top - base
            index = d
        }
    }

    /// The `:` after a key, with whitespace either side.
    @inline(__always) mutating func colon() throws(JSONParseError) {
        skipWhitespace()
        guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
        guard byte(pos) == UInt8(ascii: ":") else { throw unexpected(at: pos) }
        pos += 1
        skipWhitespace()
    }

    // MARK: numbers

    mutating func parseInteger() throws(JSONParseError) -> Int64 {
        let start = pos
        let negative = byte(pos) == UInt8(ascii: "-")
        if negative { pos += 1 }
        guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
        guard isDigit(byte(pos)) else { throw unexpected(at: pos) }
        let (magnitude, overflow) = try parseMagnitude()
        if pos < end {
            let c = byte(pos)
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                try rejectFloatTail(numberStart: start)
            }
        }
        if overflow { throw fail(.integerOutOfRange, at: start) }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            guard magnitude <= UInt64(Int64.max) else { throw fail(.integerOutOfRange, at: start) }
            return -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw fail(.integerOutOfRange, at: start) }
        return Int64(magnitude)
    }

    /// The digits at `pos` (a first digit is there; a leading zero stands alone), and whether they overflowed.
    @inline(__always) mutating func parseMagnitude() throws(JSONParseError) -> (UInt64, overflow: Bool) {
        if byte(pos) == 0x30 {
            pos += 1
            if pos < end, isDigit(byte(pos)) { throw fail(.unexpectedCharacter(byte(pos)), at: pos) }  // leading zero
            return (0, false)
        }
        var magnitude: UInt64 = 0
        var overflow = false
        while pos < end {
            let c = byte(pos)
            guard isDigit(c) else { break }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c &- 0x30))
            magnitude = a
            overflow = overflow || o1 || o2
            pos += 1
        }
        return (magnitude, overflow)
    }

    @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// At `.`, `e` or `E` after an integer: a well-formed fraction/exponent is
    /// `floatNotAllowed` (policy); a malformed one is a syntax error where it breaks.
    /// Always throws.
    mutating func rejectFloatTail(numberStart: Int) throws(JSONParseError) {
        if byte(pos) == UInt8(ascii: ".") {
            pos += 1
            guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
            guard isDigit(byte(pos)) else { throw unexpected(at: pos) }
            while pos < end, isDigit(byte(pos)) { pos += 1 }
        }
        if pos < end, byte(pos) == UInt8(ascii: "e") || byte(pos) == UInt8(ascii: "E") {
            pos += 1
            if pos < end, byte(pos) == UInt8(ascii: "+") || byte(pos) == UInt8(ascii: "-") { pos += 1 }
            guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
            guard isDigit(byte(pos)) else { throw unexpected(at: pos) }
        }
        throw fail(.floatNotAllowed, at: numberStart)
    }

    // MARK: strings

    /// Precondition: `byte(pos) == '"'`. Returns the decoded string; `pos` after the closing quote.
    mutating func parseString() throws(JSONParseError) -> String {
        pos += 1
        let start = pos
        while true {
            while pos + 8 <= end {
                let w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
                if swarHasJSONStringSpecial(w) { break }
                pos += 8
            }
            guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
            let c = byte(pos)
            if c == asciiQuote {
                let s = String(decoding: UnsafeRawBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
                pos += 1
                return s
            }
            if c == asciiBackslash { return try parseEscapedString(from: start) }
            if c < 0x20 { throw fail(.controlCharacterInString, at: pos) }
            if c < 0x80 {
                pos += 1
            } else {
                let n = utf8MultibyteLength(base, pos, end)
                if n == 0 { throw fail(.invalidUTF8, at: pos) }
                pos += n
            }
        }
    }

    /// Slow path once a backslash is seen: bytes `start..<pos` are valid and copied
    /// to `scratch`, then the rest is decoded there.
    mutating func parseEscapedString(from start: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        appendToScratch(start, pos)
        var runStart = pos
        while true {
            while pos + 8 <= end {
                let w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
                if swarHasJSONStringSpecial(w) { break }
                pos += 8
            }
            guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
            let c = byte(pos)
            if c == asciiQuote {
                appendToScratch(runStart, pos)
                pos += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if c == asciiBackslash {
                appendToScratch(runStart, pos)
                try decodeEscape()
                runStart = pos
                continue
            }
            if c < 0x20 { throw fail(.controlCharacterInString, at: pos) }
            if c < 0x80 {
                pos += 1
            } else {
                let n = utf8MultibyteLength(base, pos, end)
                if n == 0 { throw fail(.invalidUTF8, at: pos) }
                pos += n
            }
        }
    }

    @inline(__always) mutating func appendToScratch(_ from: Int, _ to: Int) {
        if to > from {
            scratch.append(contentsOf: UnsafeRawBufferPointer(start: base + from, count: to - from))
        }
    }

    /// Precondition: `byte(pos) == '\\'`. Appends the decoded character; `pos` after the escape.
    mutating func decodeEscape() throws(JSONParseError) {
        let escapeStart = pos
        guard pos + 1 < end else { throw fail(.unexpectedEnd, at: pos + 1) }
        let e = byte(pos + 1)
        pos += 2
        switch e {
        case asciiQuote: scratch.append(asciiQuote)
        case asciiBackslash: scratch.append(asciiBackslash)
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"): appendUTF8(try unicodeEscape(escapeStart: escapeStart))
        default:
            throw fail(.invalidEscape, at: escapeStart)
        }
    }

    /// The scalar of a `\uXXXX` escape whose hex digits are at `pos` (a high surrogate must be followed by an
    /// escaped low surrogate); `pos` after it.
    mutating func unicodeEscape(escapeStart: Int) throws(JSONParseError) -> UInt32 {
        let unit = try hex4(escapeStart: escapeStart)
        if unit >= 0xDC00 && unit <= 0xDFFF { throw fail(.loneSurrogate, at: escapeStart) }
        guard unit >= 0xD800 && unit <= 0xDBFF else { return UInt32(unit) }
        guard pos + 1 < end, byte(pos) == asciiBackslash, byte(pos + 1) == UInt8(ascii: "u") else {
            if pos >= end || (pos + 1 >= end && byte(pos) == asciiBackslash) {
                throw fail(.unexpectedEnd, at: end)
            }
            throw fail(.loneSurrogate, at: escapeStart)
        }
        let secondStart = pos
        pos += 2
        let low = try hex4(escapeStart: secondStart)
        guard low >= 0xDC00 && low <= 0xDFFF else { throw fail(.loneSurrogate, at: escapeStart) }
        return 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
    }

    /// Reads 4 hex digits at `pos`.
    mutating func hex4(escapeStart: Int) throws(JSONParseError) -> UInt16 {
        var v: UInt16 = 0
        for _ in 0..<4 {
            guard pos < end else { throw fail(.unexpectedEnd, at: pos) }
            let c = byte(pos)
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x61...0x66: d = c - 0x61 + 10
            case 0x41...0x46: d = c - 0x41 + 10
            default: throw fail(.invalidEscape, at: escapeStart)
            }
            v = v << 4 | UInt16(d)
            pos += 1
        }
        return v
    }

    mutating func appendUTF8(_ s: UInt32) {
        if s < 0x80 {
            scratch.append(UInt8(s))
        } else if s < 0x800 {
            scratch.append(UInt8(0xC0 | (s >> 6)))
            scratch.append(UInt8(0x80 | (s & 0x3F)))
        } else if s < 0x10000 {
            scratch.append(UInt8(0xE0 | (s >> 12)))
            scratch.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (s & 0x3F)))
        } else {
            scratch.append(UInt8(0xF0 | (s >> 18)))
            scratch.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (s & 0x3F)))
        }
    }
}

/// A stack of values that containers push while they are parsed and move out
/// of in one piece (no per-element retain/release, exact-size result arrays).
fileprivate final class _MoveStack<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init() {
        capacity = 64
        base = .allocate(capacity: capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    @inline(__always) func append(_ e: __owned Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: e)
        count += 1
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }

    /// Moves elements `from..<count` into a new array and pops them.
    func popArray(from start: Int) -> [Element] {
        let n = count - start
        let result = [Element](unsafeUninitializedCapacity: n) { buf, initialized in
            buf.baseAddress!.moveInitialize(from: base + start, count: n)
            initialized = n
        }
        count = start
        return result
    }
}
