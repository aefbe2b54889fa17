#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// `ledger.lock` in the ledger directory: every process with the ledger open holds a shared `flock` on it, taken
/// before LMDB maps the data file; a compaction (after `shred` or `rotate-master`) takes it exclusively, so no process
/// keeps writing to a data file the compaction has replaced (docs/RETENTION.md, "Compaction").
final class LedgerLock: @unchecked Sendable {
    // @unchecked: `fd` is set once in init and cleared once in `release`, under `lock`.
    static let fileName = "ledger.lock"
    private let lock = NSLock()
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// A shared lock, waiting while a compaction holds the exclusive one. nil when the file cannot be created
    /// (a read-only copy of a ledger: nothing can compact it either).
    static func shared(directory: String) -> LedgerLock? {
        let fd = open(path(directory), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return nil }
        while flock(fd, LOCK_SH) != 0 {
            if errno != EINTR { close(fd); return nil }
        }
        return LedgerLock(fd: fd)
    }

    /// The exclusive lock, or nil at once when any process (this one included) has the ledger open.
    static func exclusive(directory: String) throws -> LedgerLock? {
        let fd = open(path(directory), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw LedgerError.io(path: path(directory), detail: "cannot open the ledger lock file")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return LedgerLock(fd: fd)
    }

    func release() {
        lock.withLock {
            guard fd >= 0 else { return }
            close(fd)  // closing the descriptor drops the flock
            fd = -1
        }
    }

    deinit { release() }

    private static func path(_ directory: String) -> String {
        (directory as NSString).appendingPathComponent(fileName)
    }
}
