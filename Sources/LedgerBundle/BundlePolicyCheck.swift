import RecordFormats
import SignedNote
import Transparency

/// What a checkpoint's cosignatures amount to under a c2sp.org/tlog-policy (`--policy`).
public struct PolicyOutcome: Sendable, Equatable {
    /// The policy's quorum line: a witness or group name, or `none`.
    public var quorum = ""
    public var quorumMet = false
    /// Policy witnesses with a valid cosignature/v1 on the checkpoint, sorted.
    public var cosignedBy: [String] = []
    /// Policy witnesses without one (whether or not the quorum needs them), in policy order.
    public var missing: [String] = []
    /// Policy witnesses whose cosignature line does not verify.
    public var invalid: [String] = []
    /// Policy witnesses whose key type is not checked here (e.g. ML-DSA-44): never counted.
    public var unverifiable: [String] = []

    public var json: JSONValue {
        func names(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        return .object(JSONObject([
            ("quorum", .string(quorum)), ("quorumMet", .bool(quorumMet)), ("cosignedBy", names(cosignedBy)),
            ("missing", names(missing)), ("invalid", names(invalid)), ("unverifiable", names(unverifiable)),
        ]))
    }

    /// One line: the quorum, whether it is met, who cosigned and who did not.
    public var summary: String {
        func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
        var text = "quorum \(quorum) \(quorumMet ? "met" : "NOT met"); cosigned by \(list(cosignedBy)); "
            + "missing \(list(missing))"
        if !invalid.isEmpty { text += "; invalid \(list(invalid))" }
        if !unverifiable.isEmpty { text += "; not checkable (never counted) \(list(unverifiable))" }
        return text
    }
}

/// `--policy`: the checkpoint is signed by the policy's log for its origin and carries a quorum of valid witness
/// cosignatures (c2sp.org/tlog-policy, c2sp.org/tlog-cosignature).
enum BundlePolicyCheck {
    /// The policy file, parsed strictly; a malformed one is a usage error.
    static func parse(_ bytes: [UInt8]) throws -> TlogPolicy {
        do { return try TlogPolicy(parsing: bytes) } catch { throw BundleError.invalidPolicy("\(error)") }
    }

    /// The verifier key to check the checkpoint with: the pinned one, or the policy's log key for the checkpoint's
    /// origin. Both given and different is a usage error: the recipient trusts two keys for one log.
    static func verifierKey(_ policy: TlogPolicy, pinned: String?, checkpointNote: [UInt8]) throws -> String? {
        guard let note = try? SignedNoteText(parsing: checkpointNote), let body = try? Checkpoint(body: note.text),
              let log = policy.log(origin: body.origin) else { return pinned }
        if let pinned, let key = try? NoteVerifierKey(text: pinned.trimmingSuffix("\n")), key != log.key {
            throw BundleError.invalidPolicy("the policy's log key for \(body.origin.prefix(200)) is not the pinned "
                                            + "verifier key")
        }
        return pinned ?? log.key.text
    }

    /// Evaluates `note` against `policy`: the outcome, and the violations (no log key for the origin or a bad log
    /// signature, an invalid cosignature by a policy witness, the quorum not met).
    static func evaluate(_ note: String, policy: TlogPolicy) -> (PolicyOutcome, [BundleViolation]) {
        var outcome = PolicyOutcome(quorum: policy.quorum)
        let witnessed: WitnessedCheckpoint
        do { witnessed = try WitnessedCheckpoint(note: note, policy: policy) } catch {
            return (outcome, [BundleViolation(kind: .policy, detail: "the checkpoint is not signed by the policy's "
                                              + "log for its origin: \(error)")])
        }
        outcome.quorumMet = witnessed.quorumMet
        outcome.cosignedBy = witnessed.cosignedBy.keys.sorted()
        outcome.missing = policy.witnesses.map(\.name).filter { witnessed.cosignedBy[$0] == nil }
        outcome.invalid = witnessed.invalid
        outcome.unverifiable = witnessed.unverifiable
        var violations = witnessed.invalid.map {
            BundleViolation(kind: .cosignature, detail: "the cosignature by witness \($0) does not verify "
                            + "(cosignature/v1 over this checkpoint)")
        }
        if !witnessed.quorumMet {
            violations.append(BundleViolation(kind: .policy, detail: "the checkpoint's cosignatures do not meet the "
                                              + "policy's quorum: \(outcome.summary)"))
        }
        return (outcome, violations)
    }
}
