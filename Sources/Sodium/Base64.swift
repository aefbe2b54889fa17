import CBase64
import CSodium

/// Base64 via `sodium_bin2base64` / `sodium_base642bin`.
///
/// Decoding is strict: only the variant's alphabet, exact padding for the padded variant and
/// none for the unpadded one, no whitespace, no trailing garbage, and unused trailing bits must
/// be zero (canonical encodings only).
public enum Base64 {
    /// Standard alphabet, padded (RFC 4648 §4).
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { encode($0, variant: sodium_base64_VARIANT_ORIGINAL, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard alphabet, padded, strict.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(text, variant: sodium_base64_VARIANT_ORIGINAL)
    }

    /// Standard alphabet, padded, as ASCII bytes: for secrets, which the caller zeroes (a `String` cannot be).
    public static func encodeToBytes(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { encode($0, variant: sodium_base64_VARIANT_ORIGINAL, into: &out) }
        return out
    }

    /// Standard alphabet, padded, strict, from ASCII bytes: for secrets (the input copy made here is zeroed).
    public static func decode(bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var input = Array(bytes)
        defer { zeroize(&input) }
        return decode(&input, variant: sodium_base64_VARIANT_ORIGINAL)
    }

    /// URL-safe alphabet, no padding (RFC 4648 §5).
    public static func encodeURL(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { encodeURL($0, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the URL-safe, unpadded encoding of `bytes` to `output` as ASCII bytes.
    /// Allocates only when `output` has to grow.
    ///
    /// This is the hot path of hashing disclosures (secret plaintext). It maps sextets through a 64-byte table
    /// that is aligned to one 64-byte cache line, so every lookup touches the same line and the access pattern
    /// reveals nothing at cache-line granularity — the property libsodium's arithmetic encoder provides — at a
    /// fraction of its cost. Tests check it against `sodium_bin2base64` byte for byte.
    public static func encodeURL(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        let count = encodedURLCount(bytes.count)
        guard count > 0 else { return }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: count))
        output.withUnsafeMutableBufferPointer { _ = encodeURL(bytes, to: $0.baseAddress! + start) }
    }

    /// True if the AVX2 encoder handles long inputs.
    public static var usesAVX2: Bool { cbase64_uses_avx2() != 0 }

    /// Forces the table code for every length (`true`) or the CPU's choice (`false`), so tests can compare them.
    public static func forcePortable(_ portable: Bool) { cbase64_force_portable(portable ? 1 : 0) }

    /// The vector code in use: 0 none (the table code), 1 AVX2 (24-byte blocks), 2 AVX-512 VBMI (any length).
    public static var kernel: Int { Int(cbase64_kernel()) }

    /// Uses at most vector code `level`, or the CPU's best if lower (tests run each).
    public static func limitKernel(_ level: Int) { cbase64_limit_kernel(Int32(level)) }

    /// Length of the URL-safe, unpadded encoding of `byteCount` bytes.
    public static func encodedURLCount(_ byteCount: Int) -> Int {
        byteCount / 3 * 4 + (byteCount % 3 == 0 ? 0 : byteCount % 3 + 1)
    }

    /// Writes the URL-safe, unpadded encoding of `bytes` to `out` (room for `encodedURLCount(bytes.count)` bytes)
    /// and returns the number of bytes written. No allocation: the hot path of disclosure digests.
    @discardableResult
    public static func encodeURL(_ bytes: UnsafeRawBufferPointer, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let count = bytes.count
        guard count > 0 else { return 0 }
        let input = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let table = urlSafeAlphabet
        // With AVX-512 VBMI everything, with AVX2 whole 24-byte blocks, in registers (CBase64: no memory tables
        // either); the rest below.
        var i = cbase64url_encode_prefix(input, count, out)
        var o = encodedURLCount(i)
        while i + 3 <= count {
            let group = Int(input[i]) << 16 | Int(input[i + 1]) << 8 | Int(input[i + 2])
            out[o] = table[group >> 18]
            out[o + 1] = table[group >> 12 & 0x3f]
            out[o + 2] = table[group >> 6 & 0x3f]
            out[o + 3] = table[group & 0x3f]
            i += 3
            o += 4
        }
        if count - i == 1 {
            let group = Int(input[i]) << 16
            out[o] = table[group >> 18]
            out[o + 1] = table[group >> 12 & 0x3f]
            o += 2
        } else if count - i == 2 {
            let group = Int(input[i]) << 16 | Int(input[i + 1]) << 8
            out[o] = table[group >> 18]
            out[o + 1] = table[group >> 12 & 0x3f]
            out[o + 2] = table[group >> 6 & 0x3f]
            o += 3
        }
        return o
    }

    /// The URL-safe alphabet in one 64-byte, cache-line-aligned block (allocated once, never freed).
    nonisolated(unsafe) static let urlSafeAlphabet: UnsafePointer<UInt8> = {
        let block = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        block.copyMemory(from: alphabet, byteCount: 64)
        return UnsafePointer(block.assumingMemoryBound(to: UInt8.self))
    }()

    /// libsodium's encoder, kept for the equivalence tests and the base64 fuzz target.
    package static func encodeURLWithSodium(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        encode(bytes, variant: sodium_base64_VARIANT_URLSAFE_NO_PADDING, into: &output)
    }

    /// URL-safe alphabet, no padding, strict.
    public static func decodeURL(_ text: String) -> [UInt8]? {
        decode(text, variant: sodium_base64_VARIANT_URLSAFE_NO_PADDING)
    }

    /// Length of the encoding of `byteCount` bytes, without a NUL terminator.
    public static func encodedLength(_ byteCount: Int, urlSafe: Bool) -> Int {
        Sodium.ensureInitialized()
        let variant = urlSafe ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL
        return sodium_base64_encoded_len(byteCount, variant) - 1
    }

    private static func encode(_ bytes: UnsafeRawBufferPointer, variant: Int32, into output: inout [UInt8]) {
        Sodium.ensureInitialized()
        let withNul = sodium_base64_encoded_len(bytes.count, variant)
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: withNul))
        output.withUnsafeMutableBytes { buffer in
            let destination = buffer.baseAddress!.advanced(by: start).assumingMemoryBound(to: CChar.self)
            _ = sodium_bin2base64(destination, withNul, nonNullBase(bytes), bytes.count, variant)
        }
        output.removeLast() // the NUL terminator
    }

    /// True if every byte is in the alphabet (or is '=' for the padded variant). Branch-free over the bytes,
    /// which may be a key: no branch or lookup depends on a byte's value.
    static func onlyAlphabet(_ bytes: [UInt8], urlSafe: Bool) -> Bool {
        @inline(__always) func within(_ c: Int, _ lo: UInt8, _ hi: UInt8) -> Int {   // all ones if lo <= c <= hi
            ~(((c - Int(lo)) | (Int(hi) - c)) >> 63)
        }
        @inline(__always) func equal(_ c: Int, _ x: UInt8) -> Int { within(c, x, x) }
        let (sixtyTwo, sixtyThree): (UInt8, UInt8) = urlSafe
            ? (UInt8(ascii: "-"), UInt8(ascii: "_")) : (UInt8(ascii: "+"), UInt8(ascii: "/"))
        let padding = urlSafe ? 0 : -1
        var invalid = 0
        for byte in bytes {
            let c = Int(byte)
            let valid = within(c, UInt8(ascii: "A"), UInt8(ascii: "Z"))
                | within(c, UInt8(ascii: "a"), UInt8(ascii: "z"))
                | within(c, UInt8(ascii: "0"), UInt8(ascii: "9")) | equal(c, sixtyTwo) | equal(c, sixtyThree)
                | (equal(c, UInt8(ascii: "=")) & padding)
            invalid |= ~valid
        }
        return invalid == 0
    }

    private static func decode(_ text: String, variant: Int32) -> [UInt8]? {
        var input = Array(text.utf8)
        return decode(&input, variant: variant)
    }

    private static func decode(_ input: inout [UInt8], variant: Int32) -> [UInt8]? {
        Sodium.ensureInitialized()
        if input.isEmpty { return [] }
        // libsodium 1.0.18 maps some bytes >= 0x80 to alphabet values; refuse anything outside the alphabet first.
        guard onlyAlphabet(input, urlSafe: variant == sodium_base64_VARIANT_URLSAFE_NO_PADDING) else { return nil }
        var output = [UInt8](repeating: 0, count: input.count / 4 * 3 + 3)
        var decodedLength = 0
        let rc = input.withUnsafeMutableBytes { inBuf in
            output.withUnsafeMutableBytes { outBuf in
                inBuf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: inBuf.count) { chars in
                    // b64_end == NULL: libsodium fails unless the whole input was consumed.
                    sodium_base642bin(nonNullBase(outBuf), outBuf.count, chars, inBuf.count,
                                      nil, &decodedLength, nil, variant)
                }
            }
        }
        guard rc == 0 else { return nil }
        output.removeSubrange(decodedLength...)
        return output
    }
}
