import LMDB
import LedgerFormat

/// Every failure the engine reports, with enough context to act on. No case carries a secret or a field value.
public enum LedgerError: Error, CustomStringConvertible, Sendable {
    case ledgerNotFound(path: String)
    case ledgerDirectoryNotEmpty(path: String)
    case notALedger(path: String, reason: String)
    case unsupportedFormat(version: UInt32)
    case keyFileExists(path: String)
    case keyFileInsideLedger(path: String)
    case keyFileMissing(path: String)
    case keyFilePermissions(path: String, mode: UInt32)
    case keyFileMalformed(path: String, reason: String)
    case keyRequired(String)
    case wrongKey(String)
    case invalidRecords([RecordError])
    case unknownSequence(UInt64, size: UInt64)
    case unknownMatter
    case storage(operation: String, detail: String)
    case io(path: String, detail: String)
    case corrupt(String)
    case invalidArgument(String)
    case inputNotFound(path: String)
    case backupTargetNotEmpty(path: String)

    public var description: String {
        switch self {
        case .ledgerNotFound(let path):
            return "no ledger at \(path) (create one with `ledger init`)"
        case .ledgerDirectoryNotEmpty(let path):
            return "\(path) exists and is not empty; `ledger init` needs a new or empty directory"
        case .notALedger(let path, let reason):
            return "\(path) is not a readable ledger: \(reason)"
        case .unsupportedFormat(let version):
            return "ledger storage format \(version) is newer than this build understands; upgrade `ledger`"
        case .keyFileExists(let path):
            return "key file \(path) already exists; refusing to overwrite a key"
        case .keyFileInsideLedger(let path):
            return "key file \(path) is inside the ledger directory; keep keys apart from the data they protect, or pass --allow-key-inside"
        case .keyFileMissing(let path):
            return "key file \(path) does not exist"
        case .keyFilePermissions(let path, let mode):
            return "key file \(path) is accessible by group or others (mode \(String(mode & 0o777, radix: 8))); fix it with: chmod 600 \(path)"
        case .keyFileMalformed(let path, let reason):
            return "key file \(path) is not a ledger master key: \(reason)"
        case .keyRequired(let what):
            return what
        case .wrongKey(let what):
            return what
        case .invalidRecords(let errors):
            return errors.map(\.description).joined(separator: "\n")
        case .unknownSequence(let seq, let size):
            return size == 0 ? "no entry \(seq): the ledger is empty" : "no entry \(seq): the ledger has entries 0 to \(size - 1)"
        case .unknownMatter:
            return "no entries for that matter"
        case .storage(let operation, let detail):
            return "storage error during \(operation): \(detail)"
        case .io(let path, let detail):
            return "\(path): \(detail)"
        case .corrupt(let what):
            return "ledger data is damaged: \(what) (run `ledger verify` for a full report)"
        case .invalidArgument(let what):
            return what
        case .inputNotFound(let path):
            return "\(path): no such file"
        case .backupTargetNotEmpty(let path):
            return "\(path) exists and is not an empty directory; a backup needs a new or empty directory"
        }
    }
}

extension LedgerError {
    /// Wraps an LMDB failure with the engine operation it interrupted.
    static func wrap<R>(_ operation: String, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as LMDBError {
            throw LedgerError.storage(operation: operation, detail: error.description)
        }
    }
}
