import CLMDB

/// A read transaction: a consistent snapshot of the environment.
///
/// Only valid inside the `Environment.read`/`write` closure that received it;
/// any use afterwards throws `MDB_BAD_TXN`. Every `UnsafeRawBufferPointer`
/// returned by `get` or a cursor points straight into the memory map
/// (zero-copy) and is valid only until the transaction ends (for a write
/// transaction: until the next write to that database); copy the bytes out
/// if you need them later. Not thread-safe: use a transaction on one thread
/// at a time.
public class ReadTransaction {
    /// The C transaction; nil once it has been committed or aborted.
    var txn: OpaquePointer?
    /// Open cursors (unowned: a cursor removes itself when it closes or deinits).
    var cursors: [Unmanaged<Cursor>] = []
    /// Set when any operation of this transaction reported `MDB_MAP_FULL`.
    var sawMapFull = false

    init(_ txn: OpaquePointer) {
        self.txn = txn
    }

    deinit {
        // Normally already ended by the Environment; never leak a txn.
        if txn != nil { _ = finish(commit: false) }
    }

    var isWritable: Bool { false }

    /// Closes every cursor, then commits or aborts. Returns the commit result code.
    func finish(commit: Bool) -> Int32 {
        for c in cursors { c.takeUnretainedValue().invalidate() }
        cursors.removeAll(keepingCapacity: false)
        guard let t = txn else { return 0 }
        txn = nil
        if commit { return mdb_txn_commit(t) }
        mdb_txn_abort(t)
        return 0
    }

    @inline(__always)
    func handle(_ operation: String) throws -> OpaquePointer {
        guard let t = txn else { throw LMDBError.transactionEnded(operation) }
        return t
    }

    /// Throws for `rc != 0`, remembering `MDB_MAP_FULL` so `write` can grow and retry.
    @inline(__always)
    func check(_ rc: Int32, _ operation: String) throws {
        if rc != 0 {
            if rc == MDB_MAP_FULL { sawMapFull = true }
            throw LMDBError(code: rc, operation: operation)
        }
    }

    /// The value stored under `key`, or nil. Zero-copy: valid only inside this transaction.
    @inline(__always)
    public func get(_ db: Database, key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        let t = try handle("mdb_get")
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: 0, mv_data: nil)
        let rc = mdb_get(t, db.dbi, &k, &v)
        if rc == 0 { return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size) }
        if rc == MDB_NOTFOUND { return nil }
        throw LMDBError(code: rc, operation: "mdb_get")
    }

    /// The value stored under `key`, or nil. Zero-copy: valid only inside this transaction.
    @inline(__always)
    public func get(_ db: Database, key: [UInt8]) throws -> UnsafeRawBufferPointer? {
        try key.withUnsafeBytes { try get(db, key: $0) }
    }

    /// A cursor over `db`. It is closed automatically when the transaction
    /// ends (or when the cursor is released); call `close()` early if you open
    /// many cursors in one transaction.
    public func cursor(_ db: Database) throws -> Cursor {
        let t = try handle("mdb_cursor_open")
        var c: OpaquePointer?
        try check(mdb_cursor_open(t, db.dbi, &c), "mdb_cursor_open")
        let cursor = Cursor(c!, transaction: self)
        cursor.slot = cursors.count
        cursors.append(Unmanaged.passUnretained(cursor))
        return cursor
    }

    /// Removes a closing cursor from the open list (swap-remove, O(1)).
    func forget(_ cursor: Cursor) {
        let i = cursor.slot
        guard i >= 0, i < cursors.count, cursors[i].toOpaque() == Unmanaged.passUnretained(cursor).toOpaque() else {
            return
        }
        let last = cursors.removeLast()
        if i < cursors.count {
            cursors[i] = last
            last.takeUnretainedValue().slot = i
        }
        cursor.slot = -1
    }

    /// Number of entries (key/value pairs, counting duplicates) in `db`.
    public func count(_ db: Database) throws -> Int {
        try stat(db).entries
    }

    /// `mdb_stat` of `db` as seen by this transaction.
    public func stat(_ db: Database) throws -> DatabaseStat {
        let t = try handle("mdb_stat")
        var s = MDB_stat()
        try check(mdb_stat(t, db.dbi, &s), "mdb_stat")
        return DatabaseStat(s)
    }
}

/// A write transaction. Begun and committed on the calling thread, inside
/// `Environment.write`; only one is active per environment at a time (across
/// all processes). Same validity rules as `ReadTransaction`.
public final class WriteTransaction: ReadTransaction {
    override var isWritable: Bool { true }

    @inline(__always)
    public func put(_ db: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
                    flags: PutFlags = []) throws {
        let t = try handle("mdb_put")
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(t, db.dbi, &k, &v, flags.rawValue), "mdb_put")
    }

    @inline(__always)
    public func put(_ db: Database, key: [UInt8], value: [UInt8], flags: PutFlags = []) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in try put(db, key: k, value: v, flags: flags) }
        }
    }

    /// `MDB_RESERVE`: stores `key` with `count` bytes of uninitialised value
    /// and returns that space, to fill before the transaction ends (or before
    /// the next write to `db`). Zero-copy. Not allowed in `dupSort` databases.
    @inline(__always)
    public func reserve(_ db: Database, key: UnsafeRawBufferPointer, count: Int,
                        flags: PutFlags = []) throws -> UnsafeMutableRawBufferPointer {
        let t = try handle("mdb_put")
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: count, mv_data: nil)
        try check(mdb_put(t, db.dbi, &k, &v, flags.rawValue | UInt32(MDB_RESERVE)), "mdb_put")
        return UnsafeMutableRawBufferPointer(start: v.mv_data, count: count)
    }

    /// `reserve` with an array key.
    public func reserve(_ db: Database, key: [UInt8], count: Int,
                        flags: PutFlags = []) throws -> UnsafeMutableRawBufferPointer {
        try key.withUnsafeBytes { try reserve(db, key: $0, count: count, flags: flags) }
    }

    /// Deletes `key` (all its values), or only the pair `key`/`value` in a
    /// `dupSort` database. Returns false when there was nothing to delete.
    @discardableResult
    public func delete(_ db: Database, key: UnsafeRawBufferPointer,
                       value: UnsafeRawBufferPointer? = nil) throws -> Bool {
        let t = try handle("mdb_del")
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc: Int32
        if let value {
            var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            rc = mdb_del(t, db.dbi, &k, &v)
        } else {
            rc = mdb_del(t, db.dbi, &k, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del")
        return true
    }

    @discardableResult
    public func delete(_ db: Database, key: [UInt8], value: [UInt8]? = nil) throws -> Bool {
        try key.withUnsafeBytes { k in
            if let value {
                return try value.withUnsafeBytes { v in try delete(db, key: k, value: v) }
            }
            return try delete(db, key: k, value: nil)
        }
    }

    /// Empties `db` (`mdb_drop` with del = 0); the handle stays valid.
    public func drop(_ db: Database) throws {
        let t = try handle("mdb_drop")
        try check(mdb_drop(t, db.dbi, 0), "mdb_drop")
    }
}
