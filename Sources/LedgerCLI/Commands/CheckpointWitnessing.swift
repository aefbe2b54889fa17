import ArgumentParser
import Foundation
import Ledger
import RecordFormats
import SignedNote
import Transparency
import Witness

struct WitnessingOptions: ParsableArguments {
    @Flag(help: "Ask the policy's witnesses to cosign the checkpoint.") var witness = false
    @Option(help: ArgumentHelp("A tlog-policy file to use instead of <ledger>/witnesses.policy (a pinned copy).",
                               valueName: "file"))
    var policy: String?
    @Option(help: ArgumentHelp("Seconds to wait for each witness request.", valueName: "seconds"))
    var witnessTimeout = 10.0
    @Flag(help: "With --witness: print the outcome as JSON.") var json = false

    func validate() throws {
        if !witness && (policy != nil || json) { throw ValidationError("--policy and --json go with --witness") }
        guard witnessTimeout > 0, witnessTimeout <= 300 else { throw ValidationError("--witness-timeout: 0 < s ≤ 300") }
    }
}

/// `ledger checkpoint --witness`: sign (or reuse) the checkpoint of the current tree, collect cosignatures from the
/// policy's witnesses, store them and any refusals, and judge the quorum.
struct CheckpointWitnessing {
    let ledger: Ledger
    let options: WitnessingOptions

    func run() throws {
        let ledger = self.ledger
        let policy = try loadPolicy()
        let (note, size) = try currentCheckpoint()
        var lastCosigned = [String: UInt64]()
        for witness in policy.witnesses {
            lastCosigned[witness.vkey.text] = try ledger.witnessedSize(vkey: witness.vkey.text)
        }
        let client = WitnessClient(policy: policy, timeout: options.witnessTimeout)
        let known = lastCosigned
        let outcomes = try waitFor {
            await client.collect(note: note, size: size, lastCosigned: { known[$0.vkey.text] ?? 0 },
                                 proof: { try ledger.consistencyProof(from: $0, to: size) })
        }
        let signatures = outcomes.flatMap(\.signatures)
        if !signatures.isEmpty { try ledger.addCosignatures(signatures, size: size) }
        let now = Int64(Date().timeIntervalSince1970)
        let refusals = outcomes.compactMap { o in
            o.refusal.map { WitnessRefusal(witness: o.name, kind: $0.kind == "fork" ? .fork : .rollback,
                                           checkpointSize: size, witnessSize: $0.witnessSize, recordedAt: now) }
        }
        var cosigned = [String: UInt64]()
        for (outcome, witness) in zip(outcomes, policy.witnesses) where outcome.cosigned { cosigned[witness.vkey.text] = size }
        try ledger.recordWitnessing(cosigned: cosigned, refusals: refusals)
        let stored = try ledger.storedCheckpoint(size: size) ?? note
        let quorumMet = try WitnessedCheckpoint(note: stored, policy: policy).quorumMet
        report(outcomes, size: size, note: stored, quorum: policy.quorum, met: quorumMet)
        if !refusals.isEmpty { throw ExitCode(1) }
        if !quorumMet { throw ExitCode(69) }
    }

    private func loadPolicy() throws -> TlogPolicy {
        let path = options.policy ?? (ledger.directory as NSString).appendingPathComponent(PolicyFile.fileName)
        guard let data = FileManager.default.contents(atPath: path), data.count <= TlogPolicy.maxFileSize else {
            throw LedgerError.invalidArgument("no witness policy at \(path): add witnesses with `ledger witness add`"
                                              + " (or give --policy FILE)")
        }
        let policy: TlogPolicy
        do { policy = try TlogPolicy(parsing: Array(data)) } catch {
            throw LedgerError.invalidArgument("\(path): \(error)")
        }
        guard policy.logs(origin: ledger.origin).contains(where: { $0.key.text == ledger.storedVerifierKey }) else {
            throw LedgerError.invalidArgument("\(path): no log line with this ledger's verifier key for its origin")
        }
        return policy
    }

    /// The stored checkpoint of the current tree when there is one (keeping its cosignatures), else a new one.
    private func currentCheckpoint() throws -> (String, UInt64) {
        if let (size, note) = try ledger.latestStoredCheckpoint(), size == (try ledger.size()),
           let key = try? NoteVerifierKey(text: ledger.storedVerifierKey),
           (try? Checkpoint.open(note: note, verifier: key)) != nil {
            return (note, size)
        }
        let note = try ledger.signCheckpoint()
        let checkpoint = try Checkpoint(body: try SignedNoteText(parsing: note).text)
        return (note, checkpoint.size)
    }

    private func report(_ outcomes: [WitnessOutcome], size: UInt64, note: String, quorum: String, met: Bool) {
        if options.json {
            let rows: [JSONValue] = outcomes.map { o in
                var members: [(String, JSONValue)] = [
                    ("name", .string(o.name)), ("status", .string(o.statusName)), ("cosigned", .bool(o.cosigned)),
                    ("detail", .string(o.explanation(checkpointSize: size))),
                ]
                if let url = o.url { members.append(("url", .string(url))) }
                if let status = o.httpStatus { members.append(("httpStatus", .integer(Int64(status)))) }
                if let refusal = o.refusal { members.append(("witnessSize", .integer(Int64(refusal.witnessSize)))) }
                return .object(JSONObject(members))
            }
            print(JSONWriter.string(.object(JSONObject([
                ("size", .integer(Int64(size))), ("quorum", .string(quorum)), ("quorumMet", .bool(met)),
                ("witnesses", .array(rows)), ("note", .string(note)),
            ]))))
            return
        }
        Terminal.table(header: ["WITNESS", "STATUS", "SIZE", "COSIGNED", "DETAIL"], rows: outcomes.map { o in
            [o.name, o.statusName, o.refusal.map { String($0.witnessSize) } ?? String(size), o.cosigned ? "yes" : "no",
             o.explanation(checkpointSize: size)]
        })
        print("quorum \(quorum): " + (met ? "met" : "NOT met"))
        for o in outcomes where !o.cosigned && o.result != .unverifiable {
            Terminal.warning("witness \(o.name): \(o.explanation(checkpointSize: size))")
        }
        print("")
        print(note, terminator: "")
    }
}

extension WitnessOutcome {
    /// The machine-readable status: cosigned, unverifiable, unavailable, fork, rollback, misconfigured, failed.
    var statusName: String {
        switch result {
        case .cosigned: return "cosigned"
        case .unverifiable: return "unverifiable"
        case .unavailable: return "unavailable"
        case .fork: return "fork"
        case .rollback: return "rollback"
        case .misconfigured: return "misconfigured"
        case .failed: return "failed"
        }
    }
}
