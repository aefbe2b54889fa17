import Sodium

/// One signature line of a note, not yet verified.
public struct NoteSignature: Sendable, Equatable {
    public let name: String
    public let keyHash: UInt32
    /// The signature bytes after the 4-byte key hash (64 bytes for Ed25519).
    public let signature: [UInt8]

    public init(name: String, keyHash: UInt32, signature: [UInt8]) {
        self.name = name
        self.keyHash = keyHash
        self.signature = signature
    }

    /// Byte-wise (not Unicode-canonical) equality of names, as in Go.
    public static func == (a: NoteSignature, b: NoteSignature) -> Bool {
        a.name.utf8.elementsEqual(b.name.utf8) && a.keyHash == b.keyHash && a.signature == b.signature
    }
}

/// A parsed C2SP signed note (https://c2sp.org/signed-note), as Go's `note.Open` reads it.
public struct SignedNoteText: Sendable {
    /// Notes larger than this are refused before any other work.
    public static let maxNoteSize = 1 << 20
    /// Notes with more signature lines than this are refused (Go's limit).
    public static let maxSignatures = 100

    /// The signed text, including its final newline, excluding the separating blank line.
    public let text: String
    /// All signature lines, in order (duplicates and unknown keys included).
    public let signatures: [NoteSignature]

    /// Parses hostile input strictly; see `init(parsing bytes:)`.
    public init(parsing note: String) throws {
        try self.init(parsing: Array(note.utf8))
    }

    /// Parses hostile input strictly: at most `maxNoteSize` bytes, valid UTF-8, no ASCII control
    /// characters other than newline; text and signature block separated by the last blank line;
    /// one or more lines `— <name> <base64(keyHash || signature)>` each ending in newline, valid
    /// names, strict standard base64 of at least 5 bytes, at most `maxSignatures` lines.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxNoteSize else {
            throw NoteError.malformedNote("note exceeds \(Self.maxNoteSize) bytes")
        }
        guard let index = bytes.firstIndex(where: { $0 < 0x20 && $0 != 0x0a }) else {
            try self.init(validatedBytes: bytes)
            return
        }
        throw NoteError.malformedNote("control character at byte \(index)")
    }

    private init(validatedBytes bytes: [UInt8]) throws {
        let decoded = String(decoding: bytes, as: UTF8.self)
        guard decoded.utf8.elementsEqual(bytes) else { throw NoteError.malformedNote("invalid UTF-8") }

        // The text ends at the last blank line: find the last "\n\n".
        let lastBlank = bytes.indices.dropLast().last(where: { bytes[$0] == 0x0a && bytes[$0 + 1] == 0x0a })
        guard let split = lastBlank else { throw NoteError.malformedNote("no blank line before signatures") }
        let textBytes = bytes[..<(split + 1)]
        let signatureBlock = bytes[(split + 2)...]
        guard !signatureBlock.isEmpty else { throw NoteError.malformedNote("no signatures") }
        guard signatureBlock.last == 0x0a else {
            throw NoteError.malformedNote("signature block does not end in a newline")
        }

        let lines = signatureBlock.dropLast().split(separator: 0x0a, omittingEmptySubsequences: false)
        guard lines.count <= Self.maxSignatures else {
            throw NoteError.malformedNote("more than \(Self.maxSignatures) signatures")
        }
        self.text = String(decoding: textBytes, as: UTF8.self)
        self.signatures = try lines.enumerated().map { try Self.signature($1, number: $0 + 1) }
    }

    /// Signature line `number` (1-based): `— <name> <base64(keyHash || signature)>`.
    private static func signature(_ line: ArraySlice<UInt8>, number: Int) throws -> NoteSignature {
        let prefix: [UInt8] = [0xe2, 0x80, 0x94, 0x20] // "— " (U+2014, space)
        guard line.starts(with: prefix) else {
            throw NoteError.malformedNote("signature line \(number) does not start with \"— \"")
        }
        let body = line.dropFirst(prefix.count)
        let space = body.firstIndex(of: 0x20) ?? body.endIndex
        let name = String(decoding: body[..<space], as: UTF8.self)
        let base64 = space < body.endIndex ? String(decoding: body[(space + 1)...], as: UTF8.self) : ""
        guard isValidKeyName(name) else {
            throw NoteError.malformedNote("signature line \(number) has an invalid key name")
        }
        guard !base64.isEmpty, let raw = Base64.decode(base64) else {
            throw NoteError.malformedNote("signature line \(number) has invalid base64")
        }
        guard raw.count >= 5 else { throw NoteError.malformedNote("signature line \(number) is too short") }
        let hash = raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return NoteSignature(name: name, keyHash: hash, signature: Array(raw.dropFirst(4)))
    }

    /// Succeeds if the note carries at least one signature whose name and key hash are the key's,
    /// and every such signature verifies over `text`. Signatures by other keys are ignored.
    /// Throws `NoteError.unknownKey` or `NoteError.invalidSignature`.
    ///
    /// Stricter than Go's `note.Open`, which verifies only the first of several signatures by one
    /// key: here a second, invalid signature by the trusted key rejects the note.
    public func verify(with key: NoteVerifierKey) throws {
        let matching = signatures.filter(key.claims)
        guard !matching.isEmpty else { throw NoteError.unknownKey }
        let message = Array(text.utf8)
        for signature in matching {
            guard Ed25519.verify(signature: signature.signature, message: message, publicKey: key.publicKey) else {
                throw NoteError.invalidSignature
            }
        }
    }

    /// Whether at least one signature line by `key` (name and key id) verifies over `text` — Go's and the
    /// tlog-witness spec's rule for accepting a note ("if none of the signatures verify … 403"). `verify(with:)` is
    /// the stricter rule this project applies to its own checkpoints.
    public func hasValidSignature(by key: NoteVerifierKey) -> Bool {
        let message = Array(text.utf8)
        return signatures.contains { signature in
            key.claims(signature)
                && Ed25519.verify(signature: signature.signature, message: message, publicKey: key.publicKey)
        }
    }
}
