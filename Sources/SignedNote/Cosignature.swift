import Sodium

/// c2sp.org/tlog-cosignature: the vkey signature type of Ed25519 cosignature/v1 keys.
public let cosignatureV1Algorithm: UInt8 = 0x04
/// c2sp.org/tlog-cosignature: the vkey signature type of ML-DSA-44 cosignatures (recognised, never verified here).
public let cosignatureMLDSA44Algorithm: UInt8 = 0x06

/// The cosignature/v1 signed message (c2sp.org/tlog-cosignature, "Ed25519 signed message"):
/// `cosignature/v1\ntime <timestamp>\n` followed by the whole checkpoint body (with its final newline).
public func cosignatureV1Message(checkpointBody: String, timestamp: UInt64) -> [UInt8] {
    Array("cosignature/v1\ntime \(timestamp)\n".utf8) + Array(checkpointBody.utf8)
}

/// A witness's Ed25519 cosignature/v1 public key: vkey `<name>+<key id>+base64(0x04 || key)`, key id
/// `SHA-256(name || "\n" || 0x04 || key)[:4]`.
public struct CosignerKey: Sendable, Equatable {
    public let name: String
    public let keyHash: UInt32
    /// The raw 32-byte Ed25519 public key.
    public let publicKey: [UInt8]

    /// Preconditions: `name` is a valid key name, `publicKey` is 32 bytes.
    public init(name: String, publicKey: [UInt8]) {
        precondition(isValidKeyName(name), "invalid cosigner key name")
        precondition(publicKey.count == 32, "Ed25519 public key must be 32 bytes")
        self.name = name
        self.publicKey = publicKey
        self.keyHash = encodedKeyHash(name: name, encodedKey: [cosignatureV1Algorithm] + publicKey)
    }

    /// Parses a cosignature/v1 vkey strictly (type 0x04, 32-byte key, matching key id).
    public init(text: String) throws {
        try self.init(parsed: VerifierKeyText(text: text))
    }

    public init(parsed: VerifierKeyText) throws {
        guard parsed.algorithm == cosignatureV1Algorithm else {
            throw NoteError.malformedVerifierKey("not a cosignature/v1 key (signature type \(parsed.algorithm), not 4)")
        }
        guard parsed.keyMaterial.count == 32 else {
            throw NoteError.malformedVerifierKey("Ed25519 cosigner key must be 32 bytes")
        }
        self.name = parsed.name
        self.keyHash = parsed.keyHash
        self.publicKey = parsed.keyMaterial
    }

    /// `<name>+<8 hex>+<base64(0x04 || publicKey)>`, without a trailing newline.
    public var text: String {
        "\(name)+\(formatKeyHash(keyHash))+\(Base64.encode([cosignatureV1Algorithm] + publicKey))"
    }

    /// Whether a signature line claims this key (same name and key id); it may still fail to verify.
    public func claims(_ signature: NoteSignature) -> Bool {
        signature.isBy(name: name, keyHash: keyHash)
    }

    /// The cosignature's timestamp if `signature` is this key's valid cosignature/v1 over `checkpointBody`
    /// (a 72-byte `timestamped_signature`: big-endian u64 timestamp ≤ 2^63 - 1, then the Ed25519 signature).
    public func verify(_ signature: NoteSignature, checkpointBody: String) -> UInt64? {
        guard claims(signature), signature.signature.count == 72 else { return nil }
        let timestamp = signature.signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard timestamp <= UInt64(Int64.max) else { return nil }
        let message = cosignatureV1Message(checkpointBody: checkpointBody, timestamp: timestamp)
        let valid = Ed25519.verify(signature: Array(signature.signature.dropFirst(8)), message: message,
                                   publicKey: publicKey)
        return valid ? timestamp : nil
    }

    public static func == (a: CosignerKey, b: CosignerKey) -> Bool {
        a.name.utf8.elementsEqual(b.name.utf8) && a.keyHash == b.keyHash && a.publicKey == b.publicKey
    }
}

/// Cosigns checkpoints with a witness's Ed25519 key (cosignature/v1).
public struct Cosigner: Sendable {
    public let name: String
    public let keyHash: UInt32
    private let key: Ed25519SigningKey

    /// `seed` is the 32-byte Ed25519 seed; `name` must be a valid key name (by convention a schema-less URL).
    public init(name: String, seed: SecretBytes) throws {
        guard isValidKeyName(name) else { throw NoteError.malformedSignerKey("invalid cosigner name") }
        guard seed.count == 32 else { throw NoteError.malformedSignerKey("Ed25519 seed must be 32 bytes") }
        key = try Ed25519SigningKey(seed: seed)
        self.name = name
        keyHash = encodedKeyHash(name: name, encodedKey: [cosignatureV1Algorithm] + key.publicKey)
    }

    public var publicKey: CosignerKey { CosignerKey(name: name, publicKey: key.publicKey) }

    /// The cosignature/v1 signature line over `checkpointBody` at `timestamp` (POSIX seconds, ≤ 2^63 - 1).
    public func cosign(checkpointBody: String, timestamp: UInt64) -> NoteSignature {
        precondition(timestamp <= UInt64(Int64.max), "cosignature timestamp beyond 2^63 - 1")
        let signature = key.sign(cosignatureV1Message(checkpointBody: checkpointBody, timestamp: timestamp))
        let time = (0..<8).map { UInt8(truncatingIfNeeded: timestamp >> (56 - 8 * UInt64($0))) }
        return NoteSignature(name: name, keyHash: keyHash, signature: time + signature)
    }
}

extension NoteSignature {
    /// The note signature line `— <name> base64(key id || signature)` with its final newline.
    public var line: String {
        let hash = (0..<4).map { UInt8(truncatingIfNeeded: keyHash >> (24 - 8 * UInt32($0))) }
        return "\u{2014} \(name) \(Base64.encode(hash + signature))\n"
    }

    /// The timestamp of a cosignature/v1 signature (its first 8 bytes, big-endian), or nil if it is not 72 bytes.
    public var cosignatureTimestamp: UInt64? {
        guard signature.count == 72 else { return nil }
        return signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}

extension SignedNoteText {
    /// Parses the signature lines of a tlog-witness `add-checkpoint` response body (one or more note signature
    /// lines, each ending in a newline) by appending them to `checkpointBody`'s note form.
    public static func signatureLines(_ body: [UInt8], checkpointBody: String) throws -> [NoteSignature] {
        guard !body.isEmpty else { throw NoteError.malformedNote("no signature lines") }
        return try SignedNoteText(parsing: Array(checkpointBody.utf8) + [0x0a] + body).signatures
    }

    /// The note text with `extra` signature lines appended after its own (lines already present are not repeated).
    public func adding(_ extra: [NoteSignature]) -> String {
        var all = signatures
        for signature in extra where !all.contains(signature) { all.append(signature) }
        return text + "\n" + all.map(\.line).joined()
    }
}

extension Cosigner {
    /// A witness key file: `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x04 || seed)>` and one optional newline,
    /// the form of Go's note signer keys with the cosignature/v1 type byte. The key id must match the derived key.
    /// `bytes` is the caller's (zeroed by it); every copy made here is zeroed before returning.
    public init(keyFile bytes: [UInt8]) throws {
        var text = bytes.last == 0x0a ? Array(bytes.dropLast()) : bytes
        defer { zeroize(&text) }
        let fields = text.split(separator: UInt8(ascii: "+"), maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].elementsEqual("PRIVATE".utf8), fields[1].elementsEqual("KEY".utf8) else {
            throw NoteError.malformedSignerKey("a witness key file starts with PRIVATE+KEY+<name>+<key id>+")
        }
        let name = String(decoding: fields[2], as: UTF8.self)
        guard isValidKeyName(name) else { throw NoteError.malformedSignerKey("invalid cosigner name") }
        guard let hash = parseKeyHash(Substring(String(decoding: fields[3], as: UTF8.self))) else {
            throw NoteError.malformedSignerKey("key id must be 8 lowercase hex digits")
        }
        guard var decoded = Base64.decode(bytes: fields[4]) else {
            throw NoteError.malformedSignerKey("key is not valid base64")
        }
        defer { zeroize(&decoded) }
        guard decoded.count == 33, decoded[0] == cosignatureV1Algorithm else {
            throw NoteError.malformedSignerKey("not an Ed25519 cosignature/v1 seed (type 0x04, 32 bytes)")
        }
        let seed = decoded.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
        try self.init(name: name, seed: seed)
        guard keyHash == hash else { throw NoteError.malformedSignerKey("key id does not match key") }
    }

    /// The key file text for `seed` under `name` (see `init(keyFile:)`), as bytes the caller zeroes. Every copy of
    /// the seed made here is written into a buffer allocated at its final size and zeroed before returning.
    public static func keyFileBytes(name: String, seed: SecretBytes) throws -> [UInt8] {
        let cosigner = try Cosigner(name: name, seed: seed)
        var raw = [UInt8](repeating: 0, count: 33)
        defer { zeroize(&raw) }
        raw[0] = cosignatureV1Algorithm
        seed.withUnsafeBytes { source in
            raw.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: 1).copyMemory(from: source.baseAddress!, byteCount: 32) }
        }
        var encoded = Base64.encodeToBytes(raw)
        defer { zeroize(&encoded) }
        let prefix = Array("PRIVATE+KEY+\(name)+\(formatKeyHash(cosigner.keyHash))+".utf8)
        var file = [UInt8]()
        file.reserveCapacity(prefix.count + encoded.count + 1)
        file.append(contentsOf: prefix)
        file.append(contentsOf: encoded)
        file.append(0x0a)
        return file
    }
}
