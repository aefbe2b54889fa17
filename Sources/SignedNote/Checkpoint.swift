import Sodium

/// The body of a C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint):
/// `origin\nsize\nbase64(rootHash)\n` followed by optional extension lines.
public struct Checkpoint: Sendable, Equatable {
    public let origin: String
    public let size: UInt64
    /// The 32-byte RFC 6962 root hash.
    public let rootHash: [UInt8]
    /// Extension lines without their newlines; each non-empty.
    public let extensionLines: [String]

    /// Preconditions: `origin` and every extension line non-empty, without newline or other
    /// ASCII control characters; `rootHash` 32 bytes.
    public init(origin: String, size: UInt64, rootHash: [UInt8], extensionLines: [String] = []) {
        precondition(Self.isValidLine(origin), "checkpoint origin must be a non-empty line without control characters")
        precondition(rootHash.count == 32, "checkpoint root hash must be 32 bytes")
        precondition(extensionLines.allSatisfy(Self.isValidLine), "checkpoint extension lines must be non-empty lines")
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensionLines = extensionLines
    }

    /// Parses a checkpoint body strictly: every line newline-terminated and non-empty, no ASCII
    /// control characters, decimal size without sign or leading zeros (except "0") that fits in
    /// 64 bits, root hash in strict standard base64 of exactly 32 bytes.
    public init(body: String) throws {
        let bytes = Array(body.utf8)
        guard bytes.count <= SignedNoteText.maxNoteSize else { throw NoteError.malformedCheckpoint("body too large") }
        guard bytes.last == 0x0a else { throw NoteError.malformedCheckpoint("body does not end in a newline") }
        guard !bytes.contains(where: { $0 < 0x20 && $0 != 0x0a }) else {
            throw NoteError.malformedCheckpoint("control character")
        }
        let lines = bytes.dropLast().split(separator: 0x0a, omittingEmptySubsequences: false)
        guard lines.count >= 3 else { throw NoteError.malformedCheckpoint("fewer than three lines") }
        guard !lines[0].isEmpty else { throw NoteError.malformedCheckpoint("empty origin") }

        let size = try Self.parseSize(lines[1])
        guard let root = Base64.decode(String(decoding: lines[2], as: UTF8.self)) else {
            throw NoteError.malformedCheckpoint("root hash is not valid base64")
        }
        guard root.count == 32 else { throw NoteError.malformedCheckpoint("root hash is \(root.count) bytes, not 32") }

        let extensions = lines.dropFirst(3)
        guard extensions.allSatisfy({ !$0.isEmpty }) else {
            throw NoteError.malformedCheckpoint("empty extension line")
        }

        self.origin = String(decoding: lines[0], as: UTF8.self)
        self.size = size
        self.rootHash = root
        self.extensionLines = extensions.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The size line: decimal, no sign, no leading zeros (except "0"), at most 2^63 - 1.
    private static func parseSize(_ sizeText: ArraySlice<UInt8>) throws -> UInt64 {
        guard !sizeText.isEmpty, sizeText.count <= 20,
              sizeText.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw NoteError.malformedCheckpoint("size is not a decimal number")
        }
        guard sizeText.first != UInt8(ascii: "0") || sizeText.count == 1 else {
            throw NoteError.malformedCheckpoint("size has leading zeros")
        }
        var size: UInt64 = 0
        for digit in sizeText {
            let (times10, o1) = size.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw NoteError.malformedCheckpoint("size does not fit in 64 bits") }
            size = sum
        }
        // Tree sizes are RFC 6962 / tlog int64 sizes: a larger number names no tree anyone can prove against.
        guard size <= UInt64(Int64.max) else {
            throw NoteError.malformedCheckpoint("size is larger than 2^63 - 1")
        }
        return size
    }

    /// Opens a signed checkpoint, as Go's `note.Open` opens a note: parses the signed note, checks its signature by
    /// `verifier`, parses the body, and requires the body's origin to be the key's name. What it returns was signed.
    /// Throws `NoteError` naming the first step that failed.
    public static func open(note: String, verifier: NoteVerifierKey) throws -> Checkpoint {
        let signed = try SignedNoteText(parsing: note)
        try signed.verify(with: verifier)
        let checkpoint = try Checkpoint(body: signed.text)
        guard checkpoint.origin.utf8.elementsEqual(verifier.name.utf8) else {
            throw NoteError.originMismatch(origin: checkpoint.origin, keyName: verifier.name)
        }
        return checkpoint
    }

    /// `origin\nsize\nbase64(rootHash)\n` + each extension line + `\n`.
    public var body: String {
        var result = origin + "\n" + String(size) + "\n" + Base64.encode(rootHash) + "\n"
        for line in extensionLines { result += line + "\n" }
        return result
    }

    private static func isValidLine(_ line: String) -> Bool {
        !line.isEmpty && !line.utf8.contains(where: { $0 < 0x20 })
    }

    /// Byte-wise (not Unicode-canonical) equality, matching the bytes that were signed.
    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.origin.utf8.elementsEqual(b.origin.utf8) && a.size == b.size && a.rootHash == b.rootHash
            && a.extensionLines.count == b.extensionLines.count
            && zip(a.extensionLines, b.extensionLines).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }
}
