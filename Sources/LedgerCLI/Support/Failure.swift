import Age
import ArgumentParser
import Foundation
import LMDB
import Ledger
import LedgerBench
import LedgerBundle
import LedgerFormat
import LedgerReport
import LedgerSupport
import Transparency
import Witness

/// The one table of exit statuses (`ledger --help` lists it) and the one place that adds command-line hints to the
/// library's messages. The libraries describe the problem; only the CLI knows which flag fixes it.
/// Messages never carry secrets or field values.
enum Failure {
    /// What the tool prints for `error` on stderr and the status it exits with; nil for ArgumentParser's own errors
    /// (usage, `--help`, `ExitCode`), which ArgumentParser reports itself.
    static func outcome(for error: Error) -> (message: String, status: Int32)? {
        switch error {
        case let error as LedgerError: return (message(error), status(error))
        case let error as ExportError: return (message(error), status(error))
        case let error as ReceiptError: return (message(error), 69)
        case let error as BundleError: return (message(error), status(error))
        case let error as ReportError: return (message(error), status(error))
        case let error as PublishError: return (message(error), status(error))
        case let error as FileError: return (error.description, 74)
        case let error as AgeError: return (error.description, status(error))
        case let error as BenchError: return (error.description, status(error))
        case let error as LMDBError: return (error.description, error.isCorruption ? 1 : 74)
        case let error as WitnessError: return (error.description, status(error))
        case let error as TransparencyError: return (error.description, 64)
        case is ExitCode, is CleanExit, is ValidationError: return nil
        case _ where isArgumentParsers(error): return nil  // e.g. `--help`, which ArgumentParser throws to print
        default:
            // Not ours and not ArgumentParser's: never 1, which means an integrity violation and only that.
            return ("internal error: \(error)", 70)
        }
    }

    /// ArgumentParser's own errors (help requested, a parse error) are its to report: its types are internal.
    private static func isArgumentParsers(_ error: Error) -> Bool {
        String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    static func status(_ error: LedgerError) -> Int32 {
        switch error {
        case .corrupt, .damagedStorage: return 1
        case .invalidRecords: return 65
        case .ledgerNotFound, .unknownSequence, .unknownMatter, .notARecord, .inputNotFound: return 66
        case .ledgerDirectoryNotEmpty, .keyFileExists, .keyFileInsideLedger, .backupTargetNotEmpty: return 73
        case .storage, .io, .notALedger, .unsupportedFormat: return 74
        case .keyFilePermissions, .keyFileMalformed, .keyRequired, .wrongKey, .keyFileMissing, .masterKeyRequired,
             .otherKeyKind, .notPermitted:
            return 77
        case .invalidArgument: return 64
        }
    }

    static func status(_ error: ExportError) -> Int32 {
        switch error {
        case .unknownMatter, .emptySelection, .inputNotFound: return 66
        case .invalidProfile, .acknowledgementRequired, .invalidArgument, .noMatter, .olderCheckpointInvalid: return 64
        case .outputExists: return 73
        case .io: return 74
        }
    }

    static func status(_ error: BundleError) -> Int32 {
        switch error {
        case .notFound: return 66
        case .unreadable: return 74
        case .malformed: return 65
        case .invalidVerifierKey, .invalidPolicy: return 64
        }
    }

    static func status(_ error: BenchError) -> Int32 {
        switch error {
        case .didNotVerify: return 1
        case .verifyProcessFailed(let status): return status == 1 ? 1 : 70
        case .importProcessFailed: return 70
        case .importedFewer: return 70
        }
    }

    static func status(_ error: WitnessError) -> Int32 {
        switch error {
        case .state, .http: return 74
        case .keyFile: return 77
        case .logKey, .address: return 64
        }
    }

    static func status(_ error: ReportError) -> Int32 {
        switch error {
        case .bundleRejected: return 1
        case .invalidPolicy: return 64
        }
    }

    static func status(_ error: PublishError) -> Int32 {
        switch error {
        case .inconsistent: return 1
        case .noCheckpoint: return 66
        case .directoryInsideLedger, .foreignFiles, .otherLog, .wouldRollBack: return 73
        }
    }

    static func message(_ error: PublishError) -> String {
        switch error {
        case .noCheckpoint: return "\(error): the signer (or the master key) must run `ledger checkpoint` first"
        default: return error.description
        }
    }

    static func message(_ error: LedgerError) -> String {
        switch error {
        case .ledgerNotFound: return "\(error) (create one with `ledger init`)"
        case .keyFileInsideLedger: return "\(error), or pass --allow-key-inside"
        case .corrupt, .damagedStorage: return "\(error) (run `ledger verify` for a full report)"
        case .masterKeyRequired: return "\(error): pass --key-file (or LEDGER_KEY_FILE) or --passphrase"
        case .otherKeyKind(let usesPassphrase):
            return "\(error); use " + (usesPassphrase ? "--passphrase or LEDGER_PASSPHRASE_FILE"
                                                      : "--key-file or LEDGER_KEY_FILE")
        default: return error.description
        }
    }

    /// No checkpoint covers the entry yet: exit 69 (EX_UNAVAILABLE), and the commands that make one.
    static func message(_ error: ReceiptError) -> String {
        "\(error): run `ledger checkpoint --witness` (or `ledger checkpoint`) first"
    }

    static func message(_ error: ExportError) -> String {
        switch error {
        case .noMatter: return "\(error) (--matter)"
        case .olderCheckpointInvalid: return "--since-checkpoint: \(error)"
        default: return error.description
        }
    }

    static func message(_ error: BundleError) -> String {
        switch error {
        case .invalidVerifierKey: return "--verifier-key: \(error)"
        case .invalidPolicy: return "--policy: \(error)"
        default: return error.description
        }
    }

    static func message(_ error: ReportError) -> String {
        switch error {
        case .bundleRejected: return "\(error) (run `ledger verify-bundle` to see the violations)"
        case .invalidPolicy: return error.description
        }
    }
}
