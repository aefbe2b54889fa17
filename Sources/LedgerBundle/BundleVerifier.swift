import LedgerFormat
import LedgerSupport
import Logging
import RecordFormats
import SignedNote

/// The offline bundle verifier: a bundle and a verifier key in, a report out (docs/EXPORT.md, "The checks").
public enum BundleVerifier {
    package static let logger = Logger(label: "ledger.export")

    /// Verifies a bundle offline. Throws `BundleError` only when the bundle cannot be read as a bundle at all; every
    /// failed check is a violation in the report.
    public static func verify(path: String, options: BundleVerifyOptions = BundleVerifyOptions()) throws
        -> BundleReport {
        let start = Clock.nowMicros()
        var timer = PhaseTimer(logger: logger)
        defer { logger.debug("verify-bundle", metadata: ["phases": "\(timer)"]) }
        let files = try BundleReader.readDigested(path)
        timer.lap("read")
        var report = BundleReport()
        let manifest = try ManifestCheck.parse(files[BundleFormat.manifest]?.bytes)
        ManifestCheck.checkDigests(manifest, files: files, into: &report)
        let key = try CheckpointCheck.verifierKey(pinned: options.pinnedVerifierKey,
                                                  bundled: files[BundleFormat.verifierKey]!.bytes, into: &report)
        let checkpoint = CheckpointCheck.check(String(decoding: files[BundleFormat.checkpoint]!.bytes, as: UTF8.self),
                                               key: key, into: &report)
        if let shown = checkpoint.shown { ManifestCheck.checkCheckpoint(manifest, checkpoint: shown, into: &report) }
        timer.lap("manifest+checkpoint")

        // Proofs are checked only against the checkpoint opened with the key.
        let tree = checkpoint.verified.map { (size: $0.size, root: $0.root) }
        let context = EntryCheckContext(treeSize: tree?.size, root: tree?.root)
        let facts = EntryChecks.check(files[BundleFormat.entries]!.bytes, context: context)
        EntryChecks.tally(facts, into: &report)
        ManifestCheck.checkCounts(manifest, into: &report)
        timer.lap("entries")
        PrivilegeLogCheck.check(files[BundleFormat.privilegeLog]!.bytes, facts: facts, into: &report)
        timer.lap("privilege-log")

        let consistency = files[BundleFormat.consistency]?.bytes
        checkHistory(consistency: consistency, trusted: options.trustedCheckpoint, key: key,
                     tree: tree, manifest: manifest, into: &report)
        report.durationMicroseconds = Clock.nowMicros() - start
        return report
    }

    /// consistency.json when the bundle has one, the manifest's announcement of it, and the trusted checkpoint.
    private static func checkHistory(consistency: [UInt8]?, trusted: String?, key: NoteVerifierKey?,
                                     tree: ConsistencyCheck.Tree?, manifest: JSONObject,
                                     into report: inout BundleReport) {
        var proven: ConsistencyCheck.Tree?
        if let consistency, let tree, let key {
            proven = ConsistencyCheck.check(consistency, key: key, tree: tree, into: &report)
            report.consistencyChecked = true
        }
        ManifestCheck.checkAnnouncedProof(manifest, present: consistency != nil, into: &report)
        if let trusted, let key {
            report.trustedChecked = true
            ConsistencyCheck.checkTrusted(trusted, key: key, tree: tree, proven: proven, into: &report)
        }
    }
}
