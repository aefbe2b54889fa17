import Foundation
import XCTest
@testable import LMDB

final class TransactionTests: XCTestCase {
    private func open(_ dir: String, mapSize: Int = 1 << 20, flags: EnvironmentFlags = []) throws -> Environment {
        try Environment(path: dir, maxDatabases: 8, mapSize: mapSize, flags: flags)
    }

    func testPutGetRoundTrip() throws {
        let env = try open(try makeTempDirectory(self))
        defer { env.close() }
        let db = try env.openDatabase("kv", flags: .create)
        try env.write { txn in
            try txn.put(db, key: bytes("alpha"), value: bytes("one"))
            try txn.put(db, key: bytes("beta"), value: [])  // empty values are allowed
            let big = [UInt8](repeating: 0xAB, count: 100_000)  // overflow pages
            try txn.put(db, key: bytes("big"), value: big)
            // visible inside the same write transaction
            XCTAssertEqual(try txn.get(db, key: bytes("alpha"))?.string, "one")
        }
        try env.read { txn in
            XCTAssertEqual(try txn.get(db, key: bytes("alpha"))?.string, "one")
            XCTAssertEqual(try txn.get(db, key: bytes("beta"))?.count, 0)
            let big = try XCTUnwrap(try txn.get(db, key: bytes("big")))
            XCTAssertEqual(big.count, 100_000)
            XCTAssertTrue(big.allSatisfy { $0 == 0xAB })
            XCTAssertNil(try txn.get(db, key: bytes("gamma")))
            XCTAssertEqual(try txn.count(db), 3)
            // raw-buffer key overload
            let k = bytes("alpha")
            let v = try k.withUnsafeBytes { try txn.get(db, key: $0) }
            XCTAssertEqual(v?.string, "one")
        }
        // overwrite, noOverwrite, delete
        try env.write { txn in
            try txn.put(db, key: bytes("alpha"), value: bytes("uno"))
            let e = assertLMDBError(try txn.put(db, key: bytes("alpha"), value: bytes("x"), flags: .noOverwrite))
            XCTAssertEqual(e?.isKeyExists, true)
            XCTAssertTrue(try txn.delete(db, key: bytes("beta")))
            XCTAssertFalse(try txn.delete(db, key: bytes("beta")))
        }
        try env.read { txn in
            XCTAssertEqual(try txn.get(db, key: bytes("alpha"))?.string, "uno")
            XCTAssertNil(try txn.get(db, key: bytes("beta")))
        }
        let stat = try env.stat(db)
        XCTAssertEqual(stat.entries, 2)
        XCTAssertGreaterThanOrEqual(stat.depth, 1)
        XCTAssertGreaterThan(stat.pages, 1)  // includes the overflow pages of "big"
        XCTAssertEqual(stat.pageSize, 4096)
        // the write closure returns its value
        let n = try env.write { txn -> Int in try txn.count(db) }
        XCTAssertEqual(n, 2)
    }

    func testAbortOnThrowLeavesNothing() throws {
        struct Boom: Error {}
        let env = try open(try makeTempDirectory(self))
        let db = try env.openDatabase("kv", flags: .create)
        try env.write { try $0.put(db, key: bytes("keep"), value: bytes("1")) }
        XCTAssertThrowsError(try env.write { txn in
            try txn.put(db, key: bytes("lost"), value: bytes("2"))
            try txn.put(db, key: bytes("keep"), value: bytes("changed"))
            _ = try txn.delete(db, key: bytes("keep"))
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        try env.read { txn in
            XCTAssertNil(try txn.get(db, key: bytes("lost")))
            XCTAssertEqual(try txn.get(db, key: bytes("keep"))?.string, "1")
            XCTAssertEqual(try txn.count(db), 1)
        }
        // drop empties the database but keeps the handle
        try env.write { try $0.drop(db) }
        XCTAssertEqual(try env.read { try $0.count(db) }, 0)
        try env.write { try $0.put(db, key: bytes("again"), value: bytes("3")) }
        XCTAssertEqual(try env.read { try $0.count(db) }, 1)
    }

    func testReserveIsZeroCopyWriteSpace() throws {
        let env = try open(try makeTempDirectory(self))
        let db = try env.openDatabase("kv", flags: .create)
        try env.write { txn in
            let key = bytes("reserved")
            let space = try key.withUnsafeBytes { try txn.reserve(db, key: $0, count: 16) }
            XCTAssertEqual(space.count, 16)
            for i in 0..<16 { space[i] = UInt8(i) }
        }
        try env.read { txn in
            XCTAssertEqual(try txn.get(db, key: bytes("reserved"))?.array, Array(0..<16))
        }
    }

    func testTransactionAndCursorUnusableAfterClosure() throws {
        let env = try open(try makeTempDirectory(self))
        let db = try env.openDatabase("kv", flags: .create)
        try env.write { try $0.put(db, key: bytes("a"), value: bytes("1")) }
        var escapedTxn: ReadTransaction?
        var escapedCursor: Cursor?
        try env.read { txn in
            escapedTxn = txn
            escapedCursor = try txn.cursor(db)
            XCTAssertNotNil(try escapedCursor?.first())
        }
        let e1 = assertLMDBError(try escapedTxn!.get(db, key: bytes("a")))
        XCTAssertEqual(e1?.code, LMDBError.Code.badTransaction)
        let e2 = assertLMDBError(try escapedCursor!.next())
        XCTAssertEqual(e2?.operation, "mdb_cursor_get")
        escapedCursor?.close()  // idempotent, no crash
        escapedCursor?.close()
    }

    func testErrorsCarryCodeMessageAndOperation() throws {
        let env = try open(try makeTempDirectory(self))
        // missing named database without .create
        let missing = assertLMDBError(try env.openDatabase("nope"))
        XCTAssertEqual(missing?.code, LMDBError.Code.notFound)
        XCTAssertEqual(missing?.isNotFound, true)
        XCTAssertEqual(missing?.operation, "mdb_dbi_open")
        XCTAssertEqual(missing?.message.contains("MDB_NOTFOUND"), true)

        let db = try env.openDatabase("kv", flags: .create)
        let empty = assertLMDBError(try env.write { try $0.put(db, key: [], value: bytes("v")) })
        XCTAssertEqual(empty?.code, LMDBError.Code.badValueSize)
        XCTAssertEqual(empty?.operation, "mdb_put")
        XCTAssertEqual(empty?.description.contains("mdb_put failed"), true)

        let tooLong = [UInt8](repeating: 1, count: env.maxKeySize + 1)
        let long = assertLMDBError(try env.write { try $0.put(db, key: tooLong, value: bytes("v")) })
        XCTAssertEqual(long?.code, LMDBError.Code.badValueSize)

        // write inside a transaction of the same thread would deadlock LMDB: refused
        let nested = assertLMDBError(try env.read { _ in try env.write { _ in } })
        XCTAssertEqual(nested?.code, EDEADLK)
        let nested2 = assertLMDBError(try env.write { _ in try env.write { _ in } })
        XCTAssertEqual(nested2?.code, EDEADLK)
        // a read nested in a write is fine
        try env.write { txn in
            try txn.put(db, key: bytes("k"), value: bytes("v"))
            XCTAssertNil(try env.read { try $0.get(db, key: bytes("k")) })  // older snapshot
        }
        XCTAssertEqual(LMDBError(code: LMDBError.Code.mapFull, operation: "x").isMapFull, true)
    }

    func testReadOnlyOpenOfExistingEnvironment() throws {
        let dir = try makeTempDirectory(self)
        do {
            let env = try open(dir)
            let db = try env.openDatabase("kv", flags: .create)
            try env.write { try $0.put(db, key: bytes("a"), value: bytes("1")) }
            env.close()
            env.close()  // idempotent
            XCTAssertThrowsError(try env.read { _ in })
        }
        let ro = try open(dir, flags: .readOnly)
        defer { ro.close() }
        let db = try ro.openDatabase("kv")
        XCTAssertEqual(try ro.read { try $0.get(db, key: bytes("a"))?.string }, "1")
        let denied = assertLMDBError(try ro.write { try $0.put(db, key: bytes("b"), value: bytes("2")) })
        XCTAssertEqual(denied?.code, EACCES)
        XCTAssertEqual(denied?.operation, "mdb_txn_begin")
        XCTAssertNotNil(assertLMDBError(try ro.openDatabase("other", flags: .create)))
        // read-only open of a directory with no environment
        let emptyDir = try siblingDirectory(of: dir, "empty")
        XCTAssertEqual(assertLMDBError(try open(emptyDir, flags: .readOnly))?.code, ENOENT)
    }

    func testMapGrowsOnMapFullAndClosureIsRerun() throws {
        let env = try open(try makeTempDirectory(self), mapSize: 64 << 10)
        let db = try env.openDatabase("blobs", flags: .create)
        let before = env.mapSize
        XCTAssertEqual(before, 64 << 10)
        var runs = 0
        let chunk = [UInt8](repeating: 0x5A, count: 10_000)
        try env.write { txn in
            runs += 1
            for i in 0..<1_000 {  // 10 MB in one transaction
                try txn.put(db, key: beKey(UInt64(i)), value: chunk)
            }
        }
        XCTAssertGreaterThan(runs, 1, "closure must have been re-run after growing")
        XCTAssertGreaterThanOrEqual(env.mapSize, 10_000_000)
        XCTAssertGreaterThan(env.mapSize, before)
        try env.read { txn in
            XCTAssertEqual(try txn.count(db), 1_000)
            XCTAssertEqual(try txn.get(db, key: beKey(999))?.count, 10_000)
        }
        // a closure that swallows MAP_FULL still gets a grown map and a clean rerun
        var sawMapFull = false
        var attempts = 0
        try env.write { txn in
            attempts += 1
            do {
                for i in 0..<2_000 { try txn.put(db, key: beKey(UInt64(10_000 + i)), value: chunk) }
            } catch let e as LMDBError where e.isMapFull {
                sawMapFull = true
            }
        }
        XCTAssertTrue(sawMapFull)
        XCTAssertGreaterThan(attempts, 1)
        XCTAssertEqual(try env.read { try $0.count(db) }, 3_000)
        XCTAssertGreaterThan(try env.checkStructure(), 3_000)  // one overflow run per value + tree pages
    }

    func testOneEnvironmentPerProcessSharedAcrossThreads() throws {
        let dir = try makeTempDirectory(self)
        let env = try open(dir, mapSize: 256 << 10)
        // LMDB forbids a second handle on the same environment in one process.
        let second = assertLMDBError(try Environment(path: dir, maxDatabases: 8, mapSize: 1 << 20))
        XCTAssertEqual(second?.code, EBUSY)
        // ... also through another spelling of the path
        let dotted = assertLMDBError(try Environment(path: dir + "/.", maxDatabases: 8, mapSize: 1 << 20))
        XCTAssertEqual(dotted?.code, EBUSY)

        // The engine pattern: one Environment shared by all threads.
        let db = try env.openDatabase("seq", flags: .create)
        let writers = 4, perWriter = 50
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: writers * 2) { worker in
            do {
                if worker < writers {
                    for i in 0..<perWriter {
                        try env.write { txn in
                            // enough data that the 256 KiB map must grow under concurrency
                            try txn.put(db, key: beKey(UInt64(worker * 100_000 + i)),
                                        value: [UInt8](repeating: UInt8(worker), count: 2_000))
                        }
                    }
                } else {
                    for _ in 0..<200 {
                        try env.read { txn in
                            let c = try txn.cursor(db)
                            var last: [UInt8]?
                            while let pair = try (last == nil ? c.first() : c.next()) {
                                if let l = last { if !l.lexicographicallyPrecedes(pair.key.array) { failures.add() } }
                                last = pair.key.array
                            }
                        }
                    }
                }
            } catch {
                failures.add()
            }
        }
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(try env.read { try $0.count(db) }, writers * perWriter)
        XCTAssertGreaterThan(env.mapSize, 256 << 10)
        env.close()
        // once closed, the path may be opened again
        let again = try open(dir)
        let reopened = try again.openDatabase("seq")
        XCTAssertEqual(try again.read { try $0.count(reopened) }, writers * perWriter)
        // openDatabase inside a transaction closure is refused (it runs its own txn)
        XCTAssertEqual(assertLMDBError(try again.read { _ in try again.openDatabase("seq") })?.code, EDEADLK)
    }

    func testSanityBulkAppendAndScan() throws {
        // Not a benchmark: no timing assertions, just the hot path at volume.
        let env = try open(try makeTempDirectory(self), mapSize: 1 << 20, flags: [])
        let db = try env.openDatabase("entries", flags: [.create, .integerKey])
        let n = 100_000
        var value = [UInt8](repeating: 0, count: 64)
        try env.write { txn in
            let c = try txn.cursor(db)
            for i in 0..<n {
                var key = UInt64(i)
                value[0] = UInt8(truncatingIfNeeded: i)
                try withUnsafeBytes(of: &key) { k in
                    try value.withUnsafeBytes { v in try c.put(key: k, value: v, flags: .append) }
                }
            }
        }
        var seen = 0
        var sum = 0
        try env.read { txn in
            let c = try txn.cursor(db)
            var pair = try c.first()
            while let p = pair {
                XCTAssertEqual(p.key.load(as: UInt64.self), UInt64(seen))
                sum &+= Int(p.value[0])
                seen += 1
                pair = try c.next()
            }
        }
        XCTAssertEqual(seen, n)
        XCTAssertEqual(sum, (0..<n).reduce(0) { $0 + ($1 & 0xFF) })
        try env.sync(force: true)
        XCTAssertEqual(try env.clearStaleReaders(), 0)
        XCTAssertGreaterThan(try env.checkStructure(), 1_000)
    }
}

// `@unchecked Sendable`: `count` is read and written only while holding `lock`.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

