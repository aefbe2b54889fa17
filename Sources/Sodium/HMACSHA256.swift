import CSodium

/// HMAC-SHA256 (RFC 2104) with a key of any length, via libsodium's `crypto_auth_hmacsha256_*` state API.
public enum HMACSHA256 {
    public static let byteCount = 32

    /// The 32-byte MAC of the concatenation of `parts` under `key`.
    public static func mac(key: UnsafeRawBufferPointer, parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        Sodium.ensureInitialized()
        var state = crypto_auth_hmacsha256_state()
        defer { withUnsafeMutableBytes(of: &state) { zeroize($0) } }
        var out = [UInt8](repeating: 0, count: byteCount)
        _ = crypto_auth_hmacsha256_init(&state, nonNullBase(key), key.count)
        for part in parts { _ = crypto_auth_hmacsha256_update(&state, nonNullBase(part), UInt64(part.count)) }
        out.withUnsafeMutableBytes { _ = crypto_auth_hmacsha256_final(&state, nonNullBase($0)) }
        return out
    }

    /// The MAC of `message` under a secret key.
    public static func mac(key: SecretBytes, message: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { k in message.withUnsafeBytes { mac(key: k, parts: [$0]) } }
    }

    /// Constant-time check (`sodium_memcmp`) of `tag` against the MAC of `message` under `key`.
    public static func verify(tag: [UInt8], key: SecretBytes, message: [UInt8]) -> Bool {
        var expected = mac(key: key, message: message)
        defer { zeroize(&expected) }
        return constantTimeEquals(expected, tag)
    }
}

/// HKDF-SHA256 (RFC 5869), built on `HMACSHA256` (the installed libsodium has no `crypto_kdf_hkdf_sha256`).
public enum HKDFSHA256 {
    /// `length` bytes (at most 255 × 32) of output keying material. An empty salt means 32 zero bytes (RFC 5869 §2.2).
    public static func derive(ikm: SecretBytes, salt: [UInt8], info: [UInt8], length: Int) -> SecretBytes {
        precondition(length >= 0 && length <= 255 * HMACSHA256.byteCount, "HKDF length out of range")
        var prk = salt.withUnsafeBytes { s in ikm.withUnsafeBytes { HMACSHA256.mac(key: s, parts: [$0]) } }
        defer { zeroize(&prk) }
        let output = SecretBytes(count: length)
        var block = [UInt8]()
        defer { zeroize(&block) }
        var written = 0
        var counter: UInt8 = 1
        while written < length {
            let previous = block
            block = prk.withUnsafeBytes { k in
                previous.withUnsafeBytes { t in
                    info.withUnsafeBytes { i in
                        withUnsafeBytes(of: counter) { c in HMACSHA256.mac(key: k, parts: [t, i, c]) }
                    }
                }
            }
            let take = min(block.count, length - written)
            output.withUnsafeMutableBytes { out in
                block.withUnsafeBytes { out.baseAddress!.advanced(by: written).copyMemory(from: $0.baseAddress!, byteCount: take) }
            }
            written += take
            counter &+= 1
        }
        return output
    }
}
