import Foundation
import LedgerSupport
import Logging
import MerkleLog
import SignedNote
import Transparency

/// The logs a witness follows: per origin, the verifier keys it accepts (`--log VKEY`, `--log-file`).
public struct TrustedLogs: Sendable {
    public let keys: [String: [NoteVerifierKey]]

    public init(vkeys: [String]) throws {
        var keys = [String: [NoteVerifierKey]]()
        for text in vkeys {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            do {
                let key = try NoteVerifierKey(text: trimmed)
                keys[key.name, default: []].append(key)
            } catch {
                throw WitnessError.logKey("\(printable(trimmed)) does not parse: \(error)")
            }
        }
        guard !keys.isEmpty else { throw WitnessError.logKey("no log to witness: give --log VKEY or --log-file") }
        self.keys = keys
    }

    /// Verifier keys from a file, one per line (`#` comments and blank lines ignored), at most 1 MiB.
    public static func lines(ofFile path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw WitnessError.logKey("\(path): cannot read (missing, unreadable or over 1 MiB)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("#") }
    }
}

/// One HTTP response of the witness: status, content type, body.
public struct WitnessResponse: Sendable, Equatable {
    public let status: Int
    public let contentType: String
    public let body: String
}

/// The add-checkpoint handler without HTTP: the verdict (`witnessVerdict`), the atomic check-and-update of the
/// durable state, and the cosignature. Safe to call concurrently.
public final class WitnessService: Sendable {
    /// Compare-and-swap retries when other requests for the same origin keep winning.
    static let maxAttempts = 16

    public let cosigner: Cosigner
    public let logs: TrustedLogs
    public let state: StateStore
    /// Where refused fork checkpoints are kept (`<state>/refused/`).
    public let evidence: RefusalEvidence
    let logger: Logger
    let clock: @Sendable () -> UInt64

    public init(cosigner: Cosigner, logs: TrustedLogs, state: StateStore,
                logger: Logger = Logger(label: "ledger.witness"),
                clock: @escaping @Sendable () -> UInt64 = { UInt64(max(0, Date().timeIntervalSince1970)) }) {
        self.cosigner = cosigner
        self.logs = logs
        self.state = state
        self.evidence = RefusalEvidence(stateDirectory: AtomicFile.directory(containing: state.path))
        self.logger = logger
        self.clock = clock
    }

    public func addCheckpoint(body: [UInt8]) async -> WitnessResponse {
        do {
            return try await decideAndPersist(body)
        } catch {
            logger.error("add-checkpoint failed: \(error)")
            return WitnessResponse(status: 500, contentType: "text/plain; charset=utf-8", body: "internal error\n")
        }
    }

    private func decideAndPersist(_ body: [UInt8]) async throws -> WitnessResponse {
        for _ in 0..<Self.maxAttempts {
            var seen: (head: WitnessedHead?, sequence: UInt64)?
            let verdict = witnessVerdict(body: body, trustedKeys: { self.logs.keys[$0] ?? [] }, latest: { origin in
                let snapshot = state.snapshot(origin)
                seen = snapshot
                return snapshot.head
            })
            guard case .cosign(let origin, let size, let root, let checkpointBody) = verdict else {
                // A 409 tells the client our head: only a durable one.
                if let seen { try await state.awaitDurable(seen.sequence) }
                keepEvidence(verdict, body: body, head: seen?.head)
                return response(for: verdict, body: body)
            }
            guard let seen else { throw WitnessError.state(path: state.path, detail: "no head was read") }
            let new = WitnessedHead(size: size, root: root)
            if seen.head == new {
                try await state.awaitDurable(seen.sequence)  // the same checkpoint again: cosign, nothing to store
            } else {
                guard let sequence = try state.update(origin, expected: seen.head, new: new) else { continue }
                try await state.awaitDurable(sequence)
            }
            let line = cosigner.cosign(checkpointBody: checkpointBody, timestamp: clock()).line
            return WitnessResponse(status: 200, contentType: "text/plain; charset=utf-8", body: line)
        }
        return WitnessResponse(status: 503, contentType: "text/plain; charset=utf-8", body: "busy: retry\n")
    }

    /// A refusal that shows the log signed another history (a same-size root change, or a proof that does not reach
    /// the witnessed root) keeps the log-signed note as evidence; routine 409s (a stale old size) keep nothing.
    private func keepEvidence(_ verdict: WitnessVerdict, body: [UInt8], head: WitnessedHead?) {
        guard let request = try? AddCheckpointRequest(parsing: body),
              let note = try? SignedNoteText(parsing: request.checkpointNote),
              let checkpoint = try? Checkpoint(body: note.text) else { return }
        let reason: String
        switch verdict {
        case .conflict(let latest) where latest == checkpoint.size && request.oldSize == latest:
            reason = "fork: another root at the size already cosigned"
        case .unprocessable:
            reason = "the consistency proof from the witnessed size does not verify (a fork, or a broken proof)"
        default:
            return
        }
        let kept = evidence.keep(note: request.checkpointNote, origin: checkpoint.origin, refusedSize: checkpoint.size,
                                 head: head, reason: reason, at: clock())
        if let kept {
            logger.warning("kept the refused checkpoint as evidence", metadata: ["file": "\(kept)"])
        } else {
            logger.error("could not keep the refused checkpoint as evidence (\(evidence.directory) full or unwritable)")
        }
    }

    private func response(for verdict: WitnessVerdict, body: [UInt8]) -> WitnessResponse {
        let text = "text/plain; charset=utf-8"
        switch verdict {
        case .cosign:
            preconditionFailure("handled by the caller")
        case .badRequest(let why):
            return WitnessResponse(status: 400, contentType: text, body: "bad request: \(printable(why))\n")
        case .forbidden:
            return WitnessResponse(status: 403, contentType: text, body: "no trusted log signature verifies\n")
        case .unknownLog:
            return WitnessResponse(status: 404, contentType: text, body: "unknown log\n")
        case .conflict(let latest):
            logConflict(latest: latest, body: body)
            return WitnessResponse(status: 409, contentType: "text/x.tlog.size", body: "\(latest)\n")
        case .unprocessable(let why):
            logger.warning("refused a checkpoint: \(why)", metadata: requestMetadata(body))
            return WitnessResponse(status: 422, contentType: text, body: "\(printable(why))\n")
        }
    }

    /// A 409 for a stale old size is routine; for the checkpoint's own size it means another root (a fork), and a
    /// checkpoint smaller than the cosigned head is a rollback. Logged with origin and sizes, never keys.
    private func logConflict(latest: UInt64, body: [UInt8]) {
        var metadata = requestMetadata(body)
        metadata["witnessed_size"] = "\(latest)"
        let size = metadata["checkpoint_size"].flatMap { UInt64("\($0)") }
        if size == latest {
            logger.warning("refused a fork: another root at the size already cosigned", metadata: metadata)
        } else if let size, size < latest {
            logger.warning("refused a rollback: the checkpoint is smaller than the size already cosigned",
                           metadata: metadata)
        } else {
            logger.info("409: the client's old size is not the latest cosigned size", metadata: metadata)
        }
    }

    private func requestMetadata(_ body: [UInt8]) -> Logger.Metadata {
        guard let request = try? AddCheckpointRequest(parsing: body),
              let note = try? SignedNoteText(parsing: request.checkpointNote),
              let checkpoint = try? Checkpoint(body: note.text) else { return [:] }
        return ["origin": "\(printable(checkpoint.origin))", "checkpoint_size": "\(checkpoint.size)",
                "old_size": "\(request.oldSize)"]
    }
}
