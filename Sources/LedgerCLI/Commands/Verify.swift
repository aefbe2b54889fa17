import ArgumentParser
import Foundation
import Ledger
import LedgerSupport
import RecordFormats

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove the ledger unaltered: re-hash every stored byte and check every link.",
        discussion: "Exit 0: intact. Exit 1: integrity violation (and only then). "
                    + "Other codes: usage, key or I/O errors.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var reason: ReadReason

    @Option(help: ArgumentHelp("Verifier key kept outside the ledger (pins it).", valueName: "file"))
    var verifierKey: String?

    @Option(help: ArgumentHelp("A checkpoint kept outside the ledger: the ledger must contain the tree it names.",
                               valueName: "file"))
    var trusted: String?

    @Flag(help: "After a clean run, replace the --trusted file (atomically) with the newest verified checkpoint.")
    var updateTrusted = false

    @Flag(help: "Also decrypt every entry and check every disclosure, record and key (needs the master key).")
    var deep = false

    @Option(help: ArgumentHelp("A c2sp.org/tlog-policy file: the newest checkpoint must carry its quorum of valid "
                               + "cosignatures; recorded witness refusals are violations.", valueName: "file"))
    var policy: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Write a Prometheus textfile (atomically) for monitoring.", valueName: "file"))
    var metrics: String?

    func validate() throws {
        if updateTrusted && trusted == nil { throw ValidationError("--update-trusted needs --trusted FILE") }
    }

    func run() throws {
        var intact = true
        do {
            try run(intact: &intact)
        } catch {
            // A run that cannot finish must not leave the previous run's `ledger_verify_ok 1` for monitoring.
            if let metrics {
                try? AtomicFile.write(
                    VerifyReport().metrics(now: Date(),
                                           previousLastSuccess: AtomicFile.previousLastSuccess(metricsPath: metrics),
                                           completed: false), to: metrics)
            }
            throw error
        }
        if !intact { throw ExitCode(1) }
    }

    /// Keyless verification never writes; deep verification decrypts, so it needs the master key and first records
    /// its access entry.
    private func openForVerify() throws -> Ledger {
        let ledger = try Ledger.open(at: location.directory(), readOnly: !deep)
        guard deep else { return ledger }
        try keys.unlock(ledger)
        guard ledger.isUnlockedWithMasterKey else {
            throw LedgerError.notPermitted("verify --deep opens every key: it needs the master key, not a credential")
        }
        try reason.record(ledger, command: "verify --deep")
        return ledger
    }

    private func run(intact: inout Bool) throws {
        let ledger = try openForVerify()
        var options = VerifyOptions(deep: deep)
        if let verifierKey {
            options.pinnedVerifierKey = try readText(verifierKey)
        } else {
            Terminal.warning("no --verifier-key given: checking checkpoints with the key stored inside the ledger. "
                             + "Someone able to rewrite the ledger can replace that key too; "
                             + "pin a copy kept elsewhere.")
        }
        if let trusted { options.trustedCheckpoint = try readText(trusted) }
        if let policy { options.policy = try readText(policy) }
        let report = try ledger.verify(options)
        if let metrics {
            try AtomicFile.write(
                report.metrics(now: Date(), previousLastSuccess: AtomicFile.previousLastSuccess(metricsPath: metrics)),
                to: metrics)
        }
        if json {
            print(JSONWriter.string(report.json))
        } else {
            report.summaryLines.forEach { print($0) }
            for violation in report.violations { print("violation: \(violation)") }
            if report.violationCount > report.violations.count {
                print("… and \(report.violationCount - report.violations.count) more violations")
            }
        }
        if updateTrusted, let trusted, report.isIntact {
            if let newest = report.newestValidCheckpoint {
                try AtomicFile.write(newest, to: trusted)
            } else {
                Terminal.warning("no stored checkpoint to copy into \(trusted); run `ledger checkpoint` first")
            }
        }
        intact = report.isIntact
    }

    private func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw LedgerError.io(path: path, detail: "cannot read (missing, unreadable or over 1 MiB)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
