import Foundation
import XCTest
@testable import LMDB

/// `DatabaseScan` reads what a cursor reads, with pread, and turns damage into errors.
final class DatabaseScanTests: XCTestCase {
    private struct Row: Equatable {
        var key: [UInt8]
        var value: [UInt8]
    }

    /// Every row of `scan`, copied, read `limit` rows at a time.
    private func allRows(_ scan: DatabaseScan, limit: Int = 100) throws -> [Row] {
        var rows = [Row]()
        let batch = RowBatch()
        while true {
            batch.removeAll()
            let count = try scan.next(limit, into: batch)
            XCTAssertEqual(count, batch.rows.count)
            if count == 0 { return rows }
            XCTAssertLessThanOrEqual(count, limit)
            rows += batch.rows.map { Row(key: Array($0.key), value: Array($0.value)) }
        }
    }

    private func cursorRows(_ txn: ReadTransaction, _ db: Database) throws -> [Row] {
        var rows = [Row]()
        let cursor = try txn.cursor(db)
        var pair = try cursor.first()
        while let row = pair {
            rows.append(Row(key: Array(row.key), value: Array(row.value)))
            pair = try cursor.next()
        }
        return rows
    }

    func testScanReadsWhatACursorReads() throws {
        let dir = try makeTempDirectory(self)
        let env = try Environment(path: dir, maxDatabases: 8, mapSize: 64 << 20)
        let small = try env.openDatabase("small", flags: .create)
        let mixed = try env.openDatabase("mixed", flags: .create)
        _ = try env.openDatabase("empty", flags: .create)  // never written: scanned below by name
        let dups = try env.openDatabase("dups", flags: [.create, .dupSort])
        let ints = try env.openDatabase("ints", flags: [.create, .integerKey])
        var rng = SystemRandomNumberGenerator()
        try env.write { txn in
            for i in 0..<20_000 { try txn.put(small, key: beKey(UInt64(i)), value: beKey(UInt64(i * 7))) }
            // inline values, values just over a page, and values of several overflow pages; keys of varied length
            for i in 0..<600 {
                let size = [0, 1, 100, 1_500, 2_100, 4_100, 9_000][i % 7]
                let key = Array("key-\(i * 7919 % 600)".utf8)
                try txn.put(mixed, key: key, value: (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
            try txn.put(dups, key: [1], value: [2])
            try txn.put(ints, key: withUnsafeBytes(of: UInt64(5)) { Array($0) }, value: [3])
        }
        try env.read { txn in
            let scans = try txn.scanCheckingStructure(of: ["small", "mixed", "empty"])
            XCTAssertEqual(try allRows(scans[0], limit: 1_000), try cursorRows(txn, small))
            XCTAssertEqual(try allRows(scans[1], limit: 7), try cursorRows(txn, mixed))
            XCTAssertEqual(try allRows(scans[2]).count, 0)
            XCTAssertEqual(try allRows(scans[0]).count, 0, "a finished scan stays finished")
            XCTAssertGreaterThan(scans[0].pagesChecked, 20_000 * 16 / 4096)
            // duplicates and other key orders are a cursor's job, and a name must be a database
            XCTAssertThrowsError(try allRows(try txn.scanCheckingStructure(of: ["dups"])[0]))
            XCTAssertThrowsError(try allRows(try txn.scanCheckingStructure(of: ["ints"])[0]))
            XCTAssertEqual(assertLMDBError(try txn.scanCheckingStructure(of: ["nope"]))?.code, LMDBError.Code.notFound)
        }
    }

    private func patch(_ data: String, at offset: Int, _ bytes: [UInt8]) throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: data))
        try handle.seek(toOffset: UInt64(offset))
        handle.write(Data(bytes))
        try handle.close()
    }

    /// Scans "kv" of the environment in `dir` to the end; returns the error it throws, if any.
    private func scanError(_ dir: String) throws -> LMDBError? {
        let env = try Environment(path: dir, maxDatabases: 4, mapSize: 8 << 20)
        defer { env.close() }
        return try env.read { txn -> LMDBError? in
            do {
                _ = try allRows(try txn.scanCheckingStructure(of: ["kv"])[0])
                return nil
            } catch let error as LMDBError {
                return error
            }
        }
    }

    func testScanOfAnIntactFileSucceeds() throws {
        let dir = try makeTempDirectory(self)
        _ = try populatedEnvironment(dir, count: 3_000)
        XCTAssertNil(try scanError(dir))
    }

    func testGarbageInAStreamedLeafPageIsAnErrorNotACrash() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir, count: 3_000)
        let page = try leafPage(holding: 1_500, in: data)
        try patch(data, at: page * 4096 + 12, [UInt8](repeating: 0xFF, count: 4096 - 12))
        let error = try scanError(dir)
        XCTAssertEqual(error?.code, LMDBError.Code.corrupted)
        XCTAssertTrue(error?.message.contains("kv") == true, "\(String(describing: error))")
    }

    func testNodeOffsetOutsideThePageIsAnError() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir, count: 3_000)
        let page = try leafPage(holding: 1_500, in: data)
        // first node pointer: offset 4092, 8-byte header does not fit
        try patch(data, at: page * 4096 + 16, [0xFC, 0x0F])
        XCTAssertEqual(try scanError(dir)?.code, LMDBError.Code.corrupted)
    }

    func testKeysOutOfOrderAreAnError() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir, count: 3_000)
        let page = try leafPage(holding: 1_500, in: data)
        // swap the first two node pointers of the page: LMDB would return those two keys in the wrong order
        let raw = try Data(contentsOf: URL(fileURLWithPath: data))
        let base = page * 4096 + 16
        try patch(data, at: base, [raw[base + 2], raw[base + 3], raw[base], raw[base + 1]])
        let error = try scanError(dir)
        XCTAssertEqual(error?.code, LMDBError.Code.corrupted)
        XCTAssertTrue(error?.message.contains("out of order") == true, "\(String(describing: error))")
    }

    func testPageNumberMismatchIsAnError() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir, count: 3_000)
        let page = try leafPage(holding: 1_500, in: data)
        try patch(data, at: page * 4096, beKey(7).reversed())  // the header names page 7
        XCTAssertEqual(try scanError(dir)?.code, LMDBError.Code.corrupted)
    }

    /// The first branch page of the data file (the only tree with branch pages here is "kv") and the offset of
    /// the key of its node `index`.
    private func branchPage(in data: String, node index: Int) throws -> (page: Int, keyOffset: Int) {
        let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data)))
        for page in 2..<(raw.count / 4096) {
            let base = page * 4096
            let pgno = raw[base..<(base + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
            guard pgno == page, raw[base + 10] & 0x01 != 0 else { continue }
            let pointer = Int(raw[base + 16 + 2 * index]) | Int(raw[base + 17 + 2 * index]) << 8
            return (page, base + pointer + 8)
        }
        XCTFail("no branch page")
        return (0, 0)
    }

    /// Both readers of a tree: the structure walk (every database walked) and the scan.
    private func assertBothReadersRefuse(_ dir: String, _ what: String, file: StaticString = #filePath,
                                         line: UInt = #line) throws {
        let scanned = try scanError(dir)
        XCTAssertEqual(scanned?.code, LMDBError.Code.corrupted, file: file, line: line)
        XCTAssertTrue(scanned?.message.contains(what) == true, "\(String(describing: scanned))", file: file, line: line)
        let env = try Environment(path: dir, maxDatabases: 4, mapSize: 8 << 20)
        defer { env.close() }
        let walked = assertLMDBError(try env.checkStructure(), file: file, line: line)
        XCTAssertEqual(walked?.code, LMDBError.Code.corrupted, file: file, line: line)
        XCTAssertTrue(walked?.message.contains(what) == true, "\(String(describing: walked))", file: file, line: line)
    }

    func testBranchSeparatorBelowTheKeysBeforeItIsAnError() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir, count: 3_000)
        let (_, keyOffset) = try branchPage(in: data, node: 1)
        // the separator of the second child set to key 0: not above the keys of the first child (a lookup of
        // any key would go right, past the first child's keys)
        try patch(data, at: keyOffset, beKey(0))
        try assertBothReadersRefuse(dir, "separator out of order")
    }

    func testBranchSeparatorAboveTheKeysAfterItIsAnError() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir, count: 3_000)
        let (_, keyOffset) = try branchPage(in: data, node: 1)
        // above every key of the child it leads to: lookups of those keys would go left and find nothing
        try patch(data, at: keyOffset, [UInt8](repeating: 0xFF, count: 8))
        try assertBothReadersRefuse(dir, "out of order")
    }

    func testUnknownLeafNodeFlagsAreAnError() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir, count: 3_000)
        let page = try leafPage(holding: 1_500, in: data)
        let raw = try Data(contentsOf: URL(fileURLWithPath: data))
        let pointer = Int(raw[page * 4096 + 16]) | Int(raw[page * 4096 + 17]) << 8
        try patch(data, at: page * 4096 + pointer + 5, [0x02])  // node flags 0x0200: no such flag
        try assertBothReadersRefuse(dir, "unknown flags")
    }
}
