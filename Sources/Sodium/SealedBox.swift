import CSodium

/// An X25519 key pair (`crypto_box_*`): the public half seals, only the secret half opens.
public struct BoxKeyPair: Sendable {
    public static let publicKeyByteCount = 32
    public static let secretKeyByteCount = 32
    public static let seedByteCount = 32

    public let publicKey: [UInt8]
    public let secretKey: SecretBytes

    /// A fresh key pair from libsodium's CSPRNG.
    public static func generate() -> BoxKeyPair {
        Sodium.ensureInitialized()
        var publicKey = [UInt8](repeating: 0, count: publicKeyByteCount)
        let secret = SecretBytes(count: secretKeyByteCount)
        let rc = secret.withUnsafeMutableBytes { crypto_box_keypair(&publicKey, nonNullBase($0)) }
        precondition(rc == 0, "crypto_box_keypair failed (\(rc))")
        return BoxKeyPair(publicKey: publicKey, secretKey: secret)
    }

    /// The key pair determined by a 32-byte seed (`crypto_box_seed_keypair`): a key derived from another key.
    public init(seed: SecretBytes) {
        Sodium.ensureInitialized()
        precondition(seed.count == Self.seedByteCount, "a box key seed is 32 bytes")
        var publicKey = [UInt8](repeating: 0, count: Self.publicKeyByteCount)
        let secret = SecretBytes(count: Self.secretKeyByteCount)
        let rc = secret.withUnsafeMutableBytes { sk in
            seed.withUnsafeBytes { crypto_box_seed_keypair(&publicKey, nonNullBase(sk), nonNullBase($0)) }
        }
        precondition(rc == 0, "crypto_box_seed_keypair failed (\(rc))")
        self.init(publicKey: publicKey, secretKey: secret)
    }

    /// The pair of a stored secret key: the public key is recomputed (X25519 base-point multiplication).
    public init(secretKey: SecretBytes) throws {
        Sodium.ensureInitialized()
        guard secretKey.count == Self.secretKeyByteCount else {
            throw SodiumError(operation: "box.secretKey", code: -1)
        }
        var publicKey = [UInt8](repeating: 0, count: Self.publicKeyByteCount)
        let rc = secretKey.withUnsafeBytes { crypto_scalarmult_base(&publicKey, nonNullBase($0)) }
        guard rc == 0 else { throw SodiumError(operation: "box.publicKey", code: rc) }
        self.init(publicKey: publicKey, secretKey: secretKey)
    }

    private init(publicKey: [UInt8], secretKey: SecretBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }
}

/// Anonymous public-key encryption (`crypto_box_seal`): an ephemeral X25519 key agreement with the recipient's
/// public key, then XSalsa20-Poly1305. Anyone can seal to a public key; only the secret key opens. 48 bytes of
/// overhead (ephemeral public key and tag).
public enum SealedBox {
    public static let overhead = 48

    public static func seal(_ message: UnsafeRawBufferPointer, to publicKey: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialized()
        precondition(publicKey.count == BoxKeyPair.publicKeyByteCount, "a box public key is 32 bytes")
        var out = [UInt8](repeating: 0, count: message.count + overhead)
        let rc = crypto_box_seal(&out, nonNullBase(message), UInt64(message.count), publicKey)
        precondition(rc == 0, "crypto_box_seal failed (\(rc))")
        return out
    }

    public static func seal(_ message: SecretBytes, to publicKey: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { seal($0, to: publicKey) }
    }

    /// Opens a sealed box with the recipient's key pair. Throws `box.open` when it was not sealed to this key or was
    /// altered; nothing is released then.
    public static func open(_ sealed: UnsafeRawBufferPointer, with pair: BoxKeyPair) throws -> SecretBytes {
        Sodium.ensureInitialized()
        guard sealed.count >= overhead else { throw SodiumError(operation: "box.open", code: -1) }
        let message = SecretBytes(count: sealed.count - overhead)
        let rc = message.withUnsafeMutableBytes { out in
            pair.secretKey.withUnsafeBytes { sk in
                crypto_box_seal_open(nonNullBase(out), nonNullBase(sealed), UInt64(sealed.count), pair.publicKey,
                                     nonNullBase(sk))
            }
        }
        guard rc == 0 else { throw SodiumError(operation: "box.open", code: rc) }
        return message
    }
}
