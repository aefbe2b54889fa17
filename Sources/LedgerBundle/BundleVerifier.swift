import Foundation
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
        try run(path: path, options: options, keepRevealed: false).report
    }

    /// Verifies a bundle held in memory (the bytes of a bundle file) exactly as `verify(path:options:)` verifies the
    /// file: the same size caps, checks, report and errors.
    public static func verify(data: Data, options: BundleVerifyOptions = BundleVerifyOptions()) throws
        -> BundleReport {
        try run(read: { try BundleReader.readDigested(data: data) }, options: options, keepRevealed: false).report
    }

    /// Verifies a bundle as `verify` does and keeps, from the same single read of the file, what each entry reveals:
    /// whoever reports on those values reports on exactly the bytes that were checked. Check `isValid` before use.
    public static func open(path: String, options: BundleVerifyOptions = BundleVerifyOptions()) throws
        -> VerifiedBundle {
        let (report, facts) = try run(path: path, options: options, keepRevealed: true)
        return VerifiedBundle(report: report, facts: facts)
    }

    /// `open(path:options:)` for a bundle held in memory (e.g. just decrypted from a sealed file): the same checks.
    public static func open(data: Data, options: BundleVerifyOptions = BundleVerifyOptions()) throws
        -> VerifiedBundle {
        let (report, facts) = try run(read: { try BundleReader.readDigested(data: data) }, options: options,
                                      keepRevealed: true)
        return VerifiedBundle(report: report, facts: facts)
    }

    /// Reads the bundle once and runs every check on those bytes, timed.
    private static func run(path: String, options: BundleVerifyOptions,
                            keepRevealed: Bool) throws -> (report: BundleReport, facts: [EntryFacts]) {
        try run(read: { try BundleReader.readDigested(path) }, options: options, keepRevealed: keepRevealed)
    }

    private static func run(read: () throws -> [String: BundleReader.DigestedFile], options: BundleVerifyOptions,
                            keepRevealed: Bool) throws -> (report: BundleReport, facts: [EntryFacts]) {
        let start = Clock.nowMicros()
        var timer = PhaseTimer(logger: logger)
        defer { logger.debug("verify-bundle", metadata: ["phases": "\(timer)"]) }
        let files = try read()
        timer.lap("read")
        var report = BundleReport()
        let facts = try check(files.mapValues(\.bytes), digests: files, options: options, keepRevealed: keepRevealed,
                              timer: &timer, into: &report)
        report.durationMicroseconds = Clock.nowMicros() - start
        return (report, facts)
    }

    /// The checks, in the order their violations are listed (docs/EXPORT.md, "The checks").
    private static func check(_ files: [String: [UInt8]], digests: [String: BundleReader.DigestedFile],
                              options: BundleVerifyOptions, keepRevealed: Bool, timer: inout PhaseTimer,
                              into report: inout BundleReport) throws -> [EntryFacts] {
        let loaded = try ManifestCheck.load(files)
        report.formatVersion = loaded.formatVersion
        if loaded.note == nil {
            report.notices.append(BundleFormat.v1Notice)
            if options.requireSignedManifest {
                report.fail(.manifest, "the manifest is not signed (bundle format 1) and --require-signed was given")
            }
        }
        ManifestCheck.checkDigests(loaded, files: digests, into: &report)
        let policy = try options.policy.map(BundlePolicyCheck.parse)
        let pinned = try policy.map {
            try BundlePolicyCheck.verifierKey($0, pinned: options.pinnedVerifierKey,
                                              checkpointNote: files[BundleFormat.checkpoint]!)
        } ?? options.pinnedVerifierKey
        let key = try CheckpointCheck.verifierKey(pinned: pinned,
                                                  bundled: files[BundleFormat.verifierKey]!, into: &report)
        ManifestNoteCheck.check(loaded, key: key, into: &report)
        let manifest = loaded.object
        let checkpoint = CheckpointCheck.check(String(decoding: files[BundleFormat.checkpoint]!, as: UTF8.self),
                                               key: key, into: &report)
        if let shown = checkpoint.shown { ManifestCheck.checkCheckpoint(manifest, checkpoint: shown, into: &report) }
        if let policy {
            let (outcome, violations) = BundlePolicyCheck.evaluate(
                String(decoding: files[BundleFormat.checkpoint]!, as: UTF8.self), policy: policy)
            report.policy = outcome
            report.violations += violations
        }
        timer.lap("manifest+checkpoint")

        // Proofs are checked only against the checkpoint opened with the key.
        let tree = checkpoint.verified.map { (size: $0.size, root: $0.root) }
        let context = EntryCheckContext(treeSize: tree?.size, root: tree?.root, keepRevealed: keepRevealed)
        let facts = EntryChecks.check(files[BundleFormat.entries]!, context: context)
        EntryChecks.tally(facts, into: &report)
        ManifestCheck.checkCounts(manifest, into: &report)
        ReceiptCheck.check(files, facts: facts, checkpointNote: files[BundleFormat.checkpoint]!, tree: tree,
                           into: &report)
        timer.lap("entries")
        PrivilegeLogCheck.check(files[BundleFormat.privilegeLog]!, facts: facts, into: &report)
        timer.lap("privilege-log")
        var retention = RetentionLogCheck.Outcome()
        if let bytes = files[BundleFormat.retention] {
            let context = AccessLogCheck.context(facts, treeSize: tree?.size, root: tree?.root)
            retention = RetentionLogCheck.check(bytes, context: context, into: &report)
        }
        EntryChecks.checkNotEmpty(into: &report)
        ManifestCheck.checkRetentionCounts(manifest, into: &report)
        if let accessLog = files[BundleFormat.accessLog] {
            var access = AccessLogCheck.context(facts, treeSize: tree?.size, root: tree?.root)
            // A destroyed matter of the bundle is an exported matter: its reads belong in the access log.
            access.matterTags.formUnion(retention.destroyedTags)
            access.ledgerID = access.ledgerID ?? retention.ledgerID
            AccessLogCheck.check(accessLog, context: access, into: &report)
        }
        ManifestCheck.checkAccessCount(manifest, into: &report)
        checkHistory(consistency: files[BundleFormat.consistency], trusted: options.trustedCheckpoint, key: key,
                     tree: tree, manifest: manifest, into: &report)
        return facts
    }

    /// consistency.json when the bundle has one, the manifest's announcement of it, and the trusted checkpoint.
    private static func checkHistory(consistency: [UInt8]?, trusted: String?, key: NoteVerifierKey?,
                                     tree: ConsistencyCheck.Tree?, manifest: JSONObject,
                                     into report: inout BundleReport) {
        var proven: ConsistencyCheck.Tree?
        report.consistencyPresent = consistency != nil
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
