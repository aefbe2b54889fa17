import MerkleLog
import SignedNote
import Sodium

/// A c2sp.org/tlog-witness `add-checkpoint` request body: `old <size>`, at most 63 consistency-proof hash lines,
/// an empty line, then the signed checkpoint note.
public struct AddCheckpointRequest: Sendable, Equatable {
    /// Bodies larger than this are refused (a checkpoint note with a few signatures is well under 16 KiB).
    public static let maxBodySize = 64 * 1024
    public static let maxProofHashes = 63

    public let oldSize: UInt64
    /// The RFC 6962 §2.1.2 consistency proof from `oldSize` to the checkpoint's size.
    public let proof: [Hash]
    public let checkpointNote: String

    public init(oldSize: UInt64, proof: [Hash], checkpointNote: String) {
        self.oldSize = oldSize
        self.proof = proof
        self.checkpointNote = checkpointNote
    }

    public var body: [UInt8] {
        var text = "old \(oldSize)\n"
        for hash in proof { text += Base64.encode(hash.bytes) + "\n" }
        return Array((text + "\n" + checkpointNote).utf8)
    }

    /// Parses a hostile request body strictly; every failure is a `400 Bad Request`.
    public init(parsing body: [UInt8]) throws {
        guard body.count <= Self.maxBodySize else {
            throw TransparencyError.request("body larger than \(Self.maxBodySize) bytes")
        }
        guard let blank = body.indices.dropLast().first(where: { body[$0] == 0x0a && body[$0 + 1] == 0x0a }) else {
            throw TransparencyError.request("no empty line before the checkpoint")
        }
        let lines = body[..<blank].split(separator: 0x0a, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard let first = lines.first, first.hasPrefix("old "), let old = canonicalDecimal(first.dropFirst(4)),
              old <= UInt64(Int64.max) else {
            throw TransparencyError.request("the first line must be old <decimal size>")
        }
        guard lines.count - 1 <= Self.maxProofHashes else {
            throw TransparencyError.request("more than \(Self.maxProofHashes) consistency proof lines")
        }
        self.proof = try lines.dropFirst().map { line in
            guard let hash = Hash(base64: line) else {
                throw TransparencyError.request("a consistency proof line is not a base64 SHA-256 hash")
            }
            return hash
        }
        self.oldSize = old
        self.checkpointNote = String(decoding: body[(blank + 2)...], as: UTF8.self)
    }
}

/// What a witness answers an add-checkpoint request (c2sp.org/tlog-witness, "add-checkpoint").
public enum WitnessVerdict: Sendable, Equatable {
    /// 200: cosign the checkpoint and record `size` and `root` as the latest for `origin`.
    case cosign(origin: String, size: UInt64, root: Hash, checkpointBody: String)
    /// 400: a malformed request, or an old size larger than the checkpoint's.
    case badRequest(String)
    /// 403: no signature by a key the witness trusts for the origin verifies.
    case forbidden
    /// 404: the witness does not know the checkpoint's origin.
    case unknownLog
    /// 409: the old size is not the latest cosigned size, or the same size has another root (a fork). The response
    /// body is `latestSize` in decimal and a newline, with content type `text/x.tlog.size`.
    case conflict(latestSize: UInt64)
    /// 422: the consistency proof does not verify.
    case unprocessable(String)

    public var httpStatus: Int {
        switch self {
        case .cosign: return 200
        case .badRequest: return 400
        case .forbidden: return 403
        case .unknownLog: return 404
        case .conflict: return 409
        case .unprocessable: return 422
        }
    }
}

/// The witness's record of a log: the latest checkpoint size and root it cosigned.
public struct WitnessedHead: Sendable, Equatable {
    public let size: UInt64
    public let root: Hash
    public init(size: UInt64, root: Hash) {
        self.size = size
        self.root = root
    }
}

/// The witness's decision on one request, given the keys it trusts per origin and its latest record for the
/// request's origin (`latest(origin)`, nil when it never cosigned that log). The caller must look up the record
/// and persist a `.cosign` outcome atomically (c2sp.org/tlog-witness: "checking the old size … and persisting the
/// new checkpoint must be performed atomically").
public func witnessVerdict(body: [UInt8], trustedKeys: (String) -> [NoteVerifierKey],
                           latest: (String) throws -> WitnessedHead?) rethrows -> WitnessVerdict {
    let request: AddCheckpointRequest
    do { request = try AddCheckpointRequest(parsing: body) } catch { return .badRequest("\(error)") }
    guard let note = try? SignedNoteText(parsing: request.checkpointNote),
          let checkpoint = try? Checkpoint(body: note.text) else {
        return .badRequest("the checkpoint is not a signed tlog-checkpoint note")
    }
    let keys = trustedKeys(checkpoint.origin)
    guard !keys.isEmpty else { return .unknownLog }
    guard keys.contains(where: { (try? note.verify(with: $0)) != nil }) else { return .forbidden }
    guard request.oldSize <= checkpoint.size, let root = Hash(bytes: checkpoint.rootHash) else {
        return .badRequest("old size \(request.oldSize) is larger than the checkpoint size \(checkpoint.size)")
    }
    let head = try latest(checkpoint.origin)
    guard request.oldSize == (head?.size ?? 0) else { return .conflict(latestSize: head?.size ?? 0) }
    if let failure = consistencyFailure(request, head: head, size: checkpoint.size, root: root) { return failure }
    return .cosign(origin: checkpoint.origin, size: checkpoint.size, root: root, checkpointBody: note.text)
}

/// The 409 or 422 outcome when the checkpoint does not extend `head`, or nil when it does.
private func consistencyFailure(_ request: AddCheckpointRequest, head: WitnessedHead?, size: UInt64,
                                root: Hash) -> WitnessVerdict? {
    guard let head, head.size > 0 else {
        // Never cosigned (or only the empty tree): the proof must be empty.
        return request.proof.isEmpty ? nil : .unprocessable("a consistency proof from size 0 must be empty")
    }
    if size == head.size {
        // Same size: the root must be the one cosigned before, or it is a fork.
        guard root == head.root else { return .conflict(latestSize: head.size) }
        return request.proof.isEmpty ? nil : .unprocessable("a consistency proof between equal sizes must be empty")
    }
    do {
        try checkTree(proof: request.proof, newSize: Int64(size), newRoot: root, oldSize: Int64(head.size),
                      oldRoot: head.root)
        return nil
    } catch {
        return .unprocessable("the consistency proof from \(head.size) to \(size) does not verify")
    }
}
