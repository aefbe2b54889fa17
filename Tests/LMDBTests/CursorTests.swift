import Foundation
import XCTest
@testable import LMDB

final class CursorTests: XCTestCase {
    func testAppendRequiresIncreasingKeys() throws {
        let env = try Environment(path: try makeTempDirectory(self), maxDatabases: 4, mapSize: 1 << 20)
        let db = try env.openDatabase("entries", flags: .create)
        try env.write { txn in
            for i in [1, 2, 5] as [UInt64] { try txn.put(db, key: beKey(i), value: bytes("v\(i)"), flags: .append) }
        }
        // out of order through the transaction
        let e1 = assertLMDBError(try env.write { try $0.put(db, key: beKey(3), value: bytes("late"), flags: .append) })
        XCTAssertEqual(e1?.isKeyExists, true)
        XCTAssertEqual(e1?.operation, "mdb_put")
        // equal key is out of order too
        let dup = assertLMDBError(try env.write { try $0.put(db, key: beKey(5), value: bytes("dup"), flags: .append) })
        XCTAssertEqual(dup?.isKeyExists, true)
        // out of order through a cursor (the fast path)
        let e2 = assertLMDBError(try env.write { txn in
            let c = try txn.cursor(db)
            try c.put(key: beKey(6), value: bytes("v6"), flags: .append)
            try c.put(key: beKey(4), value: bytes("v4"), flags: .append)
        })
        XCTAssertEqual(e2?.isKeyExists, true)
        XCTAssertEqual(e2?.operation, "mdb_cursor_put")
        // the failed transactions left nothing behind
        let keys = try env.read { txn -> [[UInt8]] in
            let c = try txn.cursor(db)
            var out: [[UInt8]] = []
            var p = try c.first()
            while let pair = p { out.append(pair.key.array); p = try c.next() }
            return out
        }
        XCTAssertEqual(keys, [beKey(1), beKey(2), beKey(5)])
        // a cursor in a read transaction cannot write
        let ro = assertLMDBError(try env.read {
            try $0.cursor(db).put(key: beKey(9), value: bytes("x"), flags: .append)
        })
        XCTAssertEqual(ro?.code, EACCES)
    }

    func testDupSortAndDupFixedIteration() throws {
        let env = try Environment(path: try makeTempDirectory(self), maxDatabases: 4, mapSize: 1 << 20)
        let tags = try env.openDatabase("matters", flags: [.create, .dupSort])
        let fixed = try env.openDatabase("seqs", flags: [.create, .dupSort, .dupFixed])
        try env.write { txn in
            for v in ["c", "a", "b"] { try txn.put(tags, key: bytes("m1"), value: bytes(v)) }
            try txn.put(tags, key: bytes("m2"), value: bytes("z"))
            // same pair again: allowed silently, refused with noDupData
            try txn.put(tags, key: bytes("m1"), value: bytes("a"))
            XCTAssertEqual(assertLMDBError(try txn.put(tags, key: bytes("m1"), value: bytes("a"),
                                                       flags: .noDupData))?.isKeyExists, true)
            for s in [30, 10, 20] as [UInt64] { try txn.put(fixed, key: bytes("m1"), value: beKey(s)) }
            try txn.put(fixed, key: bytes("m1"), value: beKey(40), flags: .appendDup)
            XCTAssertEqual(assertLMDBError(try txn.put(fixed, key: bytes("m1"), value: beKey(5),
                                                       flags: .appendDup))?.isKeyExists, true)
        }
        try env.read { txn in
            XCTAssertEqual(try txn.count(tags), 4)
            let c = try txn.cursor(tags)
            let first = try XCTUnwrap(try c.seek(exactly: bytes("m1")))
            XCTAssertEqual(first.value.string, "a")
            XCTAssertEqual(try c.duplicateCount(), 3)
            var values = [first.value.string]
            while let p = try c.nextDuplicate() { values.append(p.value.string) }
            XCTAssertEqual(values, ["a", "b", "c"])
            XCTAssertEqual(try c.nextKey()?.key.string, "m2")
            XCTAssertNil(try c.nextKey())

            let f = try txn.cursor(fixed)
            var seqs: [[UInt8]] = []
            var p = try f.seek(exactly: bytes("m1"))
            while let pair = p { seqs.append(pair.value.array); p = try f.nextDuplicate() }
            XCTAssertEqual(seqs, [10, 20, 30, 40].map { beKey($0) })
            XCTAssertEqual(try f.seek(key: bytes("m1"), valueAtLeast: beKey(15))?.value.array, beKey(20))
            // The key is a view into the map, not into the caller's array (freed once the call returns).
            let probe = bytes("m1")
            let both = try XCTUnwrap(try f.seek(key: probe, valueAtLeast: beKey(15)))
            probe.withUnsafeBytes { XCTAssertNotEqual(both.key.baseAddress, $0.baseAddress) }
            XCTAssertEqual(both.key.string, "m1")
            XCTAssertNil(try f.seek(key: probe, valueAtLeast: beKey(41)))
            XCTAssertNil(try f.seek(exactly: bytes("m9")))
        }
        // many duplicates: sub-databases (with fixed-size leaf pages for dupFixed)
        try env.write { txn in
            for s in 0..<3_000 as Range<UInt64> {
                try txn.put(fixed, key: bytes("big"), value: beKey(s))
                try txn.put(tags, key: bytes("big"), value: bytes("value-\(s)"))
            }
        }
        try env.read { txn in
            let f = try txn.cursor(fixed)
            _ = try f.seek(exactly: bytes("big"))
            XCTAssertEqual(try f.duplicateCount(), 3_000)
            var n = 1
            while try f.nextDuplicate() != nil { n += 1 }
            XCTAssertEqual(n, 3_000)
        }
        // the deep structure check understands all these page kinds
        XCTAssertGreaterThan(try env.checkStructure(), 10)
        // delete one duplicate, then all
        try env.write { txn in
            XCTAssertTrue(try txn.delete(tags, key: bytes("m1"), value: bytes("b")))
            XCTAssertFalse(try txn.delete(tags, key: bytes("m1"), value: bytes("b")))
        }
        XCTAssertEqual(try env.read { try $0.count(tags) }, 3_003)
        try env.write { txn in XCTAssertTrue(try txn.delete(tags, key: bytes("m1"))) }
        XCTAssertEqual(try env.read { try $0.count(tags) }, 3_001)
    }

    func testRangeScanAndNavigation() throws {
        let env = try Environment(path: try makeTempDirectory(self), maxDatabases: 4, mapSize: 1 << 20)
        let db = try env.openDatabase("tree", flags: .create)
        try env.write { txn in
            for i in stride(from: 0, to: 100, by: 2) as StrideTo<UInt64> {  // even keys 0...98
                try txn.put(db, key: beKey(i), value: beKey(i * 10))
            }
        }
        try env.read { txn in
            let c = try txn.cursor(db)
            // [31, 41): first key >= 31 is 32
            var got: [UInt64] = []
            var p = try c.seek(atLeast: beKey(31))
            while let pair = p, pair.key.array.lexicographicallyPrecedes(beKey(41)) {
                got.append(UInt64(bigEndian: pair.key.loadUnaligned(as: UInt64.self)))
                XCTAssertEqual(pair.value.array, beKey(got.last! * 10))
                p = try c.next()
            }
            XCTAssertEqual(got, [32, 34, 36, 38, 40])
            XCTAssertEqual(try c.current()?.key.array, beKey(42))
            XCTAssertEqual(try c.previous()?.key.array, beKey(40))
            XCTAssertEqual(try c.first()?.key.array, beKey(0))
            XCTAssertNil(try c.previous())
            XCTAssertEqual(try c.last()?.key.array, beKey(98))
            XCTAssertNil(try c.next())
            XCTAssertNil(try c.seek(atLeast: beKey(99)))
            XCTAssertNil(try c.seek(exactly: beKey(31)))
            XCTAssertEqual(try c.seek(exactly: beKey(30))?.value.array, beKey(300))
            // reverse scan
            var reversed: [UInt64] = []
            p = try c.last()
            while let pair = p {
                reversed.append(UInt64(bigEndian: pair.key.loadUnaligned(as: UInt64.self)))
                p = try c.previous()
            }
            XCTAssertEqual(reversed, Array(stride(from: 98, through: 0, by: -2)))
            c.close()
            XCTAssertNotNil(assertLMDBError(try c.first()))
            // many cursors in one transaction; released ones close themselves
            for _ in 0..<1_000 { _ = try txn.cursor(db).first() }
            XCTAssertLessThanOrEqual(txn.cursors.count, 1)
        }
        // cursor deletes in a write transaction
        try env.write { txn in
            let c = try txn.cursor(db)
            _ = try c.seek(exactly: beKey(50))
            try c.delete()
        }
        XCTAssertNil(try env.read { try $0.get(db, key: beKey(50)) })
        XCTAssertEqual(try env.read { try $0.count(db) }, 49)
    }
}
