import CSodium

/// ChaCha20-Poly1305-IETF (RFC 8439) with an explicit 12-byte nonce (`crypto_aead_chacha20poly1305_ietf_*`),
/// combined mode: `ciphertext || tag`. The caller owns nonce uniqueness (age: a fresh key per file, a counter nonce).
public enum ChaCha20Poly1305 {
    public static let keyByteCount = 32
    public static let nonceByteCount = 12
    public static let tagByteCount = 16

    /// Encrypts `plaintext` into `output` (exactly `plaintext.count + 16` bytes). Preconditions: sizes.
    public static func seal(_ plaintext: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                            nonce: UnsafeRawBufferPointer, key: SecretBytes,
                            into output: UnsafeMutableRawBufferPointer) {
        Sodium.ensureInitialized()
        precondition(key.count == keyByteCount && nonce.count == nonceByteCount, "ChaCha20Poly1305 key/nonce size")
        precondition(output.count == plaintext.count + tagByteCount, "ChaCha20Poly1305 output size")
        var written: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_chacha20poly1305_ietf_encrypt(
                nonNullBase(output), &written, nonNullBase(plaintext), UInt64(plaintext.count),
                nonNullBase(associatedData), UInt64(associatedData.count), nil, nonNullBase(nonce), nonNullBase(k))
        }
        precondition(rc == 0 && written == UInt64(output.count), "crypto_aead_chacha20poly1305_ietf_encrypt failed")
    }

    /// Encrypts and returns `ciphertext || tag`.
    public static func seal(_ plaintext: [UInt8], associatedData: [UInt8] = [], nonce: [UInt8],
                            key: SecretBytes) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        plaintext.withUnsafeBytes { p in
            associatedData.withUnsafeBytes { ad in
                nonce.withUnsafeBytes { n in output.withUnsafeMutableBytes { seal(p, associatedData: ad, nonce: n, key: key, into: $0) } }
            }
        }
        return output
    }

    /// Authenticates and decrypts into `output` (exactly `ciphertext.count - 16` bytes). Throws
    /// `SodiumError(operation: "chacha20poly1305.open", code:)` on a wrong size or failed authentication.
    public static func open(_ ciphertext: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                            nonce: UnsafeRawBufferPointer, key: SecretBytes,
                            into output: UnsafeMutableRawBufferPointer) throws {
        Sodium.ensureInitialized()
        guard key.count == keyByteCount, nonce.count == nonceByteCount, ciphertext.count >= tagByteCount,
              output.count == ciphertext.count - tagByteCount else {
            throw SodiumError(operation: "chacha20poly1305.open", code: -1)
        }
        var written: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_chacha20poly1305_ietf_decrypt(
                nonNullBase(output), &written, nil, nonNullBase(ciphertext), UInt64(ciphertext.count),
                nonNullBase(associatedData), UInt64(associatedData.count), nonNullBase(nonce), nonNullBase(k))
        }
        guard rc == 0 else { throw SodiumError(operation: "chacha20poly1305.open", code: rc) }
    }

    /// Authenticates and decrypts `ciphertext || tag` into secret bytes.
    public static func open(_ ciphertext: [UInt8], associatedData: [UInt8] = [], nonce: [UInt8],
                            key: SecretBytes) throws -> SecretBytes {
        guard ciphertext.count >= tagByteCount else { throw SodiumError(operation: "chacha20poly1305.open", code: -1) }
        let plaintext = SecretBytes(count: ciphertext.count - tagByteCount)
        try ciphertext.withUnsafeBytes { c in
            try associatedData.withUnsafeBytes { ad in
                try nonce.withUnsafeBytes { n in
                    try plaintext.withUnsafeMutableBytes { try open(c, associatedData: ad, nonce: n, key: key, into: $0) }
                }
            }
        }
        return plaintext
    }
}
