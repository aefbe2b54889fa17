import Sodium

/// Signature type identifier of Ed25519 in C2SP signed notes.
let algorithmEd25519: UInt8 = 0x01

/// The C2SP key ID of an Ed25519 key: the first 4 bytes, big-endian, of
/// `SHA-256(name || 0x0A || 0x01 || publicKey)`.
public func noteKeyHash(name: String, publicKey: [UInt8]) -> UInt32 {
    encodedKeyHash(name: name, encodedKey: [algorithmEd25519] + publicKey)
}

/// `encodedKey` is the algorithm byte followed by the public key.
func encodedKeyHash(name: String, encodedKey: [UInt8]) -> UInt32 {
    let digest = SHA256Sodium.hash(Array(name.utf8) + [0x0a] + encodedKey)
    return digest.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
}

/// Go's note key-name rule: non-empty, no Unicode white space, no '+'. Additionally no ASCII
/// control characters (a note containing them could never be parsed anyway).
func isValidKeyName(_ name: String) -> Bool {
    guard !name.isEmpty else { return false }
    for scalar in name.unicodeScalars {
        if scalar == "+" || scalar.properties.isWhitespace || scalar.value < 0x20 { return false }
    }
    return true
}

/// Exactly 8 lowercase hex digits (the form Go writes).
func parseKeyHash(_ text: Substring) -> UInt32? {
    let bytes = Array(text.utf8)
    guard bytes.count == 8 else { return nil }
    var value: UInt32 = 0
    for byte in bytes {
        let digit: UInt8
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
        default: return nil
        }
        value = value << 4 | UInt32(digit)
    }
    return value
}

func formatKeyHash(_ hash: UInt32) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for shift in stride(from: 28, through: 0, by: -4) { out.append(digits[Int((hash >> UInt32(shift)) & 0xf)]) }
    return String(decoding: out, as: UTF8.self)
}

/// Splits at the first `separator` (Go's `chop`): (before, after); after is empty if absent.
func chop(_ text: Substring, _ separator: Character) -> (Substring, Substring) {
    guard let index = text.firstIndex(of: separator) else { return (text, text[text.endIndex...]) }
    return (text[..<index], text[text.index(after: index)...])
}

/// Drops one trailing "\n", if any.
func trimOneNewline(_ text: String) -> Substring {
    text.utf8.last == UInt8(ascii: "\n") ? text.dropLast() : text[...]
}

/// Any C2SP vkey (https://c2sp.org/signed-note#verifier-keys), parsed but not interpreted:
/// `<name>+<8 hex key id>+<base64(signature type || key material)>`. The key id must match.
public struct VerifierKeyText: Sendable, Equatable {
    public let name: String
    public let keyHash: UInt32
    /// The signature type byte (0x01 Ed25519 notes, 0x04 Ed25519 cosignature/v1, 0x06 ML-DSA-44 cosignatures, …).
    public let algorithm: UInt8
    /// The public key material after the type byte.
    public let keyMaterial: [UInt8]

    /// Parses strictly: valid name, exactly 8 lowercase hex digits that match the key, strict standard base64 of at
    /// least the type byte. One trailing newline (as in a key file) is ignored; nothing else is.
    public init(text: String) throws {
        let (name, rest) = chop(trimOneNewline(text), "+")
        let (hash16, key64) = chop(rest, "+")
        guard isValidKeyName(String(name)) else { throw NoteError.malformedVerifierKey("invalid key name") }
        guard let hash = parseKeyHash(hash16) else {
            throw NoteError.malformedVerifierKey("key id must be 8 lowercase hex digits")
        }
        guard let key = Base64.decode(String(key64)), !key.isEmpty else {
            throw NoteError.malformedVerifierKey("key is not valid base64")
        }
        guard key.count >= 2 else { throw NoteError.malformedVerifierKey("the key holds a type byte and no key") }
        guard encodedKeyHash(name: String(name), encodedKey: key) == hash else {
            throw NoteError.malformedVerifierKey("key id does not match key")
        }
        self.name = String(name)
        self.keyHash = hash
        self.algorithm = key[0]
        self.keyMaterial = Array(key.dropFirst())
    }

    /// The vkey text, without a trailing newline.
    public var text: String {
        "\(name)+\(formatKeyHash(keyHash))+\(Base64.encode([algorithm] + keyMaterial))"
    }

    /// Whether a note signature line claims this key: same name (byte-wise) and key id.
    public func claims(_ signature: NoteSignature) -> Bool {
        signature.isBy(name: name, keyHash: keyHash)
    }
}

extension NoteSignature {
    /// Whether this line names the key `name` with key id `keyHash` (names compared byte-wise, as in Go). The line
    /// may still fail to verify.
    public func isBy(name: String, keyHash: UInt32) -> Bool {
        self.keyHash == keyHash && self.name.utf8.elementsEqual(name.utf8)
    }
}

extension NoteVerifierKey {
    /// Whether a signature line claims this key (same name and key id).
    public func claims(_ signature: NoteSignature) -> Bool { signature.isBy(name: name, keyHash: keyHash) }
}

/// A public key that verifies notes, in Go's text form `<name>+<8 hex key id>+<base64(0x01 || key)>`.
public struct NoteVerifierKey: Sendable, Equatable {
    public let name: String
    public let keyHash: UInt32
    /// The raw 32-byte Ed25519 public key.
    public let publicKey: [UInt8]

    /// Preconditions: `name` is a valid key name (see `isValidName`), `publicKey` is 32 bytes.
    public init(name: String, publicKey: [UInt8]) {
        precondition(isValidKeyName(name), "invalid note key name")
        precondition(publicKey.count == 32, "Ed25519 public key must be 32 bytes")
        self.name = name
        self.publicKey = publicKey
        self.keyHash = noteKeyHash(name: name, publicKey: publicKey)
    }

    /// Parses the text form strictly: valid name, exactly 8 lowercase hex digits that match
    /// the key, strict standard base64, algorithm byte 0x01, 32-byte key. One trailing newline
    /// (as in a key file) is ignored; nothing else is.
    public init(text: String) throws {
        let parsed = try VerifierKeyText(text: text)
        guard parsed.algorithm == algorithmEd25519 else {
            throw NoteError.malformedVerifierKey("unknown key algorithm \(parsed.algorithm)")
        }
        guard parsed.keyMaterial.count == 32 else { throw NoteError.malformedVerifierKey("Ed25519 key must be 32 bytes") }
        self.name = parsed.name
        self.keyHash = parsed.keyHash
        self.publicKey = parsed.keyMaterial
    }

    /// `<name>+<8 hex>+<base64(0x01 || publicKey)>`, without a trailing newline.
    public var text: String {
        "\(name)+\(formatKeyHash(keyHash))+\(Base64.encode([algorithmEd25519] + publicKey))"
    }

    /// Go's rule for key names: non-empty, no Unicode spaces, no '+' (and, here, no control characters).
    public static func isValidName(_ name: String) -> Bool { isValidKeyName(name) }

    /// Byte-wise (not Unicode-canonical) equality of names, as in Go.
    public static func == (a: NoteVerifierKey, b: NoteVerifierKey) -> Bool {
        a.name.utf8.elementsEqual(b.name.utf8) && a.keyHash == b.keyHash && a.publicKey == b.publicKey
    }
}

/// Signs notes with an Ed25519 key.
public struct NoteSigner: Sendable {
    public let name: String
    public let keyHash: UInt32
    private let key: Ed25519SigningKey

    /// `seed` is the 32-byte Ed25519 seed; `name` must be a valid key name.
    public init(name: String, seed: SecretBytes) throws {
        guard isValidKeyName(name) else { throw NoteError.malformedSignerKey("invalid key name") }
        guard seed.count == 32 else { throw NoteError.malformedSignerKey("Ed25519 seed must be 32 bytes") }
        let key = try Ed25519SigningKey(seed: seed)
        self.name = name
        self.key = key
        self.keyHash = noteKeyHash(name: name, publicKey: key.publicKey)
    }

    /// Go's signer key format `PRIVATE+KEY+<name>+<8 hex>+<base64(0x01 || seed)>`; the key id
    /// must match the derived public key. One trailing newline is ignored. The caller's string
    /// cannot be zeroed; prefer `init(name:seed:)` with `SecretBytes` outside tests and imports.
    public init(signerKeyText: String) throws {
        let (priv1, rest1) = chop(trimOneNewline(signerKeyText), "+")
        let (priv2, rest2) = chop(rest1, "+")
        let (name, rest3) = chop(rest2, "+")
        let (hash16, key64) = chop(rest3, "+")
        guard priv1 == "PRIVATE", priv2 == "KEY" else {
            throw NoteError.malformedSignerKey("missing PRIVATE+KEY prefix")
        }
        guard isValidKeyName(String(name)) else { throw NoteError.malformedSignerKey("invalid key name") }
        guard let hash = parseKeyHash(hash16) else {
            throw NoteError.malformedSignerKey("key id must be 8 lowercase hex digits")
        }
        guard var decoded = Base64.decode(String(key64)), !decoded.isEmpty else {
            throw NoteError.malformedSignerKey("key is not valid base64")
        }
        defer { zeroize(&decoded) }
        guard decoded[0] == algorithmEd25519 else { throw NoteError.malformedSignerKey("unknown key algorithm") }
        guard decoded.count == 33 else { throw NoteError.malformedSignerKey("Ed25519 seed must be 32 bytes") }
        let seed = decoded.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
        try self.init(name: String(name), seed: seed)
        guard keyHash == hash else { throw NoteError.malformedSignerKey("key id does not match key") }
    }

    public var verifierKey: NoteVerifierKey {
        NoteVerifierKey(name: name, publicKey: key.publicKey)
    }

    /// Returns the signed note: `text`, a blank line, and one signature line
    /// `— <name> base64(keyHash_be32 || signature)`. `text` must be non-empty, end in "\n",
    /// contain no ASCII control characters other than "\n", and the note must stay within
    /// `SignedNoteText.maxNoteSize`.
    public func sign(_ text: String) throws -> String {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw NoteError.malformedNote("text is empty") }
        guard bytes.last == UInt8(ascii: "\n") else { throw NoteError.malformedNote("text does not end in a newline") }
        guard !bytes.contains(where: { $0 < 0x20 && $0 != 0x0a }) else {
            throw NoteError.malformedNote("text contains a control character")
        }
        let signature = key.sign(bytes)
        let hash: [UInt8] = [UInt8(truncatingIfNeeded: keyHash >> 24), UInt8(truncatingIfNeeded: keyHash >> 16),
                             UInt8(truncatingIfNeeded: keyHash >> 8), UInt8(truncatingIfNeeded: keyHash)]
        let note = text + "\n" + "\u{2014} " + name + " " + Base64.encode(hash + signature) + "\n"
        guard note.utf8.count <= SignedNoteText.maxNoteSize else { throw NoteError.malformedNote("note too large") }
        return note
    }
}
