import MerkleLog

/// Table-driven strict base64 decoding for what a bundle already shows its reader (leaves, revealed disclosures).
/// Accepts what `Sodium.Base64.decode` / `decodeURL` accept (RFC 4648 §4 padded, §5 unpadded; no whitespace,
/// canonical: unused trailing bits zero), at several times the speed, except that bytes above 0x7f are always refused
/// (libsodium 1.0.18 reads them as sign-extended chars and lets some through; Python's verifier refuses them too).
/// Its table lookups depend on the input, so it is for public data only: secrets go through libsodium's
/// constant-time decoder.
package enum PublicBase64 {
    private static let invalid: UInt8 = 0xff

    private static func table(_ alphabet: String) -> [UInt8] {
        var t = [UInt8](repeating: invalid, count: 256)
        for (i, c) in alphabet.utf8.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }

    private static let standardTable = table("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    private static let urlTable = table("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// Standard alphabet with exact `=` padding (RFC 4648 §4).
    package static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0), urlSafe: false) }
    }

    /// URL-safe alphabet, no padding (RFC 4648 §5).
    package static func decodeURL(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0), urlSafe: true) }
    }

    package static func decode(_ input: UnsafeRawBufferPointer, urlSafe: Bool) -> [UInt8]? {
        guard let length = unpaddedLength(input, urlSafe: urlSafe) else { return nil }
        let tail = length % 4
        guard tail != 1 else { return nil }
        let outCount = length / 4 * 3 + (tail == 0 ? 0 : tail - 1)
        return (urlSafe ? urlTable : standardTable).withUnsafeBufferPointer { t -> [UInt8]? in
            var valid = false
            let out = [UInt8](unsafeUninitializedCapacity: outCount) { out, initialized in
                valid = decodeGroups(input, length: length, table: t, into: out)
                initialized = outCount
            }
            return valid ? out : nil
        }
    }

    /// The characters before the padding: all of them for the URL-safe alphabet, which has none; nil when the
    /// standard alphabet's `=` padding is not exact.
    @inline(__always)
    private static func unpaddedLength(_ input: UnsafeRawBufferPointer, urlSafe: Bool) -> Int? {
        var length = input.count
        guard !urlSafe, length > 0 else { return length }
        guard length % 4 == 0 else { return nil }
        if input[length - 1] == UInt8(ascii: "=") { length -= 1 }
        if input[length - 1] == UInt8(ascii: "=") { length -= 1 }
        // Padding must complete the last group exactly: 2 characters take "==", 3 take "=".
        guard (input.count - length) == (4 - length % 4) % 4 else { return nil }
        return length
    }

    /// Decodes the first `length` characters (length % 4 != 1) into `out`, which holds exactly their bytes; false when
    /// a character is outside the alphabet or the unused bits of a last partial group are not zero.
    @inline(__always)
    private static func decodeGroups(_ input: UnsafeRawBufferPointer, length: Int, table t: UnsafeBufferPointer<UInt8>,
                                     into out: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        var failed = false
        @inline(__always) func value(_ at: Int) -> UInt32 {
            let v = t[Int(input[at])]
            if v == invalid { failed = true }
            return UInt32(v)
        }
        var i = 0, o = 0
        while i + 4 <= length {
            let v = value(i) << 18 | value(i + 1) << 12 | value(i + 2) << 6 | value(i + 3)
            out[o] = UInt8(truncatingIfNeeded: v >> 16)
            out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
            out[o + 2] = UInt8(truncatingIfNeeded: v)
            i += 4
            o += 3
        }
        if length - i == 2 {
            let v = value(i) << 18 | value(i + 1) << 12
            if v & 0xffff != 0 { failed = true }  // canonical: the 4 unused bits are zero
            out[o] = UInt8(truncatingIfNeeded: v >> 16)
        } else if length - i == 3 {
            let v = value(i) << 18 | value(i + 1) << 12 | value(i + 2) << 6
            if v & 0xff != 0 { failed = true }    // canonical: the 2 unused bits are zero
            out[o] = UInt8(truncatingIfNeeded: v >> 16)
            out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
        }
        return !failed
    }

    /// A 32-byte hash in standard padded base64 (44 characters), as `Hash(base64:)` accepts it, without allocating.
    package static func decodeHash(_ input: UnsafeRawBufferPointer) -> Hash? {
        guard input.count == 44, input[43] == UInt8(ascii: "="), input[42] != UInt8(ascii: "=") else { return nil }
        return standardTable.withUnsafeBufferPointer { t -> Hash? in
            var h = Hash.zero
            var bad: UInt8 = 0
            withUnsafeMutableBytes(of: &h) { out in
                var o = 0
                var i = 0
                while i < 40 {
                    let a = t[Int(input[i])], b = t[Int(input[i + 1])]
                    let c = t[Int(input[i + 2])], d = t[Int(input[i + 3])]
                    bad |= (a | b | c | d) & 0x80
                    let v = UInt32(a & 63) << 18 | UInt32(b & 63) << 12 | UInt32(c & 63) << 6 | UInt32(d & 63)
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4
                    o += 3
                }
                let a = t[Int(input[40])], b = t[Int(input[41])], c = t[Int(input[42])]
                bad |= (a | b | c) & 0x80
                bad |= c & 3  // canonical: the 2 unused bits are zero
                let v = UInt32(a & 63) << 18 | UInt32(b & 63) << 12 | UInt32(c & 63) << 6
                out[30] = UInt8(truncatingIfNeeded: v >> 16)
                out[31] = UInt8(truncatingIfNeeded: v >> 8)
            }
            return bad == 0 ? h : nil
        }
    }
}
