import Sodium

/// Seals bytes to age X25519 recipients in the age-encryption.org/v1 format (c2sp.org/age).
public enum AgeEncryptor {
    /// Writes the age file for `plaintext` to `write` piece by piece (header, nonce, then each sealed chunk),
    /// so the caller may stream it to a file. Every recipient gets an X25519 stanza.
    public static func seal(_ plaintext: UnsafeRawBufferPointer, to recipients: [AgeRecipient],
                            write: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !recipients.isEmpty else { throw AgeError.invalidRecipient("no recipient given") }
        let fileKey = SecretBytes(randomCount: 16)
        let stanzas = try recipients.map { try AgeX25519.wrap(fileKey, to: $0) }
        let header = Array(headerWithMAC(stanzas, fileKey: fileKey).utf8)
        try header.withUnsafeBytes(write)
        let nonce = SecureRandom.bytes(AgePayload.nonceSize)
        try nonce.withUnsafeBytes(write)
        try AgePayload.seal(plaintext, key: AgePayload.key(fileKey: fileKey, nonce: nonce), write: write)
    }

    /// The whole age file in memory.
    public static func seal(_ plaintext: [UInt8], to recipients: [AgeRecipient]) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(plaintext.count + plaintext.count / AgePayload.chunkSize * 16 + 512)
        try plaintext.withUnsafeBytes { p in try seal(p, to: recipients) { out.append(contentsOf: $0) } }
        return out
    }

    /// Version line, stanzas, `---`, and the MAC (HMAC-SHA256 under HKDF(file key, info "header")).
    static func headerWithMAC(_ stanzas: [AgeStanza], fileKey: SecretBytes) -> String {
        let head = AgeHeader.versionLine + "\n" + stanzas.map { $0.rendered() }.joined() + "---"
        let mac = HMACSHA256.mac(key: headerKey(fileKey), message: Array(head.utf8))
        return head + " " + AgeBase64.encode(mac) + "\n"
    }

    static func headerKey(_ fileKey: SecretBytes) -> SecretBytes {
        HKDFSHA256.derive(ikm: fileKey, salt: [], info: Array("header".utf8), length: 32)
    }
}

/// Opens age-encryption.org/v1 files with X25519 identities, in memory: nothing decrypted touches the disk.
public enum AgeDecryptor {
    /// The plaintext of `file`, in secret bytes (zeroed when released). Throws `AgeError`.
    public static func open(_ file: UnsafeRawBufferPointer, identities: [AgeIdentity]) throws -> SecretBytes {
        let header = try AgeHeader.parse(file)
        let fileKey = try unwrapFileKey(header.stanzas, identities: identities)
        guard HMACSHA256.verify(tag: header.mac, key: AgeEncryptor.headerKey(fileKey), message: header.macInput) else {
            throw AgeError.headerMACMismatch
        }
        let (sealed, key) = try payload(of: file, after: header, fileKey: fileKey)
        return try AgePayload.open(sealed, key: key)
    }

    /// Opens `file` into a buffer the caller provides: `output` receives the plaintext size and returns exactly that
    /// many bytes of memory (e.g. an anonymous memory file). On failure the buffer is zeroed before the error.
    public static func open(_ file: UnsafeRawBufferPointer, identities: [AgeIdentity],
                            output: (Int) throws -> UnsafeMutableRawBufferPointer) throws {
        let header = try AgeHeader.parse(file)
        let fileKey = try unwrapFileKey(header.stanzas, identities: identities)
        guard HMACSHA256.verify(tag: header.mac, key: AgeEncryptor.headerKey(fileKey), message: header.macInput) else {
            throw AgeError.headerMACMismatch
        }
        let (sealed, key) = try payload(of: file, after: header, fileKey: fileKey)
        let size = try AgePayload.plaintextSize(sealed)
        let target = try output(size)
        precondition(target.count == size, "AgeDecryptor: the output buffer must hold exactly the plaintext")
        try AgePayload.open(sealed, key: key, into: target)
    }

    /// The sealed chunks and the payload key (HKDF of the file key and the payload nonce).
    private static func payload(of file: UnsafeRawBufferPointer, after header: AgeHeader,
                                fileKey: SecretBytes) throws -> (UnsafeRawBufferPointer, SecretBytes) {
        let rest = UnsafeRawBufferPointer(rebasing: file[header.payloadOffset...])
        guard rest.count >= AgePayload.nonceSize else { throw AgeError.payloadTruncated }
        let nonce = Array(rest.prefix(AgePayload.nonceSize))
        let sealed = UnsafeRawBufferPointer(rebasing: rest[AgePayload.nonceSize...])
        return (sealed, AgePayload.key(fileKey: fileKey, nonce: nonce))
    }

    /// `open` over an array.
    public static func open(_ file: [UInt8], identities: [AgeIdentity]) throws -> SecretBytes {
        try file.withUnsafeBytes { try open($0, identities: identities) }
    }

    /// True if the bytes start like an age v1 file (the version line).
    public static func looksLikeAge(_ prefix: [UInt8]) -> Bool {
        prefix.starts(with: Array((AgeHeader.versionLine + "\n").utf8))
    }

    /// The 16-byte file key from the first X25519 stanza one of the identities opens.
    static func unwrapFileKey(_ stanzas: [AgeStanza], identities: [AgeIdentity]) throws -> SecretBytes {
        for (index, stanza) in stanzas.enumerated() where stanza.type == AgeX25519.type {
            for identity in identities {
                if let key = try AgeX25519.unwrap(stanza, index: index, identity: identity) {
                    guard key.count == 16 else { throw AgeError.malformedHeader("the file key is not 16 bytes") }
                    return key
                }
            }
        }
        throw AgeError.noMatchingIdentity(stanzaTypes: stanzas.map(\.type))
    }
}
