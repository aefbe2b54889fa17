// A SHA-256 hash stored inline (four machine words), with strict text forms.


/// A 32-byte SHA-256 hash identifying a record or a tree node.
/// Stored inline as four `UInt64` words in memory (byte) order: copying a `Hash` never allocates.
public struct Hash: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32

    /// All 32 bytes zero.
    public static let zero = Hash(words: (0, 0, 0, 0))

    /// The 32 bytes, in order, as the memory image of a homogeneous tuple (contiguous by the Swift ABI).
    @usableFromInline
    internal var words: (UInt64, UInt64, UInt64, UInt64)

    @inlinable
    internal init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    /// Reads the first 32 bytes of `unsafeBytes` (no alignment needed).
    @inlinable
    public init(unsafeBytes: UnsafeRawBufferPointer) {
        precondition(unsafeBytes.count >= Hash.byteCount, "Hash needs 32 bytes")
        let p = unsafeBytes.baseAddress!
        words = (
            p.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
            p.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            p.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
            p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }

    /// nil unless `bytes` holds exactly 32 bytes.
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Hash.byteCount else { return nil }
        var h = Hash.zero
        Swift.withUnsafeMutableBytes(of: &h.words) { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
        }
        self = h
    }

    /// Standard base64 with padding, strict: exactly 44 characters, no whitespace,
    /// canonical (the two unused bits must be zero). nil unless it decodes to 32 bytes.
    public init?(base64: String) {
        var s = base64
        guard let h = s.withUTF8({ Hash.decodeBase64($0) }) else { return nil }
        self = h
    }

    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words, body)
    }

    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Standard base64 with padding (44 characters).
    public var base64: String {
        withUnsafeBytes { src in
            String(unsafeUninitializedCapacity: 44) { out in
                var i = 0, o = 0
                while i < 30 { // ten full groups of 3 bytes
                    let v = UInt32(src[i]) << 16 | UInt32(src[i + 1]) << 8 | UInt32(src[i + 2])
                    out[o] = base64Alphabet[Int(v >> 18)]
                    out[o + 1] = base64Alphabet[Int(v >> 12 & 63)]
                    out[o + 2] = base64Alphabet[Int(v >> 6 & 63)]
                    out[o + 3] = base64Alphabet[Int(v & 63)]
                    i += 3
                    o += 4
                }
                let v = UInt32(src[30]) << 16 | UInt32(src[31]) << 8
                out[40] = base64Alphabet[Int(v >> 18)]
                out[41] = base64Alphabet[Int(v >> 12 & 63)]
                out[42] = base64Alphabet[Int(v >> 6 & 63)]
                out[43] = UInt8(ascii: "=")
                return 44
            }
        }
    }

    /// Lowercase hexadecimal (64 characters).
    public var hex: String {
        withUnsafeBytes { src in
            String(unsafeUninitializedCapacity: 64) { out in
                for i in 0..<32 {
                    out[2 * i] = hexDigits[Int(src[i] >> 4)]
                    out[2 * i + 1] = hexDigits[Int(src[i] & 15)]
                }
                return 64
            }
        }
    }

    public var description: String { hex }

    @inlinable
    public static func == (a: Hash, b: Hash) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// Plain SHA-256 of `data` (no domain-separation prefix; see `recordHash` for leaves).
    public static func sha256(_ data: UnsafeRawBufferPointer) -> Hash {
        SHA256Hasher.hash(data)
    }

    @inlinable
    public static func sha256(_ data: [UInt8]) -> Hash {
        data.withUnsafeBytes { sha256($0) }
    }

    private static func decodeBase64(_ s: UnsafeBufferPointer<UInt8>) -> Hash? {
        guard s.count == 44, s[43] == UInt8(ascii: "=") else { return nil }
        var h = Hash.zero
        let ok = Swift.withUnsafeMutableBytes(of: &h.words) { dst -> Bool in
            var i = 0, o = 0
            while i < 40 {
                guard let a = base64Value(s[i]), let b = base64Value(s[i + 1]),
                      let c = base64Value(s[i + 2]), let d = base64Value(s[i + 3]) else { return false }
                let v = a << 18 | b << 12 | c << 6 | d
                dst[o] = UInt8(truncatingIfNeeded: v >> 16)
                dst[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                dst[o + 2] = UInt8(truncatingIfNeeded: v)
                i += 4
                o += 3
            }
            // 43 characters carry 258 bits: the last two must be zero (canonical form).
            guard let a = base64Value(s[40]), let b = base64Value(s[41]), let c = base64Value(s[42]),
                  c & 3 == 0 else { return false }
            let v = a << 18 | b << 12 | c << 6
            dst[30] = UInt8(truncatingIfNeeded: v >> 16)
            dst[31] = UInt8(truncatingIfNeeded: v >> 8)
            return true
        }
        return ok ? h : nil
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
private let base64Alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

private func base64Value(_ c: UInt8) -> UInt32? {
    switch c {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A"))
    case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a")) + 26
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0")) + 52
    case UInt8(ascii: "+"): return 62
    case UInt8(ascii: "/"): return 63
    default: return nil
    }
}
