import CSodium

/// An Ed25519 signing key (`crypto_sign_seed_keypair`). The 64-byte secret key lives in `SecretBytes`.
public struct Ed25519SigningKey: Sendable {
    public static let seedByteCount = 32
    public static let publicKeyByteCount = 32
    public static let signatureByteCount = 64

    private let secretKey: SecretBytes
    /// The 32-byte public key.
    public let publicKey: [UInt8]

    /// Derives the key pair from a 32-byte seed. Throws `SodiumError(operation: "ed25519.seed", code: -1)`
    /// for a seed of the wrong size.
    public init(seed: SecretBytes) throws {
        Sodium.ensureInitialized()
        guard seed.count == Self.seedByteCount else { throw SodiumError(operation: "ed25519.seed", code: -1) }
        let secretKey = SecretBytes(count: Int(crypto_sign_secretkeybytes()))
        var publicKey = [UInt8](repeating: 0, count: Self.publicKeyByteCount)
        let rc = seed.withUnsafeBytes { s in
            secretKey.withUnsafeMutableBytes { sk in
                publicKey.withUnsafeMutableBytes { pk in
                    crypto_sign_seed_keypair(nonNullBase(pk), nonNullBase(sk), nonNullBase(s))
                }
            }
        }
        guard rc == 0 else { throw SodiumError(operation: "ed25519.seedKeypair", code: rc) }
        self.secretKey = secretKey
        self.publicKey = publicKey
    }

    /// A 64-byte detached signature of `message` (`crypto_sign_detached`).
    public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Self.signatureByteCount)
        var length: UInt64 = 0
        let rc = secretKey.withUnsafeBytes { sk in
            signature.withUnsafeMutableBytes { sig in
                crypto_sign_detached(nonNullBase(sig), &length, nonNullBase(message), UInt64(message.count),
                                     nonNullBase(sk))
            }
        }
        precondition(rc == 0 && length == UInt64(Self.signatureByteCount), "crypto_sign_detached failed (\(rc))")
        return signature
    }

    /// A 64-byte detached signature of `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { sign($0) }
    }
}

/// Ed25519 verification (`crypto_sign_verify_detached`).
public enum Ed25519 {
    /// `false` for wrong sizes (signature 64, key 32 bytes) or an invalid signature.
    /// Note: libsodium rejects small-order public keys and non-canonical encodings that some
    /// other implementations accept.
    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        message.withUnsafeBytes { verify(signature: signature, message: $0, publicKey: publicKey) }
    }

    /// Pointer variant of `verify(signature:message:publicKey:)`.
    public static func verify(signature: [UInt8], message: UnsafeRawBufferPointer, publicKey: [UInt8]) -> Bool {
        Sodium.ensureInitialized()
        guard signature.count == Ed25519SigningKey.signatureByteCount,
              publicKey.count == Ed25519SigningKey.publicKeyByteCount else { return false }
        return signature.withUnsafeBytes { sig in
            publicKey.withUnsafeBytes { pk in
                crypto_sign_verify_detached(nonNullBase(sig), nonNullBase(message), UInt64(message.count),
                                            nonNullBase(pk)) == 0
            }
        }
    }
}
