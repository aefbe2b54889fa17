import Age
import ArgumentParser
import Foundation
import Ledger
import LedgerBundle
import LedgerFormat
import RecordFormats

struct VerifyBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Check an export bundle offline: manifest, checkpoint signature, inclusion proofs, disclosures, "
            + "redactions.",
        discussion: """
        Needs no ledger and no keys. Exit 0: every check holds. Exit 1: a violation (named). \
        65: not a readable bundle (not a zip, unsafe or duplicate names, oversize, missing files, bad manifest); \
        66: file not found; 74: unreadable; 64: usage. A sealed bundle (.zip.age, `export --to-recipient`) needs \
        --identity: it is decrypted in memory; a ciphertext that fails authentication is 1, not an age file 65, \
        an identity that does not open it 77.
        """)

    @Argument(help: ArgumentHelp("The bundle (zip).", valueName: "bundle.zip"))
    var bundle: String

    @Option(help: ArgumentHelp("The firm's verifier key, obtained separately (pins it).", valueName: "file"))
    var verifierKey: String?

    @Option(help: ArgumentHelp("A checkpoint you already hold: the bundle's tree must extend it.", valueName: "file"))
    var trusted: String?

    @Option(help: ArgumentHelp("An age identity file: the bundle is sealed (.zip.age); it is opened in memory.",
                               valueName: "file"))
    var identity: String?

    @Flag(help: ArgumentHelp("Refuse a bundle whose manifest is not signed by the firm (format 1): its reasons, "
                             + "profile, privilege log and report could have been changed by anyone who handled it."))
    var requireSigned = false

    @Option(help: ArgumentHelp("A c2sp.org/tlog-policy file: the checkpoint must be signed by its log key for the "
                               + "bundle's origin and carry a quorum of valid witness cosignatures.", valueName: "file"))
    var policy: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report: BundleReport
        var options = BundleVerifyOptions()
        if let verifierKey { options.pinnedVerifierKey = try BundleFiles.readText(verifierKey) }
        if let trusted { options.trustedCheckpoint = try BundleFiles.readText(trusted) }
        options.requireSignedManifest = requireSigned
        if let policy { options.policy = try VerifyReceipt.readBytes(policy, limit: 1 << 20) }
        report = try Self.read(bundle, identity: identity, options: options)
        if report.formatVersion == 1 && !requireSigned {
            Terminal.warning("this bundle's metadata is not signed (format 1): a bundle handled by others may have "
                             + "been downgraded from format 2 with its reasons, profile or report changed; pass "
                             + "--require-signed to refuse it")
        }
        if json {
            print(JSONWriter.string(report.json))
        } else {
            Self.printWarnings(of: report)
            report.summaryLines.forEach { print($0) }
            for violation in report.violations.prefix(1000) { print("violation: \(violation)") }
            if report.violations.count > 1000 { print("… and \(report.violations.count - 1000) more violations") }
        }
        if !report.isValid { throw ExitCode(1) }
    }

    /// Verifies the bundle file, opening it first with the identity when one is given (sealed bundles).
    static func read(_ bundle: String, identity: String?, options: BundleVerifyOptions) throws -> BundleReport {
        guard let identity else {
            if bundle.hasSuffix(".age") {
                Terminal.warning("\(bundle) looks sealed (age); pass --identity FILE to open it")
            }
            return try BundleVerifier.verify(path: bundle, options: options)
        }
        return try AgeKeyFiles.verify(bundle, identity: identity, options: options)
    }

    /// The report's warnings on stderr; the one about an unpinned key says which option pins it.
    static func printWarnings(of report: BundleReport) {
        for warning in report.warnings {
            let hint = warning == BundleReport.unpinnedKeyWarning ? ", with --verifier-key FILE" : ""
            Terminal.warning(warning + hint)
        }
    }
}
