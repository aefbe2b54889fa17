import Foundation
import LMDB
import LedgerFormat
import SignedNote
import Transparency

/// `verify --policy FILE` (docs/VERIFY.md, "Witness policy"): the newest stored checkpoint must be signed by the
/// policy's log key for this ledger's origin and carry a quorum of valid cosignatures; a policy witness's
/// cosignature that does not verify, and every refusal `checkpoint --witness` recorded, is a violation. That the
/// checkpoint is consistent with the ledger (its size within the log, its root the tree's at that size) is checked
/// by the scan for every stored checkpoint (`checkpoint-beyond-log`, `checkpoint-root`).
extension Ledger {
    /// Outcome for the report: the witnesses whose cosignatures on the newest checkpoint verified.
    func checkWitnessPolicy(_ text: String, into report: inout VerifyReport) throws {
        let policy: TlogPolicy
        do { policy = try TlogPolicy(parsing: Array(text.utf8)) } catch {
            throw LedgerError.invalidArgument("--policy: \(error)")
        }
        for refusal in try witnessRefusals() {
            guard let refusal else {
                report.add(Violation(seq: nil, kind: .witnessRefusal, detail: "a recorded witness refusal does not parse"))
                continue
            }
            if let acknowledged = try witnessAcknowledgement(of: refusal) {
                report.acknowledgedRefusals.append(refusal.description + "; acknowledged "
                    + "\(Timestamp.formatRFC3339(micros: acknowledged.at * 1_000_000)) by \(acknowledged.by): "
                    + acknowledged.reason)
                continue
            }
            report.add(Violation(seq: nil, kind: .witnessRefusal, detail: refusal.description,
                                 expected: "size \(refusal.checkpointSize)", found: "size \(refusal.witnessSize)"))
        }
        let logs = policy.logs(origin: origin)
        guard !logs.isEmpty else {
            report.add(Violation(seq: nil, kind: .witnessPolicy, detail: "the policy has no log for origin \(origin)"))
            return
        }
        if !logs.contains(where: { $0.key.text == storedVerifierKey }) {
            report.add(Violation(seq: nil, kind: .witnessPolicy,
                                 detail: "none of the policy's log keys for \(origin) is the ledger's verifier key",
                                 expected: logs.map(\.key.text).joined(separator: ", "), found: storedVerifierKey))
        }
        guard let (size, note) = try latestStoredCheckpoint() else {
            report.add(Violation(seq: nil, kind: .witnessQuorum, detail: "no stored checkpoint to check against the "
                                 + "policy: run `ledger checkpoint --witness`"))
            return
        }
        let witnessed: WitnessedCheckpoint
        do { witnessed = try WitnessedCheckpoint(note: note, policy: policy) } catch {
            report.add(Violation(seq: nil, kind: .witnessPolicy,
                                 detail: "the newest checkpoint (size \(size)) does not verify with the policy's log "
                                 + "key: \(error)"))
            return
        }
        report.witnessedBy = witnessed.cosigned.map(\.witness.name)
        for name in witnessed.invalid {
            report.add(Violation(seq: nil, kind: .witnessCosignature,
                                 detail: "witness \(name)'s cosignature on checkpoint size \(size) does not verify"))
        }
        if !witnessed.quorumMet {
            let missing = witnessed.missing
            report.add(Violation(seq: nil, kind: .witnessQuorum,
                                 detail: "the newest checkpoint (size \(size)) does not meet the policy's quorum "
                                 + "(\(policy.quorum)); not cosigned by: \(missing.joined(separator: ", "))",
                                 expected: "quorum \(policy.quorum)",
                                 found: witnessed.cosigned.isEmpty ? "no valid cosignature"
                                     : "cosigned by \(witnessed.cosigned.map(\.witness.name).joined(separator: ", "))"))
        }
    }
}
