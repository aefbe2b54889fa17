// Strict UTF-8 validation shared by the JSON and CSV readers.

/// Length of the well-formed UTF-8 sequence that starts at `p[i]` (a byte >= 0x80),
/// or 0 if the bytes there are not well-formed UTF-8 (Unicode 15, Table 3-7):
/// no overlong forms, no UTF-16 surrogates (U+D800...U+DFFF), nothing above U+10FFFF,
/// no truncated sequences (`end` is the first byte that may not be read).
@inline(__always)
internal func utf8MultibyteLength(_ p: UnsafeRawPointer, _ i: Int, _ end: Int) -> Int {
    @inline(__always) func at(_ k: Int) -> UInt8 { p.load(fromByteOffset: k, as: UInt8.self) }
    @inline(__always) func isCont(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }
    let b0 = at(i)
    switch b0 {
    case 0xC2...0xDF:
        guard i + 1 < end, isCont(at(i + 1)) else { return 0 }
        return 2
    case 0xE0...0xEF:
        guard i + 2 < end else { return 0 }
        let b1 = at(i + 1)
        switch b0 {
        case 0xE0: guard (0xA0...0xBF).contains(b1) else { return 0 }   // no overlongs
        case 0xED: guard (0x80...0x9F).contains(b1) else { return 0 }   // no surrogates
        default: guard isCont(b1) else { return 0 }
        }
        guard isCont(at(i + 2)) else { return 0 }
        return 3
    case 0xF0...0xF4:
        guard i + 3 < end else { return 0 }
        let b1 = at(i + 1)
        switch b0 {
        case 0xF0: guard (0x90...0xBF).contains(b1) else { return 0 }   // no overlongs
        case 0xF4: guard (0x80...0x8F).contains(b1) else { return 0 }   // <= U+10FFFF
        default: guard isCont(b1) else { return 0 }
        }
        guard isCont(at(i + 2)), isCont(at(i + 3)) else { return 0 }
        return 4
    default:
        return 0   // 0x80...0xC1 (continuation or overlong lead), 0xF5...0xFF
    }
}

/// SWAR helpers over 8 bytes loaded little-endian.
@usableFromInline internal let swarOnes: UInt64 = 0x0101_0101_0101_0101
@usableFromInline internal let swarHighs: UInt64 = 0x8080_8080_8080_8080

/// Non-zero iff some byte of `w` is zero.
@inline(__always)
internal func swarHasZeroByte(_ w: UInt64) -> UInt64 {
    (w &- swarOnes) & ~w & swarHighs
}

/// Non-zero iff some byte of `w` is a JSON string special: `"`, `\`, a control
/// character (< 0x20) or a non-ASCII byte (>= 0x80). May report false positives
/// only in the sense of sending the caller to its byte-by-byte path.
@inline(__always)
internal func swarHasJSONStringSpecial(_ w: UInt64) -> Bool {
    let high = w & swarHighs
    let control = (w &- 0x2020_2020_2020_2020) & ~w & swarHighs
    let quote = swarHasZeroByte(w ^ 0x2222_2222_2222_2222)
    let backslash = swarHasZeroByte(w ^ 0x5C5C_5C5C_5C5C_5C5C)
    return (high | control | quote | backslash) != 0
}
