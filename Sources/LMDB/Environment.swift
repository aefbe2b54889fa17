import CLMDB
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An LMDB environment: one memory-mapped data file (`data.mdb` in the
/// directory `path`, plus `lock.mdb`) holding up to `maxDatabases` named
/// databases.
///
/// - One `Environment` per environment per process. LMDB forbids opening the
///   same environment twice in one process (closing the second handle would
///   silently drop the first one's file locks), so a second `init` on the same
///   path while the first is open throws `EBUSY`. Share the one instance
///   between threads (it is `Sendable`); several *processes* may each open it.
/// - Always opened with `MDB_NOTLS`: transactions are not tied to threads.
/// - Commits are durable (fsync) unless `.noSync`/`.noMetaSync` is passed.
/// - `read`/`write` run their closure synchronously on the calling thread; a
///   write transaction begins and commits on that thread.
/// - Don't nest: `write` inside any transaction closure of the same
///   environment on the same thread throws `EDEADLK` (LMDB would deadlock);
///   `read` inside `read`/`write` is fine; `openDatabase` inside a closure throws.
/// - The map grows automatically: when a write fills it (`MDB_MAP_FULL`), the
///   transaction is aborted, the map size doubled and the closure run again.
///   When another process grew it (`MDB_MAP_RESIZED`) the new size is adopted
///   and the transaction retried.
// `@unchecked Sendable`: every mutable property is read and written only while holding `monitor`.
public final class Environment: @unchecked Sendable {
    /// The path passed to `init` (directory, or data file with `.noSubdirectory`).
    public let path: String
    /// The flags passed to `init` (`MDB_NOTLS` is added internally and not shown).
    public let flags: EnvironmentFlags

    // All mutable state below is protected by `monitor`.
    private let monitor = Monitor()
    private var env: OpaquePointer?
    /// The map's address range, once `releaseMappedPages` has located it.
    private var mappedRange: Range<UInt>?
    private var closing = false
    /// Transactions (and copies/syncs) in progress, in total and per thread.
    private var active = 0
    private var activeByThread: [UInt: Int] = [:]
    /// A thread waits to change the map size: threads without a transaction wait.
    private var resizePending = 0
    private let registryKey: OpenRegistry.Key
    /// Serialises `mdb_dbi_open` (LMDB requires it).
    private let dbiMonitor = Monitor()

    /// Opens (creating if needed, unless `.readOnly`) the environment in the
    /// existing directory `path`.
    ///
    /// - Parameters:
    ///   - maxDatabases: number of named databases (`mdb_env_set_maxdbs`).
    ///   - mapSize: initial map size in bytes (grows on demand; a larger
    ///     size recorded in the file wins). 0 keeps LMDB's default/the file's.
    ///   - mode: permissions of newly created files.
    /// - Throws: `LMDBError`; a file that is not LMDB, damaged or truncated
    ///   gives `MDB_INVALID`, `MDB_VERSION_MISMATCH`, `MDB_CORRUPTED` or
    ///   `MDB_PAGE_NOTFOUND` (`isCorruption`).
    public init(path: String, maxDatabases: Int, mapSize: Int, flags: EnvironmentFlags = [],
                mode: UInt32 = 0o600) throws {
        guard maxDatabases >= 0, maxDatabases <= Int(UInt32.max), mapSize >= 0 else {
            throw LMDBError(code: EINVAL, message: "maxDatabases and mapSize must be non-negative",
                            operation: "mdb_env_open")
        }
        let key = try OpenRegistry.key(path: path, noSubdirectory: flags.contains(.noSubdirectory))
        try OpenRegistry.shared.claim(key, path: path)
        do {
            self.env = try Environment.open(path: path, maxDatabases: maxDatabases, mapSize: mapSize,
                                            flags: flags, mode: mode)
        } catch {
            OpenRegistry.shared.release(key)
            throw error
        }
        self.path = path
        self.flags = flags
        self.registryKey = key
    }

    private static func open(path: String, maxDatabases: Int, mapSize: Int, flags: EnvironmentFlags,
                             mode: UInt32) throws -> OpaquePointer {
        var created: OpaquePointer?
        try LMDBError.check(mdb_env_create(&created), "mdb_env_create")
        let env = created!
        do {
            try LMDBError.check(mdb_env_set_maxdbs(env, UInt32(maxDatabases)), "mdb_env_set_maxdbs")
            if mapSize > 0 {
                try LMDBError.check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize")
            }
            try checkMetaPageSizes(dataFile: flags.contains(.noSubdirectory) ? path : path + "/data.mdb")
            try LMDBError.check(mdb_env_open(env, path, flags.rawValue | UInt32(MDB_NOTLS), mdb_mode_t(mode)),
                                "mdb_env_open")
            try validate(env)
        } catch {
            mdb_env_close(env)
            throw error
        }
        return env
    }

    /// The page size each meta page of an existing data file declares (read as `mdb_env_open` reads them, the
    /// second at the first's page size) must be a power of two from 512 to 65536: `mdb_env_open` divides by it
    /// (a zero there raises SIGFPE).
    /// A missing or empty file (a new environment) and pages that are not meta pages are left to LMDB.
    private static func checkMetaPageSizes(dataFile: String) throws {
        guard let file = FileHandle(forReadingAtPath: dataFile) else { return }
        defer { try? file.close() }
        var offset = 0
        for _ in 0..<2 {
            guard (try? file.seek(toOffset: UInt64(offset))) != nil,
                  let read = try? file.read(upToCount: 44), read.count == 44 else { return }
            let header = [UInt8](read)
            let flags = UInt16(header[10]) | UInt16(header[11]) << 8
            let magic = header[16..<20].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard flags & 0x08 != 0, magic == 0xBEEF_C0DE else { return }  // P_META, MDB_MAGIC (mdb.c)
            let pageSize = header[40..<44].reversed().reduce(0) { $0 << 8 | Int($1) }
            guard (512...65536).contains(pageSize), pageSize & (pageSize - 1) == 0 else {
                throw LMDBError(code: MDB_CORRUPTED,
                                message: "data file is damaged: a meta page declares a page size of \(pageSize) bytes",
                                operation: "mdb_env_open")
            }
            offset += pageSize
        }
    }

    /// Structural checks LMDB skips, so that hostile files throw instead of
    /// crashing: the data file must hold every page the meta page claims
    /// (else reading the map past EOF raises SIGBUS), and the main database
    /// and the root page of each named database must be sane (`StructureCheck`,
    /// read with `pread`, not through the map). Pages below the roots are only
    /// checked by `checkStructure()`. LMDB has no page checksums: contents are
    /// the caller's to verify (the ledger's hashes do).
    private static func validate(_ env: OpaquePointer) throws {
        var info = MDB_envinfo()
        try LMDBError.check(mdb_env_info(env, &info), "mdb_env_info")
        var st = MDB_stat()
        try LMDBError.check(mdb_env_stat(env, &st), "mdb_env_stat")
        var fd: mdb_filehandle_t = -1
        try LMDBError.check(mdb_env_get_fd(env, &fd), "mdb_env_get_fd")
        let fileSize = try sizeOfFile(fd)
        let pageSize = Int(st.ms_psize)
        let (needed, overflow) = (info.me_last_pgno + 1).multipliedReportingOverflow(by: pageSize)
        guard pageSize > 0, !overflow, fileSize >= needed, needed <= info.me_mapsize else {
            throw LMDBError(code: MDB_CORRUPTED,
                            message: "data file is truncated or damaged: \(fileSize) bytes, "
                                + "meta page claims \(info.me_last_pgno + 1) pages of \(pageSize) bytes",
                            operation: "mdb_env_open")
        }
        try checkStructure(env, fd: fd, pageSize: pageSize, fileSize: fileSize, deep: false)
    }

    /// Runs `StructureCheck` against the snapshot of a read transaction (which
    /// pins its pages against reuse by concurrent writers). Returns pages checked.
    @discardableResult
    private static func checkStructure(_ env: OpaquePointer, fd: Int32, pageSize: Int, fileSize: Int,
                                       deep: Bool) throws -> Int {
        var raw: OpaquePointer?
        try LMDBError.check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &raw), "mdb_txn_begin")
        defer { mdb_txn_abort(raw) }
        let checker = StructureCheck(fd: fd, pageSize: pageSize, deep: deep)
        // the file may have grown since `fileSize` was taken (other writers)
        // mdb_txn_id is a size_t: a damaged meta page may hold any bit pattern, negative as an Int
        let txnid = UInt64(UInt(bitPattern: mdb_txn_id(raw)))
        try checker.run(fileSize: max(fileSize, try sizeOfFile(fd)), txnid: txnid)
        return checker.pagesChecked
    }

    deinit {
        close()
    }

    // MARK: - Use counting (mdb_env_set_mapsize needs no active transaction in this process)

    /// Registers a transaction (or copy/sync) of the calling thread.
    private func beginUse(_ operation: String, write: Bool) throws -> (OpaquePointer, mapSize: Int) {
        monitor.lock()
        defer { monitor.unlock() }
        let thread = currentThreadID()
        var mine = activeByThread[thread] ?? 0
        // Threads holding nothing wait for a pending resize; threads holding a
        // transaction must not (the resizer waits for them: deadlock).
        while resizePending > 0 && mine == 0 && env != nil && !closing {
            monitor.wait()
            mine = activeByThread[thread] ?? 0
        }
        guard let env, !closing else { throw LMDBError.environmentClosed(operation) }
        if write && mine > 0 {
            throw LMDBError(code: EDEADLK,
                            message: "a write transaction cannot start while this thread is inside another "
                                + "transaction of the same environment",
                            operation: operation)
        }
        active += 1
        activeByThread[thread] = mine + 1
        return (env, currentMapSize(env))
    }

    private func endUse() {
        monitor.lock()
        defer { monitor.unlock() }
        let thread = currentThreadID()
        let mine = (activeByThread[thread] ?? 1) - 1
        if mine == 0 { activeByThread[thread] = nil } else { activeByThread[thread] = mine }
        active -= 1
        if active == 0 {
            if closing, env != nil { closeNow() }
            monitor.broadcast()
        }
    }

    private func currentMapSize(_ env: OpaquePointer) -> Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return info.me_mapsize
    }

    /// Changes the map size once no transaction is active in this process.
    /// `observed` = the size the failing transaction saw; 0 adopts the size
    /// recorded by another process; otherwise doubles `observed` unless the map
    /// has already grown past it meanwhile.
    private func resizeMap(adopt: Bool, observed: Int, failure: LMDBError) throws {
        monitor.lock()
        defer { monitor.unlock() }
        // This thread still holds another transaction (e.g. a read nested in
        // a read): waiting would deadlock, so report the original failure.
        if (activeByThread[currentThreadID()] ?? 0) > 0 { throw failure }
        resizePending += 1
        defer {
            resizePending -= 1
            monitor.broadcast()
        }
        while active > 0 && env != nil { monitor.wait() }
        guard let env, !closing else { throw LMDBError.environmentClosed("mdb_env_set_mapsize") }
        if adopt {
            try LMDBError.check(mdb_env_set_mapsize(env, 0), "mdb_env_set_mapsize")
            return
        }
        let now = currentMapSize(env)
        if now > observed { return }  // another thread already grew it
        let (doubled, overflow) = observed.multipliedReportingOverflow(by: 2)
        if overflow { throw failure }
        try LMDBError.check(mdb_env_set_mapsize(env, doubled), "mdb_env_set_mapsize")
    }

    /// True when the calling thread is inside a transaction closure of this environment.
    private var callingThreadHasTransaction: Bool {
        monitor.withLock { (activeByThread[currentThreadID()] ?? 0) > 0 }
    }

    // MARK: - Transactions

    /// Runs `body` in a read-only transaction (a consistent snapshot),
    /// synchronously on the calling thread, and ends the transaction when it
    /// returns or throws. Values read are valid only inside `body`.
    public func read<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        try runRead(commit: false, body)
    }

    /// Begins a transaction (the caller ends its use with `endUse()`), adopting a map that another process
    /// grew (`MDB_MAP_RESIZED`) and retrying. Returns the transaction and the map size seen when it began.
    private func beginTransaction(write: Bool) throws -> (OpaquePointer, mapSize: Int) {
        while true {
            let (env, observed) = try beginUse("mdb_txn_begin", write: write)
            var raw: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, write ? 0 : UInt32(MDB_RDONLY), &raw)
            if rc == 0 { return (raw!, observed) }
            endUse()
            let error = LMDBError(code: rc, operation: "mdb_txn_begin")
            guard rc == MDB_MAP_RESIZED else { throw error }
            try resizeMap(adopt: true, observed: 0, failure: error)
        }
    }

    private func runRead<R>(commit: Bool, _ body: (ReadTransaction) throws -> R) throws -> R {
        let txn = ReadTransaction(try beginTransaction(write: false).0)
        let result: R
        do {
            result = try body(txn)
        } catch {
            _ = txn.finish(commit: false)
            endUse()
            throw error
        }
        // Read transactions are committed only to keep a newly opened dbi.
        let crc = txn.finish(commit: commit)
        endUse()
        try LMDBError.check(crc, "mdb_txn_commit")
        return result
    }

    /// Runs `body` in a write transaction, synchronously on the calling
    /// thread (begin and commit happen on this thread), committing when it
    /// returns and aborting when it throws. Commit is durable (fsync) unless
    /// the environment was opened with `.noSync`.
    ///
    /// **`body` may run more than once**: if the map fills up (`MDB_MAP_FULL`
    /// from any put or from the commit), the transaction is aborted, the map
    /// doubled and `body` run again from scratch. Keep side effects outside
    /// the database idempotent (or out of `body`). Only one write transaction
    /// runs at a time (others, in any thread or process, wait).
    public func write<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        while true {
            let (raw, observed) = try beginTransaction(write: true)
            let txn = WriteTransaction(raw)
            let result: R
            do {
                result = try body(txn)
            } catch {
                _ = txn.finish(commit: false)
                endUse()
                if txn.sawMapFull {
                    try resizeMap(adopt: false, observed: observed,
                                  failure: (error as? LMDBError) ?? LMDBError(code: MDB_MAP_FULL, operation: "mdb_put"))
                    continue
                }
                throw error
            }
            if txn.sawMapFull {
                // The closure swallowed a MAP_FULL error; the txn is unusable.
                _ = txn.finish(commit: false)
                endUse()
                try resizeMap(adopt: false, observed: observed,
                              failure: LMDBError(code: MDB_MAP_FULL, operation: "mdb_put"))
                continue
            }
            let crc = txn.finish(commit: true)
            endUse()
            if crc == 0 { return result }
            let error = LMDBError(code: crc, operation: "mdb_txn_commit")
            if crc == MDB_MAP_FULL {
                try resizeMap(adopt: false, observed: observed, failure: error)
                continue
            }
            throw error
        }
    }

    // MARK: - Databases

    /// Opens (with `.create`: creates) the named database and returns its
    /// handle, valid until the environment closes. Runs its own transaction
    /// (a write transaction with `.create`, else a read transaction), so call
    /// it outside transaction closures (it throws `EDEADLK` inside one).
    /// The empty name opens LMDB's unnamed main database.
    /// A missing database without `.create` throws `MDB_NOTFOUND`.
    public func openDatabase(_ name: String, flags: DatabaseFlags = []) throws -> Database {
        if callingThreadHasTransaction {
            throw LMDBError(code: EDEADLK, message: "openDatabase must not be called inside a transaction closure",
                            operation: "mdb_dbi_open")
        }
        dbiMonitor.lock()
        defer { dbiMonitor.unlock() }
        let body: (ReadTransaction) throws -> UInt32 = { txn in
            let t = try txn.handle("mdb_dbi_open")
            var dbi: MDB_dbi = 0
            let rc: Int32
            if name.isEmpty {
                rc = mdb_dbi_open(t, nil, flags.rawValue, &dbi)
            } else {
                rc = name.withCString { mdb_dbi_open(t, $0, flags.rawValue, &dbi) }
            }
            try txn.check(rc, "mdb_dbi_open")
            return dbi
        }
        let dbi = flags.contains(.create) ? try write(body) : try runRead(commit: true, body)
        return Database(dbi: dbi)
    }

    /// `mdb_stat` of `db` (in its own read transaction).
    public func stat(_ db: Database) throws -> DatabaseStat {
        try read { try $0.stat(db) }
    }

    // MARK: - Environment operations

    /// Writes a consistent copy of the environment (a hot backup, safe while
    /// other threads or processes write) into the existing, empty directory
    /// `directory` (`mdb_env_copy2`). `compact` omits free pages and
    /// renumbers (`MDB_CP_COMPACT`).
    public func copy(to directory: String, compact: Bool) throws {
        while true {
            let (env, _) = try beginUse("mdb_env_copy2", write: false)
            let rc = mdb_env_copy2(env, directory, compact ? UInt32(MDB_CP_COMPACT) : 0)
            endUse()
            if rc == MDB_MAP_RESIZED {
                try resizeMap(adopt: true, observed: 0, failure: LMDBError(code: rc, operation: "mdb_env_copy2"))
                continue
            }
            try LMDBError.check(rc, "mdb_env_copy2")
            return
        }
    }

    /// Flushes to disk (`mdb_env_sync`); `force` syncs even with `.noSync`/`.noMetaSync`.
    public func sync(force: Bool) throws {
        let (env, _) = try beginUse("mdb_env_sync", write: false)
        defer { endUse() }
        try LMDBError.check(mdb_env_sync(env, force ? 1 : 0), "mdb_env_sync")
    }

    /// Drops this process's resident copies of the mapped file pages (`madvise(MADV_DONTNEED)`) so that a long
    /// scan keeps its resident memory flat. The pages stay in the kernel's page cache and are mapped again on the
    /// next access, so pointers held by open transactions stay valid. Safe because the map is read-only to this
    /// process (no `MDB_WRITEMAP`). `pointer` is any value pointer from a transaction of this environment; it
    /// locates the map (LMDB reports the map address only for `MDB_FIXEDMAP`). Linux only; elsewhere a no-op.
    public func releaseMappedPages(containing pointer: UnsafeRawPointer) {
        #if os(Linux)
        let address = UInt(bitPattern: pointer)
        let range = monitor.withLock { () -> Range<UInt>? in
            if let cached = mappedRange, cached.contains(address) { return cached }
            mappedRange = Self.mapping(containing: address)
            return mappedRange
        }
        guard let range else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: range.lowerBound), Int(range.count), MADV_DONTNEED)
        #endif
    }

    /// The address range of the `data.mdb` mapping that holds `address`, from /proc/self/maps.
    private static func mapping(containing address: UInt) -> Range<UInt>? {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
        for line in maps.split(separator: "\n") where line.contains("data.mdb") {
            let bounds = line.prefix { $0 != " " }.split(separator: "-")
            guard bounds.count == 2, let low = UInt(bounds[0], radix: 16), let high = UInt(bounds[1], radix: 16),
                  low <= address, address < high else { continue }
            return low..<high
        }
        return nil
    }

    /// The current map size in bytes (0 once closed).
    public var mapSize: Int {
        monitor.withLock { env.map(currentMapSize) ?? 0 }
    }

    /// Largest key size LMDB accepts (`mdb_env_get_maxkeysize`; 511 by default).
    public var maxKeySize: Int {
        monitor.withLock { env.map { Int(mdb_env_get_maxkeysize($0)) } ?? 0 }
    }

    /// Walks every page of every database with `pread` and checks that all
    /// page references, node offsets and overflow runs stay inside their page
    /// and the file, without trusting the file (LMDB itself does trust it).
    /// `init` already runs a light version (meta, file size, main database,
    /// root page of each named database); run this before reading a file of
    /// unknown origin in full (e.g. `verify --deep`). It does not check key
    /// order or contents: the caller's hashes do that. Cost: reads the whole
    /// file once. Returns the number of pages checked.
    @discardableResult
    public func checkStructure() throws -> Int {
        let (env, _) = try beginUse("mdb_env_get_fd", write: false)
        defer { endUse() }
        var fd: mdb_filehandle_t = -1
        try LMDBError.check(mdb_env_get_fd(env, &fd), "mdb_env_get_fd")
        var st = MDB_stat()
        try LMDBError.check(mdb_env_stat(env, &st), "mdb_env_stat")
        return try Environment.checkStructure(env, fd: fd, pageSize: Int(st.ms_psize), fileSize: try sizeOfFile(fd),
                                              deep: true)
    }

    /// Frees reader slots left by dead processes (`mdb_reader_check`);
    /// returns how many were cleared.
    @discardableResult
    public func clearStaleReaders() throws -> Int {
        let (env, _) = try beginUse("mdb_reader_check", write: false)
        defer { endUse() }
        var dead: Int32 = 0
        try LMDBError.check(mdb_reader_check(env, &dead), "mdb_reader_check")
        return Int(dead)
    }

    /// Closes the environment (idempotent; `deinit` closes too). Database
    /// handles become invalid and later calls throw. Waits for transactions of
    /// other threads to end; called from inside a transaction closure, the
    /// close happens when that transaction ends.
    public func close() {
        monitor.lock()
        defer { monitor.unlock() }
        guard env != nil else { return }
        closing = true
        monitor.broadcast()  // wake threads waiting to begin: they will throw
        if (activeByThread[currentThreadID()] ?? 0) > 0 { return }  // deferred to endUse
        while active > 0 && env != nil { monitor.wait() }
        if env != nil { closeNow() }
    }

    /// Must hold `monitor`, with no active transaction.
    private func closeNow() {
        guard let e = env else { return }
        env = nil
        mdb_env_close(e)
        OpenRegistry.shared.release(registryKey)
    }
}
