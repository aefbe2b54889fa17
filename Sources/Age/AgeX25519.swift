import Sodium

/// The X25519 recipient stanza (age-encryption.org/v1): `-> X25519 <ephemeral share>` and the file key
/// wrapped with ChaCha20-Poly1305 (zero nonce) under HKDF-SHA256(shared secret, salt: share || recipient,
/// info: "age-encryption.org/v1/X25519").
enum AgeX25519 {
    static let type = "X25519"
    static let info = Array("age-encryption.org/v1/X25519".utf8)
    static let zeroNonce = [UInt8](repeating: 0, count: 12)

    /// A stanza wrapping `fileKey` to `recipient`, with a fresh ephemeral key.
    static func wrap(_ fileKey: SecretBytes, to recipient: AgeRecipient) throws -> AgeStanza {
        let ephemeral = SecretBytes(randomCount: X25519.keyByteCount)
        let share = try X25519.publicKey(secret: ephemeral)
        let shared = try X25519.sharedSecret(secret: ephemeral, peer: recipient.publicKey)
        let wrapKey = HKDFSHA256.derive(ikm: shared, salt: share + recipient.publicKey, info: info, length: 32)
        var plain = fileKey.withUnsafeBytes { Array($0) }  // the only copy outside SecretBytes, zeroed below
        defer { zeroize(&plain) }
        let wrapped = ChaCha20Poly1305.seal(plain, nonce: zeroNonce, key: wrapKey)
        return AgeStanza(type: type, arguments: [AgeBase64.encode(share)], body: wrapped)
    }

    /// The file key if `stanza` is an X25519 stanza addressed to `identity`; nil if it is for someone else.
    /// Throws for a malformed X25519 stanza (wrong argument count or sizes, low-order share).
    static func unwrap(_ stanza: AgeStanza, index: Int, identity: AgeIdentity) throws -> SecretBytes? {
        guard stanza.arguments.count == 1 else {
            throw AgeError.malformedHeader("X25519 stanza \(index + 1) needs exactly one argument")
        }
        guard let share = AgeBase64.decode(stanza.arguments[0].utf8), share.count == 32 else {
            throw AgeError.malformedHeader("X25519 stanza \(index + 1): the share is not 32 bytes of canonical base64")
        }
        guard stanza.body.count == 32 else {
            throw AgeError.malformedHeader("X25519 stanza \(index + 1): the body is not 32 bytes")
        }
        let shared: SecretBytes
        do { shared = try X25519.sharedSecret(secret: identity.secret, peer: share) } catch {
            throw AgeError.malformedHeader("X25519 stanza \(index + 1): low-order ephemeral share")
        }
        let wrapKey = HKDFSHA256.derive(ikm: shared, salt: share + identity.recipient.publicKey, info: info,
                                        length: 32)
        return try? ChaCha20Poly1305.open(stanza.body, nonce: zeroNonce, key: wrapKey)
    }
}
