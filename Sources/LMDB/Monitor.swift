#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with one condition variable (no Foundation dependency).
// `@unchecked Sendable`: its only state is the mutex and condition, made for use from many threads.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }
    /// Must hold the lock.
    func wait() { pthread_cond_wait(condition, mutex) }
    func broadcast() { pthread_cond_broadcast(condition) }

    @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// An identifier of the calling thread, usable as a dictionary key.
@inline(__always)
func currentThreadID() -> UInt {
    #if canImport(Darwin)
    return UInt(bitPattern: pthread_self())
    #else
    return UInt(pthread_self())
    #endif
}

/// The data files open in this process. LMDB forbids opening one environment
/// twice in a process: closing the second handle would drop the first one's
/// POSIX (fcntl) locks. Keyed by (device, inode) of the directory holding the
/// data file plus the file's name, so symlinks and relative paths can't dodge it.
// `@unchecked Sendable`: `open` is read and written only while holding `monitor`.
final class OpenRegistry: @unchecked Sendable {
    struct Key: Hashable {
        let device: UInt64
        let inode: UInt64
        let name: String
    }

    static let shared = OpenRegistry()
    private let monitor = Monitor()
    private var open = Set<Key>()

    func claim(_ key: Key, path: String) throws {
        try monitor.withLock {
            guard open.insert(key).inserted else {
                throw LMDBError(code: EBUSY,
                                message: "environment at \(path) is already open in this process "
                                    + "(LMDB allows one Environment per environment per process; share it)",
                                operation: "mdb_env_open")
            }
        }
    }

    func release(_ key: Key) {
        monitor.withLock { _ = open.remove(key) }
    }

    /// The key for an environment path (`noSubdirectory`: path is the data file).
    static func key(path: String, noSubdirectory: Bool) throws -> Key {
        var dir = path
        var name = "data.mdb"
        if noSubdirectory {
            if let slash = path.lastIndex(of: "/") {
                dir = String(path[..<slash])
                if dir.isEmpty { dir = "/" }
                name = String(path[path.index(after: slash)...])
            } else {
                dir = "."
                name = path
            }
        }
        var st = stat()
        guard stat(dir, &st) == 0 else {
            let e = errno
            throw LMDBError(code: e, message: "\(dir): \(String(cString: strerror(e)))", operation: "mdb_env_open")
        }
        return Key(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), name: name)
    }
}

/// Size of an open file in bytes.
func sizeOfFile(_ fd: Int32) throws -> Int {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw LMDBError(code: errno, operation: "fstat") }
    return Int(st.st_size)
}
