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
    /// The operation needs the master key and none was given.
    case masterKeyRequired
    /// A key of the other kind was given: the ledger is protected by a passphrase (true) or a key file (false).
    case otherKeyKind(usesPassphrase: Bool)
    case wrongKey(String)
    /// The credential's role or grant does not allow this; the message reveals nothing of what was refused.
    case notPermitted(String)
    case invalidRecords([RecordError])
    case unknownSequence(UInt64, size: UInt64)
    case unknownMatter
    /// The seq holds an access-control event, not a record (`ledger access log` lists those).
    case notARecord(UInt64)
    /// LMDB failed during `operation` for a reason other than damage (map full, readers full, I/O, permissions).
    case storage(operation: String, cause: LMDBError)
    /// LMDB found the file damaged during `operation` (a bad page, a broken B-tree): an integrity failure.
    case damagedStorage(operation: String, cause: LMDBError)
    case io(path: String, detail: String)
    case corrupt(String)
    case invalidArgument(String)
    case inputNotFound(path: String)
    case backupTargetNotEmpty(path: String)

    public var description: String {
        switch self {
        case .ledgerNotFound(let path):
            return "no ledger at \(path)"
        case .ledgerDirectoryNotEmpty(let path):
            return "\(path) exists and is not empty; a new ledger needs a new or empty directory"
        case .notALedger(let path, let reason):
            return "\(path) is not a readable ledger: \(reason)"
        case .unsupportedFormat(let version):
            return "ledger storage format \(version) is newer than this build understands; upgrade `ledger`"
        case .keyFileExists(let path):
            return "key file \(path) already exists; refusing to overwrite a key"
        case .keyFileInsideLedger(let path):
            return "key file \(path) is inside the ledger directory; keep keys apart from the data they protect"
        case .keyFileMissing(let path):
            return "key file \(path) does not exist"
        case .keyFilePermissions(let path, let mode):
            return "key file \(path) is accessible by group or others (mode \(String(mode & 0o777, radix: 8))); "
                + "fix it with: chmod 600 \(path)"
        case .keyFileMalformed(let path, let reason):
            return "key file \(path) is not a ledger master key: \(reason)"
        case .keyRequired(let what):
            return what
        case .wrongKey(let what):
            return what
        case .notPermitted(let what):
            return what
        case .invalidRecords(let errors):
            return errors.map(\.description).joined(separator: "\n")
        case .unknownSequence(let seq, let size):
            return size == 0 ? "no entry \(seq): the ledger is empty"
                             : "no entry \(seq): the ledger has entries 0 to \(size - 1)"
        case .unknownMatter:
            return "no entries for that matter"
        case .notARecord(let seq):
            return "entry \(seq) is an access-control event, not a record (see `ledger access log`)"
        case .storage(let operation, let cause):
            return "storage error during \(operation): \(cause)"
        case .damagedStorage(let operation, let cause):
            return "ledger data is damaged: storage error during \(operation): \(cause)"
        case .masterKeyRequired:
            return "this operation needs the master key"
        case .otherKeyKind(let usesPassphrase):
            return usesPassphrase ? "this ledger is protected by a passphrase, not a key file"
                                  : "this ledger is protected by a key file, not a passphrase"
        case .io(let path, let detail):
            return "\(path): \(detail)"
        case .corrupt(let what):
            return "ledger data is damaged: \(what)"
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
    /// Runs `body`, keeping an LMDB failure typed and naming the engine operation it interrupted. LMDB's own
    /// corruption codes (a bad page, a broken B-tree, not an LMDB file) become `damagedStorage`: exit status 1.
    static func wrap<R>(_ operation: String, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as LMDBError {
            throw error.isCorruption ? LedgerError.damagedStorage(operation: operation, cause: error)
                                     : LedgerError.storage(operation: operation, cause: error)
        }
    }
}
