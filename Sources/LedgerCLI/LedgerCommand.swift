import ArgumentParser
import Foundation
import Logging

@main
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Tamper-evident, encrypted ledger of a law firm's client communications.",
        discussion: """
        Every record is encrypted field by field, hash-chained, and logged in an RFC 6962 Merkle tree \
        whose signed checkpoints anyone can check with the verifier key.

        Environment: LEDGER_DIR (--ledger), LEDGER_KEY_FILE (--key-file), LEDGER_CREDENTIAL_FILE \
        (--credential), LEDGER_PASSPHRASE_FILE (passphrase for --passphrase ledgers), LEDGER_LOG_LEVEL (default: warning).
        Exit codes: 0 success; 1 integrity violation (report --fail-on-breach: breaches found); 64 usage; \
        65 rejected input records; \
        66 ledger, file, entry or matter not found; 69 witness quorum not met, or no stored checkpoint covers the \
        entry yet (receipt); 73 refused to create or overwrite; \
        70 internal error; 74 storage or I/O error; 77 key missing, wrong or unsafe, or the credential may not do that.
        """,
        version: LedgerVersion.string,
        subcommands: [Init.self, Append.self, Import.self, List.self, Show.self, CheckpointCommand.self, Verify.self,
                      Export.self, Produce.self, VerifyBundle.self, Backup.self, Bench.self, Report.self, Grant.self, Revoke.self,
                      Access.self, Hold.self, ShredCommand.self, RotateMaster.self, Retention.self, Compact.self,
                      Exports.self, Recipient.self, Receipt.self, VerifyReceipt.self, WitnessCommand.self,
                      Publish.self]
    )

    static func main() {
        umask(0o077)  // files this process creates (bundles, backups, keys) are private unless a mode is set explicitly
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: Environment.value("LEDGER_LOG_LEVEL") ?? "") ?? .warning
            return handler
        }
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            try command.run()
        } catch {
            guard let (message, status) = Failure.outcome(for: error) else { exit(withError: error) }
            Terminal.error(message)
            Foundation.exit(status)
        }
    }
}

enum LedgerVersion {
    static let string = "0.1.0"
}
