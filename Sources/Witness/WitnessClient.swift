import Foundation
import MerkleLog
import SignedNote
import Transparency

/// What happened with one witness of the policy during `ledger checkpoint --witness`.
public struct WitnessOutcome: Sendable {
    public enum Result: Sendable, Equatable {
        /// A valid cosignature/v1 for the checkpoint came back.
        case cosigned
        /// The witness's key type cannot be checked here (e.g. ML-DSA-44): its lines are kept, never counted.
        case unverifiable
        /// No answer (down, refused, timed out, TLS failure, a 5xx): the quorum decides.
        case unavailable(String)
        /// The witness holds another root at the checkpoint's size, or one its proof cannot reach: a fork.
        case fork(witnessSize: UInt64)
        /// The witness cosigned a larger tree than the ledger holds: the ledger was rolled back.
        case rollback(witnessSize: UInt64)
        /// 400, 403, 404 or a witness without a URL: fix the configuration (`hint` says how).
        case misconfigured(String)
        /// A malformed or wrong answer (an invalid cosignature, a bad 409 body, 409 twice).
        case failed(String)
    }

    public let name: String
    public let url: String?
    public let result: Result
    /// The last HTTP status received, if any.
    public let httpStatus: Int?
    /// Valid cosignatures (to store) and unverifiable lines claiming the witness's key (kept, never counted).
    public let signatures: [NoteSignature]

    public var cosigned: Bool { result == .cosigned }

    /// A refusal the ledger records (`verify --policy` reports each as a violation).
    public var refusal: (kind: String, witnessSize: UInt64)? {
        switch result {
        case .fork(let size): return ("fork", size)
        case .rollback(let size): return ("rollback", size)
        default: return nil
        }
    }

    /// One line for the terminal: what happened and, for a failure, what to do.
    public func explanation(checkpointSize: UInt64) -> String {
        switch result {
        case .cosigned: return "cosigned size \(checkpointSize)"
        case .unverifiable: return "answered with a signature type this ledger cannot check (kept, not counted)"
        case .unavailable(let why): return "unavailable: \(why)"
        case .fork(let m):
            return "refused checkpoint size \(checkpointSize): it reports holding size \(m) with another root (fork)"
        case .rollback(let m):
            return "refused checkpoint size \(checkpointSize): it reports having cosigned size \(m) > ledger size "
                + "\(checkpointSize) (rollback)"
        case .misconfigured(let why): return why
        case .failed(let why): return "failed: \(why)"
        }
    }
}

/// Asks every witness of a policy to cosign one checkpoint (c2sp.org/tlog-witness `add-checkpoint`), all at
/// once. Knows nothing of the ledger: the caller gives each witness's last cosigned size and the consistency
/// proofs.
public struct WitnessClient: Sendable {
    public let policy: TlogPolicy
    public let http: HTTPPost

    public init(policy: TlogPolicy, timeout: Double) {
        self.policy = policy
        self.http = HTTPPost(timeout: timeout)
    }

    /// `note` is the signed checkpoint of `size` entries; `lastCosigned(name)` the size that witness last cosigned
    /// for this ledger (0 if never); `proof(old)` the consistency proof from `old` to `size`.
    public func collect(note: String, size: UInt64, lastCosigned: @Sendable (TlogPolicy.Witness) -> UInt64,
                        proof: @escaping @Sendable (UInt64) throws -> [Hash]) async -> [WitnessOutcome] {
        let olds = policy.witnesses.map(lastCosigned)
        return await withTaskGroup(of: (Int, WitnessOutcome).self) { group in
            for (index, witness) in policy.witnesses.enumerated() {
                let old = olds[index]
                group.addTask {
                    (index, await ask(witness, note: note, size: size, old: old, proof: proof))
                }
            }
            var outcomes = [(Int, WitnessOutcome)]()
            for await outcome in group { outcomes.append(outcome) }
            return outcomes.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private func ask(_ witness: TlogPolicy.Witness, note: String, size: UInt64, old recorded: UInt64,
                     proof: @Sendable (UInt64) throws -> [Hash]) async -> WitnessOutcome {
        func outcome(_ result: WitnessOutcome.Result, _ status: Int? = nil,
                     _ signatures: [NoteSignature] = []) -> WitnessOutcome {
            WitnessOutcome(name: witness.name, url: witness.url, result: result, httpStatus: status,
                           signatures: signatures)
        }
        guard let base = witness.url else {
            return outcome(.misconfigured("no URL in the policy: `ledger witness add NAME VKEY URL`"))
        }
        let url: URL
        do { url = try HTTPPost.addCheckpointURL(base) } catch { return outcome(.misconfigured("\(error)")) }
        var old = recorded <= size ? recorded : 0
        var resent = false
        while true {
            let response: HTTPPost.Response
            do {
                let body = AddCheckpointRequest(oldSize: old, proof: try proof(old), checkpointNote: note).body
                response = try await http.post(url, body: body)
            } catch let error as WitnessError {
                return outcome(.unavailable(error.description))
            } catch {
                return outcome(.failed("cannot build the consistency proof from \(old): \(error)"))
            }
            switch response.status {
            case 200:
                let result = cosignatures(response.body, witness: witness, note: note)
                return outcome(result.0, 200, result.1)
            case 409:
                guard let theirs = Self.parseSize(response) else {
                    return outcome(.failed("409 without a text/x.tlog.size body"), 409)
                }
                if theirs == size { return outcome(.fork(witnessSize: theirs), 409) }
                if theirs > size { return outcome(.rollback(witnessSize: theirs), 409) }
                guard !resent else { return outcome(.failed("409 again after resending from size \(old)"), 409) }
                old = theirs
                resent = true
            case 422:
                // The proof from the witness's own size does not reach our root: its tree at `old` is not ours.
                if old > 0 { return outcome(.fork(witnessSize: old), 422) }
                return outcome(.failed("422: the witness rejected an empty proof from size 0"), 422)
            case 400:
                return outcome(.misconfigured("400 Bad Request: the witness rejected the request as malformed "
                                              + "(is the URL a tlog-witness endpoint?)"), 400)
            case 403:
                return outcome(.misconfigured("403 Forbidden: the witness does not trust this ledger's key; give its "
                                              + "operator the ledger's verifier key (`ledger witness list` shows it)"),
                               403)
            case 404:
                return outcome(.misconfigured("404 Not Found: the witness does not know this log's origin (or the URL "
                                              + "is wrong); its operator must add `--log <verifier key>`"), 404)
            default:
                return outcome(.unavailable("HTTP \(response.status)"), response.status)
            }
        }
    }

    /// The response's lines that claim the witness's key: valid cosignatures of this checkpoint, or unverifiable
    /// lines when the policy's key type is not one this ledger checks.
    func cosignatures(_ body: [UInt8], witness: TlogPolicy.Witness,
                              note: String) -> (WitnessOutcome.Result, [NoteSignature]) {
        guard let checkpointBody = try? SignedNoteText(parsing: note).text,
              let lines = try? SignedNoteText.signatureLines(body, checkpointBody: checkpointBody) else {
            return (.failed("200 without note signature lines"), [])
        }
        let claiming = lines.filter { witness.vkey.claims($0) }
        guard let key = witness.cosigner else {
            return claiming.isEmpty ? (.failed("200 without a signature by its key"), []) : (.unverifiable, claiming)
        }
        let valid = claiming.filter { key.verify($0, checkpointBody: checkpointBody) != nil }
        if valid.isEmpty {
            return (.failed(claiming.isEmpty ? "200 without a cosignature by its key"
                                             : "its cosignature does not verify with the policy's key"), [])
        }
        return (.cosigned, valid)
    }

    /// A 409 body: `text/x.tlog.size`, a canonical decimal and one newline, nothing else.
    static func parseSize(_ response: HTTPPost.Response) -> UInt64? {
        let type = response.contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "text/x.tlog.size", response.body.count >= 2, response.body.count <= 21,
              response.body.last == 0x0a else { return nil }
        let digits = response.body.dropLast()
        guard digits.allSatisfy({ (0x30...0x39).contains($0) }), digits.count == 1 || digits.first != 0x30,
              let value = UInt64(String(decoding: digits, as: UTF8.self)), value <= UInt64(Int64.max) else {
            return nil
        }
        return value
    }
}
