import CSodium

/// X25519 Diffie-Hellman (RFC 7748) via `crypto_scalarmult_curve25519`.
public enum X25519 {
    public static let keyByteCount = 32

    /// The public key (u-coordinate) of a 32-byte secret scalar: `crypto_scalarmult_curve25519_base`.
    /// Throws `SodiumError(operation: "x25519.base", code:)` for a wrong size.
    public static func publicKey(secret: SecretBytes) throws -> [UInt8] {
        Sodium.ensureInitialized()
        guard secret.count == keyByteCount else { throw SodiumError(operation: "x25519.base", code: -1) }
        var out = [UInt8](repeating: 0, count: keyByteCount)
        let rc = secret.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { crypto_scalarmult_curve25519_base(nonNullBase($0), nonNullBase(s)) }
        }
        guard rc == 0 else { throw SodiumError(operation: "x25519.base", code: rc) }
        return out
    }

    /// The shared secret of a secret scalar and a peer's public key. Throws
    /// `SodiumError(operation: "x25519", code: -1)` for wrong sizes or when the result is all zeros
    /// (a low-order peer key: libsodium refuses it, as age requires).
    public static func sharedSecret(secret: SecretBytes, peer: [UInt8]) throws -> SecretBytes {
        Sodium.ensureInitialized()
        guard secret.count == keyByteCount, peer.count == keyByteCount else {
            throw SodiumError(operation: "x25519", code: -1)
        }
        let shared = SecretBytes(count: keyByteCount)
        let rc = secret.withUnsafeBytes { s in
            peer.withUnsafeBytes { p in
                shared.withUnsafeMutableBytes {
                    crypto_scalarmult_curve25519(nonNullBase($0), nonNullBase(s), nonNullBase(p))
                }
            }
        }
        guard rc == 0 else { throw SodiumError(operation: "x25519", code: rc) }
        return shared
    }
}
