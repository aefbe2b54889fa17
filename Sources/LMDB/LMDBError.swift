import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error reported by liblmdb (or by this wrapper, using LMDB/errno codes).
///
/// `code` is the C result code (an `MDB_*` code such as `MDB_NOTFOUND`, or an
/// errno value such as `EACCES`), `message` is `mdb_strerror(code)` unless the
/// wrapper has something more specific to say, and `operation` names the C call
/// (e.g. `"mdb_put"`) or wrapper step that failed.
public struct LMDBError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let operation: String

    public init(code: Int32, message: String, operation: String) {
        self.code = code
        self.message = message
        self.operation = operation
    }

    /// An error for `code` with LMDB's own message (`mdb_strerror`).
    public init(code: Int32, operation: String) {
        self.init(code: code, message: String(cString: mdb_strerror(code)), operation: operation)
    }

    public var description: String { "\(operation) failed: \(message) (code \(code))" }

    /// Well-known result codes, so callers never need to import the C module.
    public enum Code {
        public static let keyExists: Int32 = MDB_KEYEXIST
        public static let notFound: Int32 = MDB_NOTFOUND
        public static let pageNotFound: Int32 = MDB_PAGE_NOTFOUND
        public static let corrupted: Int32 = MDB_CORRUPTED
        public static let panic: Int32 = MDB_PANIC
        public static let versionMismatch: Int32 = MDB_VERSION_MISMATCH
        public static let invalid: Int32 = MDB_INVALID
        public static let mapFull: Int32 = MDB_MAP_FULL
        public static let dbsFull: Int32 = MDB_DBS_FULL
        public static let readersFull: Int32 = MDB_READERS_FULL
        public static let txnFull: Int32 = MDB_TXN_FULL
        public static let cursorFull: Int32 = MDB_CURSOR_FULL
        public static let pageFull: Int32 = MDB_PAGE_FULL
        public static let mapResized: Int32 = MDB_MAP_RESIZED
        public static let incompatible: Int32 = MDB_INCOMPATIBLE
        public static let badReaderSlot: Int32 = MDB_BAD_RSLOT
        public static let badTransaction: Int32 = MDB_BAD_TXN
        public static let badValueSize: Int32 = MDB_BAD_VALSIZE
        public static let badDatabase: Int32 = MDB_BAD_DBI
    }

    public var isNotFound: Bool { code == MDB_NOTFOUND }
    public var isMapFull: Bool { code == MDB_MAP_FULL }
    public var isKeyExists: Bool { code == MDB_KEYEXIST }
    public var isMapResized: Bool { code == MDB_MAP_RESIZED }
    /// The data file is not a (valid) LMDB file, or its structure is damaged.
    public var isCorruption: Bool {
        code == MDB_INVALID || code == MDB_CORRUPTED || code == MDB_PAGE_NOTFOUND
            || code == MDB_VERSION_MISMATCH || code == MDB_PANIC
    }
}

extension LMDBError {
    @inline(__always)
    static func check(_ rc: Int32, _ operation: String) throws {
        if rc != 0 { throw LMDBError(code: rc, operation: operation) }
    }

    static func transactionEnded(_ operation: String) -> LMDBError {
        LMDBError(code: MDB_BAD_TXN,
                  message: "the transaction has ended "
                      + "(transactions and their values are valid only inside the closure)",
                  operation: operation)
    }

    static func cursorClosed(_ operation: String) -> LMDBError {
        LMDBError(code: EINVAL, message: "the cursor is closed (or its transaction has ended)", operation: operation)
    }

    static func environmentClosed(_ operation: String) -> LMDBError {
        LMDBError(code: EINVAL, message: "the environment is closed", operation: operation)
    }
}
