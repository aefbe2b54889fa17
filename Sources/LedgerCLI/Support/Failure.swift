import ArgumentParser
import Foundation
import Ledger

/// Maps engine errors to the documented exit codes and prints them on stderr (never secrets or field values).
enum Failure {
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as LedgerError {
            Terminal.error(error.description)
            throw ExitCode(exitCode(for: error))
        }
    }

    static func exitCode(for error: LedgerError) -> Int32 {
        switch error {
        case .corrupt: return 1
        case .invalidRecords: return 65
        case .ledgerNotFound, .unknownSequence, .unknownMatter, .inputNotFound: return 66
        case .ledgerDirectoryNotEmpty, .keyFileExists, .keyFileInsideLedger, .backupTargetNotEmpty: return 73
        case .storage, .io, .notALedger, .unsupportedFormat: return 74
        case .keyFilePermissions, .keyFileMalformed, .keyRequired, .wrongKey, .keyFileMissing: return 77
        case .invalidArgument: return 64
        }
    }
}
