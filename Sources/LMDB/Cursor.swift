import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cursor over one database, inside one transaction.
///
/// Positioning methods return the key/value pair at the new position, or nil
/// when there is none (end of database, key absent). The buffers are
/// zero-copy views into the map, valid only inside the transaction. A cursor
/// is closed when its transaction ends, when it is released, or by `close()`;
/// any use after that throws.
public final class Cursor {
    public typealias Pair = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    var cursor: OpaquePointer?
    /// Strong: keeps the transaction object alive while the cursor exists.
    let transaction: ReadTransaction
    /// Index in `transaction.cursors`, -1 once forgotten.
    var slot = -1

    init(_ cursor: OpaquePointer, transaction: ReadTransaction) {
        self.cursor = cursor
        self.transaction = transaction
    }

    deinit { close() }

    /// Called by the transaction when it ends: closes the C cursor without touching the list.
    func invalidate() {
        if let c = cursor {
            cursor = nil
            mdb_cursor_close(c)
        }
        slot = -1
    }

    /// Closes the cursor (idempotent).
    public func close() {
        guard cursor != nil else { return }
        transaction.forget(self)
        invalidate()
    }

    @inline(__always)
    private func handle(_ operation: String) throws -> OpaquePointer {
        guard let c = cursor, transaction.txn != nil else { throw LMDBError.cursorClosed(operation) }
        return c
    }

    @inline(__always)
    private func get(_ op: MDB_cursor_op, _ k: inout MDB_val, _ v: inout MDB_val) throws -> Pair? {
        let c = try handle("mdb_cursor_get")
        let rc = mdb_cursor_get(c, &k, &v, op)
        if rc == 0 {
            return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                    UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        }
        if rc == MDB_NOTFOUND { return nil }
        throw LMDBError(code: rc, operation: "mdb_cursor_get")
    }

    @inline(__always)
    private func move(_ op: MDB_cursor_op) throws -> Pair? {
        var k = MDB_val(mv_size: 0, mv_data: nil)
        var v = MDB_val(mv_size: 0, mv_data: nil)
        return try get(op, &k, &v)
    }

    public func first() throws -> Pair? { try move(MDB_FIRST) }
    public func last() throws -> Pair? { try move(MDB_LAST) }
    public func next() throws -> Pair? { try move(MDB_NEXT) }
    public func previous() throws -> Pair? { try move(MDB_PREV) }
    /// The pair at the current position (`MDB_GET_CURRENT`).
    public func current() throws -> Pair? { try move(MDB_GET_CURRENT) }
    /// `MDB_NEXT_DUP`: the next value of the current key (dupSort), nil after the last.
    public func nextDuplicate() throws -> Pair? { try move(MDB_NEXT_DUP) }
    /// `MDB_NEXT_NODUP`: the first value of the next key.
    public func nextKey() throws -> Pair? { try move(MDB_NEXT_NODUP) }
    /// `MDB_FIRST_DUP`: the first value of the current key.
    public func firstDuplicate() throws -> Pair? { try move(MDB_FIRST_DUP) }
    /// `MDB_LAST_DUP`: the last value of the current key.
    public func lastDuplicate() throws -> Pair? { try move(MDB_LAST_DUP) }

    /// `MDB_SET_RANGE`: the first pair whose key is >= `key`.
    public func seek(atLeast key: UnsafeRawBufferPointer) throws -> Pair? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: 0, mv_data: nil)
        return try get(MDB_SET_RANGE, &k, &v)
    }

    public func seek(atLeast key: [UInt8]) throws -> Pair? {
        try key.withUnsafeBytes { try seek(atLeast: $0) }
    }

    /// `MDB_SET_KEY`: the (first) pair whose key is exactly `key`.
    public func seek(exactly key: UnsafeRawBufferPointer) throws -> Pair? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: 0, mv_data: nil)
        return try get(MDB_SET_KEY, &k, &v)
    }

    public func seek(exactly key: [UInt8]) throws -> Pair? {
        try key.withUnsafeBytes { try seek(exactly: $0) }
    }

    /// `MDB_GET_BOTH_RANGE` (dupSort): key exactly `key`, first value >= `value`.
    public func seek(key: [UInt8], valueAtLeast value: [UInt8]) throws -> Pair? {
        let found = try key.withUnsafeBytes { kb in
            try value.withUnsafeBytes { vb in
                var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
                var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                return try get(MDB_GET_BOTH_RANGE, &k, &v) != nil
            }
        }
        // LMDB sets only the value here: the key it returns is the caller's buffer, gone after the closure above.
        // Read the pair back so that both are views into the map, like every other positioning method's.
        return found ? try current() : nil
    }

    /// Number of values of the current key (`mdb_cursor_count`; dupSort databases).
    public func duplicateCount() throws -> Int {
        let c = try handle("mdb_cursor_count")
        var n: Int = 0
        try LMDBError.check(mdb_cursor_count(c, &n), "mdb_cursor_count")
        return n
    }

    /// `mdb_cursor_put`. Only in write transactions (throws `EACCES` otherwise).
    /// With `.append` this is the fast path for bulk loading sorted keys.
    @inline(__always)
    public func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: PutFlags = []) throws {
        let c = try handle("mdb_cursor_put")
        guard transaction.isWritable else {
            throw LMDBError(code: EACCES, message: "cursor belongs to a read-only transaction",
                            operation: "mdb_cursor_put")
        }
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try transaction.check(mdb_cursor_put(c, &k, &v, flags.rawValue), "mdb_cursor_put")
    }

    @inline(__always)
    public func put(key: [UInt8], value: [UInt8], flags: PutFlags = []) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in try put(key: k, value: v, flags: flags) }
        }
    }

    /// Deletes the pair at the current position (`mdb_cursor_del`); with
    /// `allDuplicates`, every value of the current key. Write transactions only.
    public func delete(allDuplicates: Bool = false) throws {
        let c = try handle("mdb_cursor_del")
        guard transaction.isWritable else {
            throw LMDBError(code: EACCES, message: "cursor belongs to a read-only transaction",
                            operation: "mdb_cursor_del")
        }
        try transaction.check(mdb_cursor_del(c, allDuplicates ? UInt32(MDB_NODUPDATA) : 0), "mdb_cursor_del")
    }
}
