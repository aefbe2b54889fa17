import CChaCha20
import CSodium

/// XChaCha20-Poly1305-IETF authenticated encryption (`crypto_aead_xchacha20poly1305_ietf_*`),
/// combined mode: the output is `ciphertext || tag`.
public enum XChaCha20Poly1305 {
    public static let keyByteCount = 32
    public static let nonceByteCount = 24
    public static let tagByteCount = 16

    /// Encrypts `plaintext` into `output`, which must hold exactly `plaintext.count + tagByteCount`
    /// bytes (preconditions: key 32 bytes, nonce 24 bytes, output size). Does not allocate.
    /// `output` may not overlap `plaintext` except exactly (in place).
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        key: SecretBytes,
        into output: UnsafeMutableRawBufferPointer
    ) {
        Sodium.ensureInitialized()
        precondition(key.count == keyByteCount, "XChaCha20Poly1305 key must be 32 bytes")
        precondition(nonce.count == nonceByteCount, "XChaCha20Poly1305 nonce must be 24 bytes")
        precondition(output.count == plaintext.count + tagByteCount,
                     "XChaCha20Poly1305 output must be plaintext.count + 16 bytes")
        if key.withUnsafeBytes({ k in
            ComposedXChaCha20Poly1305.seal(plaintext, associatedData: associatedData, nonce: nonce, key: k, into: output)
        }) { return }
        var written: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_encrypt(
                nonNullBase(output), &written,
                nonNullBase(plaintext), UInt64(plaintext.count),
                nonNullBase(associatedData), UInt64(associatedData.count),
                nil,
                nonNullBase(nonce),
                nonNullBase(k))
        }
        // Encryption cannot fail for valid sizes; anything else is a broken library.
        precondition(rc == 0 && written == UInt64(output.count),
                     "crypto_aead_xchacha20poly1305_ietf_encrypt failed (\(rc))")
    }

    /// Encrypts and returns `ciphertext || tag`.
    public static func seal(_ plaintext: [UInt8], associatedData: [UInt8], nonce: [UInt8],
                            key: SecretBytes) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        plaintext.withUnsafeBytes { p in
            associatedData.withUnsafeBytes { ad in
                nonce.withUnsafeBytes { n in
                    output.withUnsafeMutableBytes { o in
                        seal(p, associatedData: ad, nonce: n, key: key, into: o)
                    }
                }
            }
        }
        return output
    }

    /// Authenticates and decrypts `ciphertext || tag`.
    ///
    /// Throws `SodiumError(operation: "aead.open", code: -1)` when authentication fails
    /// (wrong key, nonce, associated data, modified or truncated ciphertext); no plaintext is
    /// released then. Throws `aead.open.key` / `aead.open.nonce` (code -1) for wrong key/nonce sizes.
    public static func open(
        _ ciphertext: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        key: SecretBytes
    ) throws -> SecretBytes {
        guard key.count == keyByteCount else { throw SodiumError(operation: "aead.open.key", code: -1) }
        guard nonce.count == nonceByteCount else { throw SodiumError(operation: "aead.open.nonce", code: -1) }
        guard ciphertext.count >= tagByteCount else { throw SodiumError(operation: "aead.open", code: -1) }
        let plaintext = SecretBytes(count: ciphertext.count - tagByteCount)  // zeroed when released, also on failure
        try plaintext.withUnsafeMutableBytes {
            try open(ciphertext, associatedData: associatedData, nonce: nonce, key: key, into: $0)
        }
        return plaintext
    }

    /// Authenticates and decrypts `ciphertext || tag` into `output` (exactly `ciphertext.count - tagByteCount`
    /// bytes, caller-owned: zero it after use). Does not allocate: the deep-verify hot path reuses one buffer.
    /// Throws like `open(_:associatedData:nonce:key:)`; `output` holds nothing usable then.
    public static func open(
        _ ciphertext: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        key: SecretBytes,
        into output: UnsafeMutableRawBufferPointer
    ) throws {
        Sodium.ensureInitialized()
        guard key.count == keyByteCount else { throw SodiumError(operation: "aead.open.key", code: -1) }
        guard nonce.count == nonceByteCount else { throw SodiumError(operation: "aead.open.nonce", code: -1) }
        guard ciphertext.count >= tagByteCount else { throw SodiumError(operation: "aead.open", code: -1) }
        precondition(output.count == ciphertext.count - tagByteCount,
                     "XChaCha20Poly1305 output must be ciphertext.count - 16 bytes")
        if !overlap(output, ciphertext), let opened = key.withUnsafeBytes({ k in
            ComposedXChaCha20Poly1305.open(ciphertext, associatedData: associatedData, nonce: nonce, key: k,
                                           into: output)
        }) {
            guard opened else { throw SodiumError(operation: "aead.open", code: -1) }
            return
        }
        var written: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                nonNullBase(output), &written,
                nil,
                nonNullBase(ciphertext), UInt64(ciphertext.count),
                nonNullBase(associatedData), UInt64(associatedData.count),
                nonNullBase(nonce),
                nonNullBase(k))
        }
        guard rc == 0 else { throw SodiumError(operation: "aead.open", code: rc) }
        precondition(written == UInt64(output.count))
    }

    /// Authenticates and decrypts `ciphertext || tag`; see the pointer variant.
    public static func open(_ ciphertext: [UInt8], associatedData: [UInt8], nonce: [UInt8],
                            key: SecretBytes) throws -> SecretBytes {
        try ciphertext.withUnsafeBytes { c in
            try associatedData.withUnsafeBytes { ad in
                try nonce.withUnsafeBytes { n in
                    try open(c, associatedData: ad, nonce: n, key: key)
                }
            }
        }
    }

    /// Which ChaCha20 code seals and opens: 2 CChaCha20's AVX-512 kernel, 1 its AVX2 kernel, 0 libsodium's own
    /// (`crypto_aead_xchacha20poly1305_ietf_*`). The output is the same bytes with each (tests compare them).
    public static var kernel: Int { Int(cchacha20_kernel()) }

    /// Uses at most kernel `level`, or the CPU's best if lower (tests run each).
    public static func limitKernel(_ level: Int) { cchacha20_limit_kernel(Int32(level)) }

    private static func overlap(_ a: UnsafeMutableRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let x = a.baseAddress, let y = b.baseAddress else { return false }
        return UnsafeRawPointer(x) < y + b.count && y < UnsafeRawPointer(x) + a.count
    }
}
