import MerkleLog
import SignedNote
import Sodium

/// A c2sp.org/tlog-proof@v1 receipt: an entry's index, its RFC 6962 inclusion proof and the (cosigned) checkpoint
/// it is proved against, verifiable offline with the log's key and, optionally, a witness policy.
public struct TlogProof: Sendable, Equatable {
    public static let header = "c2sp.org/tlog-proof@v1"
    /// Receipts larger than this are refused before parsing (a checkpoint note is at most 1 MiB).
    public static let maxSize = SignedNoteText.maxNoteSize + 8192
    /// An inclusion proof in a tree of at most 2^63 entries has at most 63 hashes.
    public static let maxProofHashes = 63

    /// Opaque, unauthenticated extra data (never trusted).
    public let extra: [UInt8]?
    public let index: UInt64
    /// From the leaf's sibling up to the root's child (RFC 6962 §2.1.1).
    public let proof: [Hash]
    /// The checkpoint note, verbatim, with all its signature lines.
    public let checkpointNote: String

    public init(extra: [UInt8]? = nil, index: UInt64, proof: [Hash], checkpointNote: String) {
        self.extra = extra
        self.index = index
        self.proof = proof
        self.checkpointNote = checkpointNote
    }

    /// The `.tlog-proof` text.
    public var text: String {
        var lines = [Self.header]
        if let extra { lines.append("extra " + Base64.encode(extra)) }
        lines.append("index \(index)")
        lines += proof.map { Base64.encode($0.bytes) }
        return lines.joined(separator: "\n") + "\n\n" + checkpointNote
    }

    /// Parses hostile input strictly: the header line, an optional `extra` line, `index N` (canonical decimal), at
    /// most 63 base64 hash lines of 32 bytes, an empty line, then a signed note (parsed, not yet verified).
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxSize else { throw TransparencyError.proof(line: 0, "larger than \(Self.maxSize) bytes") }
        guard let blank = Self.firstBlankLine(bytes) else {
            throw TransparencyError.proof(line: 0, "no empty line before the checkpoint")
        }
        let lines = bytes[..<blank].split(separator: 0x0a, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard lines.first == Self.header else { throw TransparencyError.proof(line: 1, "not \(Self.header)") }
        var at = 1
        if lines.count > at, lines[at].hasPrefix("extra ") {
            guard let extra = Base64.decode(String(lines[at].dropFirst(6))) else {
                throw TransparencyError.proof(line: at + 1, "extra data is not valid base64")
            }
            self.extra = extra
            at += 1
        } else {
            self.extra = nil
        }
        guard lines.count > at, lines[at].hasPrefix("index "),
              let index = canonicalDecimal(lines[at].dropFirst(6)), index <= UInt64(Int64.max) else {
            throw TransparencyError.proof(line: at + 1, "expected index <decimal>")
        }
        self.index = index
        let hashLines = lines[(at + 1)...]
        guard hashLines.count <= Self.maxProofHashes else {
            throw TransparencyError.proof(line: at + 2 + Self.maxProofHashes, "more than 63 proof hashes")
        }
        self.proof = try hashLines.enumerated().map { offset, line in
            guard let hash = Hash(base64: line) else {
                throw TransparencyError.proof(line: at + 2 + offset, "not a base64 SHA-256 hash")
            }
            return hash
        }
        let note = Array(bytes[(blank + 2)...])
        do { _ = try SignedNoteText(parsing: note) } catch {
            throw TransparencyError.proof(line: 0, "checkpoint: \(error)")
        }
        self.checkpointNote = String(decoding: note, as: UTF8.self)
    }

    /// Index of the "\n" that ends the last header/proof line (the next byte is the blank line's "\n").
    private static func firstBlankLine(_ bytes: [UInt8]) -> Int? {
        bytes.indices.dropLast().first { bytes[$0] == 0x0a && bytes[$0 + 1] == 0x0a }
    }

    /// Checks the receipt for the entry whose RFC 6962 record hash is `recordHash`: the checkpoint is signed by
    /// `logKey` for `logKey`'s origin, and the proof leads from the record at `index` to its root. Returns the
    /// checkpoint. Throws `NoteError` or `MerkleError`.
    @discardableResult
    public func verify(recordHash: Hash, logKey: NoteVerifierKey) throws -> Checkpoint {
        let checkpoint = try Checkpoint.open(note: checkpointNote, verifier: logKey)
        try checkInclusion(recordHash: recordHash, checkpoint: checkpoint)
        return checkpoint
    }

    /// As `verify(recordHash:logKey:)`, against a witness policy: the checkpoint must be signed by one of the
    /// policy's logs; the returned value says whose cosignatures verified and whether the quorum is met.
    public func verify(recordHash: Hash, policy: TlogPolicy) throws -> WitnessedCheckpoint {
        let witnessed = try WitnessedCheckpoint(note: checkpointNote, policy: policy)
        try checkInclusion(recordHash: recordHash, checkpoint: witnessed.checkpoint)
        return witnessed
    }

    private func checkInclusion(recordHash: Hash, checkpoint: Checkpoint) throws {
        guard let root = Hash(bytes: checkpoint.rootHash), checkpoint.size <= UInt64(Int64.max) else {
            throw MerkleError.invalidIndex("checkpoint size out of range")
        }
        try checkRecord(proof: proof, treeSize: Int64(checkpoint.size), root: root, index: Int64(index),
                        recordHash: recordHash)
    }
}

/// ASCII decimal with no sign and no leading zeroes (except "0"), at most 19 digits.
func canonicalDecimal(_ text: Substring) -> UInt64? {
    let bytes = Array(text.utf8)
    guard !bytes.isEmpty, bytes.count <= 19, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
          bytes == [0x30] || bytes[0] != 0x30 else { return nil }
    return UInt64(String(text))
}
