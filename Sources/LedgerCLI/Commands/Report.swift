import ArgumentParser
import Foundation
import Ledger
import LedgerBundle
import LedgerFormat
import LedgerReport

extension ReportFormat: ExpressibleByArgument {}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report on client communications: update cadence, response times, urgent developments, promises, "
            + "corrections.",
        discussion: """
        Reads the ledger (master key needed) or, with --bundle, a verified export bundle's revealed fields (no keys). \
        The policy file is documented in docs/REPORT.md; without one the defaults apply. \
        Exit 0: report written. 1: --fail-on-breach and there are breaches (or open inquiries past a limit), \
        or the bundle fails verification. 64: usage or invalid policy. 66: ledger, matter or file not found.
        """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var reason: ReadReason

    @Option(help: "Only this matter.")
    var matter: String?

    @OptionGroup var period: TimeRange

    @Option(help: ArgumentHelp("Policy file (JSON, docs/REPORT.md).", valueName: "file"))
    var policy: String?

    @Option(help: ArgumentHelp("The report's time: gaps and open inquiries are measured up to it "
                               + "(default: --to, else now).", valueName: "time"))
    var asOf: String?

    @Option(help: "Output format (JSON and CSV schemas: docs/REPORT.md).")
    var format: ReportFormat = .text

    @Option(name: [.customShort("o"), .customLong("output")],
            help: ArgumentHelp("Write the report to this file (refuses to overwrite).", valueName: "file"))
    var output: String?

    @Flag(help: "Exit 1 when there are breaches or open inquiries past their limit.")
    var failOnBreach = false

    @Option(help: ArgumentHelp("Report on this export bundle's revealed fields instead of the ledger (verified first).",
                               valueName: "bundle.zip"))
    var bundle: String?

    @Option(help: ArgumentHelp("With --bundle: the firm's verifier key, obtained separately (pins it).",
                               valueName: "file"))
    var verifierKey: String?

    @Option(help: ArgumentHelp("With --bundle: an age identity file; the bundle is sealed (.zip.age), opened in memory.",
                               valueName: "file"))
    var identity: String?

    func validate() throws {
        if verifierKey != nil && bundle == nil { throw ValidationError("--verifier-key needs --bundle") }
        if identity != nil && bundle == nil { throw ValidationError("--identity needs --bundle") }
    }

    func run() throws {
        var report: CommunicationReport
        let reportPolicy: ReportPolicy
        reportPolicy = try policy.map { try ReportPolicy.parse(Array(try BundleFiles.readText($0).utf8)) }
            ?? ReportPolicy()
        let filter = try period.filter(matter: matter)
        let time = try TimeArgument.parse(asOf, endOfDay: true, option: "--as-of") ?? filter.to
            ?? Int64(Date().timeIntervalSince1970 * 1_000_000)
        let records: [ReportRecord]
        var access: AccessReport?
        var destroyed: [DestroyedMatterSummary]?
        var exports: [ExportedBundle]?
        if let bundle {
            var options = BundleVerifyOptions()
            if let verifierKey { options.pinnedVerifierKey = try BundleFiles.readText(verifierKey) }
            let verified = try AgeKeyFiles.openVerified(bundle, identity: identity, options: options)
            records = try ReportSource.records(from: verified, filter: filter)
            VerifyBundle.printWarnings(of: verified.report)
        } else {
            let ledger = try openUnlocked(location, keys)
            try reason.record(ledger, command: "report", matters: matter.map { [$0] } ?? [])
            records = try ReportSource.records(from: ledger, filter: filter)
            if ledger.isUnlockedWithMasterKey {
                access = try ledger.accessReport(matter: matter)
                exports = try ledger.exportLog(matter: matter).map {
                    ExportedBundle(seq: $0.seq, at: $0.recordedAt, credential: $0.export.credential,
                                   matters: $0.matterNames, entries: $0.export.entries, profile: $0.export.profile,
                                   recipient: $0.export.recipient, manifest: $0.export.manifest)
                }
            }
            destroyed = try ledger.destroyedSummaries(matter: matter, names: Array(reportPolicy.closed.keys)
                                                                          + Array(reportPolicy.overrides.keys))
        }
        report = CommunicationReport(records: records, policy: reportPolicy, asOf: time)
        report.access = access
        report.destroyed = destroyed
        report.exports = exports
        let text = report.render(format, policy: reportPolicy)
        if let output {
            guard !FileManager.default.fileExists(atPath: output) else {
                throw ExportError.outputExists(output)
            }
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .withoutOverwriting) } catch {
                throw ExportError.io(path: output, detail: "cannot write the report")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if failOnBreach && report.hasBreaches {
            Terminal.note("report: \(report.breaches.count) breaches (--fail-on-breach)")
            throw ExitCode(1)
        }
    }
}
