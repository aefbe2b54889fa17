import Dispatch
import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import RecordFormats
import SignedNote
import Sodium

/// What `verify` checks beyond the stored data itself.
public struct VerifyOptions: Sendable {
    /// A verifier key held outside the ledger (text form). Without it, the ledger's own key is used.
    public var pinnedVerifierKey: String?
    /// A checkpoint note held outside the ledger (last night's, or an insurer's copy).
    public var trustedCheckpoint: String?
    /// Also decrypt every entry and check every disclosure (needs the unlocked ledger).
    public var deep = false
    /// Entries per parallel chunk. Two chunks of entries are held in memory (about 3.5 MiB each at 1.7 KB per
    /// entry); larger chunks leave the cores idle less often at the ends of chunks.
    public var chunkSize = 2048
    /// A c2sp.org/tlog-policy file's text (`--policy`): witness quorum and refusals (PolicyCheck.swift).
    public var policy: String?

    public init(pinnedVerifierKey: String? = nil, trustedCheckpoint: String? = nil, deep: Bool = false) {
        self.pinnedVerifierKey = pinnedVerifierKey
        self.trustedCheckpoint = trustedCheckpoint
        self.deep = deep
    }
}

extension Ledger {
    /// Re-hashes every stored byte and checks every link (docs/VERIFY.md). Violations are reported, not thrown;
    /// errors that stop verification (unreadable storage, malformed pinned key) are thrown.
    public func verify(_ options: VerifyOptions = VerifyOptions()) throws -> VerifyReport {
        let started = DispatchTime.now()
        var report = VerifyReport()
        report.origin = origin
        report.deep = options.deep
        report.verifierKeyPinned = options.pinnedVerifierKey != nil
        let ring: KeyRing? = options.deep ? try requireKeys() : nil
        let key = try verifierKey(options, into: &report)
        var pending = [PendingCheckpoint]()
        if let trusted = options.trustedCheckpoint, let key {
            if let checkpoint = checkTrustedCheckpoint(trusted, key: key, into: &report) { pending.append(checkpoint) }
        }
        _ = try LedgerError.wrap("open the access databases") {  // never inside a transaction
            (try store.access(), try store.events())
        }
        try LedgerError.wrap("verify") {
            var timer = PhaseTimer(logger: Self.logger)
            defer { Self.logger.debug("verify", metadata: ["phases": "\(timer)"]) }
            try store.environment.read { txn in
                let keyCheck = ring.map { BackgroundKeyCheck(self, ring: $0) }  // overlaps the scan's start
                defer { keyCheck?.cancel() }  // its thread never outlives the transaction
                // LMDB trusts its file: a damaged page below a root would be followed through the map
                // (SIGSEGV/SIGBUS). Every page of this snapshot is walked with pread first, so damage is an error
                // and not a crash; the entries' pages are checked as the scan reads them (with pread too).
                let scans = try txn.scanCheckingStructure(of: [Store.entriesName, Store.sourcesName, Store.treeName]
                                                          + (stagesSources ? [Store.stagedSourcesName] : []))
                timer.lap("structure")
                if let key { pending += try storedCheckpoints(txn, key: key, into: &report) }
                pending.sort { $0.size < $1.size }
                timer.lap("checkpoints")
                let firstRecordedAt = try scan(txn, entries: scans[0], sources: scans[1], tree: scans[2],
                                               staged: stagesSources ? scans[3] : nil,
                                               options: options, ring: ring, keyCheck: keyCheck,
                                               pending: pending, into: &report)
                timer.lap("scan")
                try checkMetadata(txn, firstRecordedAt: firstRecordedAt, into: &report)
                if let ring, let keyCheck { try checkMatterKeys(txn, ring: ring, checked: keyCheck, into: &report) }
            }
        }
        if let policy = options.policy { try checkWitnessPolicy(policy, into: &report) }
        report.ledgerBytes = dataFileBytes()
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        if !report.isIntact { report.newestValidCheckpoint = nil }
        return report
    }

    // MARK: - Keys and checkpoints

    /// The key that checkpoints must verify with: the pinned one if given
    /// (a mismatch with the ledger's own is a violation).
    private func verifierKey(_ options: VerifyOptions, into report: inout VerifyReport) throws -> NoteVerifierKey? {
        let stored = try? NoteVerifierKey(text: storedVerifierKey)
        if stored == nil {
            report.add(Violation(seq: nil, kind: .metadata, detail: "the ledger's stored verifier key does not parse"))
        }
        let fileText = try? String(
            contentsOfFile: (directory as NSString).appendingPathComponent(Self.verifierKeyFileName), encoding: .utf8)
        if let fileText, fileText.trimmingCharacters(in: .newlines) != storedVerifierKey {
            report.add(Violation(seq: nil, kind: .verifierKey,
                                 detail: "\(Self.verifierKeyFileName) differs from the key in the ledger's metadata"))
        }
        guard let pinnedText = options.pinnedVerifierKey else { return stored }
        let pinned: NoteVerifierKey
        do {
            pinned = try NoteVerifierKey(text: pinnedText.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw LedgerError.invalidArgument("the pinned verifier key is malformed: \(error)")
        }
        if pinned.text != storedVerifierKey {
            report.add(Violation(seq: nil, kind: .verifierKey,
                                 detail: "the ledger's verifier key is not the pinned key",
                                 expected: pinned.text, found: storedVerifierKey))
        }
        return pinned
    }

    private func checkTrustedCheckpoint(_ note: String, key: NoteVerifierKey,
                                        into report: inout VerifyReport) -> PendingCheckpoint? {
        do {
            let checkpoint = try openCheckpoint(note, key: key)
            report.trustedCheckpointSize = checkpoint.size
            return PendingCheckpoint(size: checkpoint.size, root: checkpoint.root, note: note, trusted: true)
        } catch {
            report.add(Violation(seq: nil, kind: .trustedCheckpoint,
                                 detail: "the trusted checkpoint does not verify: \(error)"))
            return nil
        }
    }

    private func storedCheckpoints(_ txn: ReadTransaction, key: NoteVerifierKey,
                                   into report: inout VerifyReport) throws -> [PendingCheckpoint] {
        var result = [PendingCheckpoint]()
        let cursor = try txn.cursor(store.checkpoints)
        defer { cursor.close() }
        var pair = try cursor.first()
        while let row = pair {
            pair = try cursor.next()
            guard let size = UInt64(bigEndianBytes: row.key) else {
                report.add(Violation(seq: nil, kind: .checkpointSignature, detail: "a checkpoints key is not 8 bytes"))
                continue
            }
            let note = String(decoding: row.value, as: UTF8.self)
            do {
                let checkpoint = try openCheckpoint(note, key: key)
                guard checkpoint.size == size else {
                    report.add(Violation(seq: nil, kind: .checkpointSignature,
                                         detail: "checkpoint stored under size \(size) names another size",
                                         expected: String(size), found: String(checkpoint.size)))
                    continue
                }
                result.append(PendingCheckpoint(size: size, root: checkpoint.root, note: note, trusted: false))
            } catch {
                report.add(Violation(seq: nil, kind: .checkpointSignature,
                                     detail: "checkpoint at size \(size) does not verify: \(error)"))
            }
        }
        return result
    }

    /// Deep: the background key check's findings (or the check again in this transaction, when it read another
    /// snapshot), then the master box key.
    private func checkMatterKeys(_ txn: ReadTransaction, ring: KeyRing, checked: BackgroundKeyCheck,
                                 into report: inout VerifyReport) throws {
        let problems = try checked.finish(snapshot: txn.snapshotID) ?? keyProblems(txn, ring: ring)
        problems.forEach { report.add(Violation(seq: nil, kind: .matterKey, detail: $0)) }
        if let stored = try boxPublicKey(txn), stored != ring.box.publicKey {
            report.add(Violation(seq: nil, kind: .metadata, detail: "the master box key is not this master key's"))
        }
    }
}
