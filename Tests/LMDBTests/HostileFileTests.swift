import Foundation
import XCTest
@testable import LMDB

/// Opening damaged or foreign files must throw an LMDBError, never crash.
final class HostileFileTests: XCTestCase {
    private func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }

    private func assertOpenThrowsCorruption(_ dir: String, flags: EnvironmentFlags = [], file: StaticString = #filePath,
                                            line: UInt = #line) {
        let error = assertLMDBError(try Environment(path: dir, maxDatabases: 4, mapSize: 4 << 20, flags: flags),
                                    file: file, line: line)
        XCTAssertEqual(error?.isCorruption, true, "got \(String(describing: error))", file: file, line: line)
        XCTAssertEqual(error?.operation.hasPrefix("mdb_"), true, file: file, line: line)
    }

    func testGarbageDataFileThrows() throws {
        let dir = try makeTempDirectory(self)
        var rng = SystemRandomNumberGenerator()
        let garbage = (0..<(64 << 10)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/data.mdb", contents: Data(garbage)))
        assertOpenThrowsCorruption(dir)
        assertOpenThrowsCorruption(dir, flags: .readOnly)
        // a failed open does not leave the path registered as open
        assertOpenThrowsCorruption(dir)
        // text that is not LMDB at all
        let json = Data(String(repeating: "{\"not\": \"lmdb\"}\n", count: 1_000).utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/data.mdb", contents: json))
        assertOpenThrowsCorruption(dir)
    }

    func testTruncatedDataFileThrows() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir)
        let full = try fileSize(data)
        XCTAssertGreaterThan(full, 100 * 4096)
        // cut in the middle of the B-tree: meta pages intact, pages missing
        // (without the size check LMDB would SIGBUS reading past EOF)
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: data))
        try handle.truncate(atOffset: UInt64(full / 2))
        assertOpenThrowsCorruption(dir)
        assertOpenThrowsCorruption(dir, flags: .readOnly)
        // cut inside the meta pages
        try handle.truncate(atOffset: 100)
        try handle.close()
        assertOpenThrowsCorruption(dir)
    }

    func testGarbageOverMetaPagesThrows() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir)
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: data))
        try handle.seek(toOffset: 0)
        handle.write(Data(repeating: 0xEE, count: 2 * 4096))
        try handle.close()
        assertOpenThrowsCorruption(dir)
    }

    func testGarbageOverTreePagesThrows() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir)
        let full = try fileSize(data)
        // keep both meta pages, overwrite every other page
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: data))
        try handle.seek(toOffset: 2 * 4096)
        handle.write(Data(repeating: 0xFF, count: full - 2 * 4096))
        try handle.close()
        assertOpenThrowsCorruption(dir)
        assertOpenThrowsCorruption(dir, flags: .readOnly)
    }

    func testDeepStructureCheckFindsDamageBelowTheRoot() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir, count: 5_000)
        let env = try Environment(path: dir, maxDatabases: 4, mapSize: 4 << 20)
        let db = try env.openDatabase("kv")
        XCTAssertGreaterThan(try env.checkStructure(), 100)  // intact file passes
        let stat = try env.stat(db)
        XCTAssertGreaterThan(stat.depth, 1)
        env.close()
        // find a leaf page of "kv" (not a root): the page holding key 2500
        let full = try fileSize(data)
        let page = try leafPage(holding: 2_500, in: data)
        XCTAssertGreaterThan(page, 2)
        XCTAssertLessThan(page * 4096, full)
        // scribble over that page's node table
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: data))
        try handle.seek(toOffset: UInt64(page * 4096 + 12))
        handle.write(Data(repeating: 0xFF, count: 4096 - 12))
        try handle.close()
        // the light check at open may pass (damage below the roots) ...
        let reopened = try Environment(path: dir, maxDatabases: 4, mapSize: 4 << 20)
        // ... the deep check must not
        let error = assertLMDBError(try reopened.checkStructure())
        XCTAssertEqual(error?.code, LMDBError.Code.corrupted)
        XCTAssertEqual(error?.isCorruption, true)
    }

    /// A leaf page whose node count is set to zero (lower = header size): LMDB would index node 65535 of it on
    /// MDB_LAST and read far past the map. The deep check refuses it (found by the ledger-file fuzz target).
    func testEmptyPageInATreeIsRefused() throws {
        let dir = try makeTempDirectory(self)
        let data = try populatedEnvironment(dir, count: 5_000)
        let page = try leafPage(holding: 2_500, in: data)
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: data))
        try handle.seek(toOffset: UInt64(page * 4096 + 12))  // mp_lower
        handle.write(Data([16, 0]))
        try handle.close()
        let env = try Environment(path: dir, maxDatabases: 4, mapSize: 4 << 20)
        defer { env.close() }
        let error = assertLMDBError(try env.checkStructure())
        XCTAssertEqual(error?.code, LMDBError.Code.corrupted)
        XCTAssertTrue(error?.message.contains("holds no node") ?? false, "\(String(describing: error))")
    }

    /// A database of duplicates whose record loses MDB_DUPSORT: LMDB opens it without a duplicate cursor and would
    /// follow a duplicates node through a null pointer. The deep check refuses it (found by the ledger-file target).
    func testDuplicatesInADatabaseWithoutThemAreRefused() throws {
        let dir = try makeTempDirectory(self)
        let env = try Environment(path: dir, maxDatabases: 4, mapSize: 4 << 20)
        let db = try env.openDatabase("dups", flags: [.create, .dupSort, .dupFixed])
        try env.write { txn in
            for value in 0..<50 as Range<UInt64> { try txn.put(db, key: Array("k".utf8), value: beKey(value)) }
        }
        XCTAssertGreaterThan(try env.checkStructure(), 0)
        env.close()
        var raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/data.mdb")))
        // the record in the current main root page (older copies of that page may still sit in the file)
        let metas = [0, 4096].map { base in
            raw.withUnsafeBytes { ($0.loadUnaligned(fromByteOffset: base + 16 + 128, as: UInt64.self),
                                   Int($0.loadUnaligned(fromByteOffset: base + 16 + 72 + 40, as: UInt64.self))) }
        }
        let root = metas.max { $0.0 < $1.0 }!.1
        let name = Array("dups".utf8)
        let at = try XCTUnwrap((root * 4096..<((root + 1) * 4096 - name.count)).first {
            Array(raw[$0..<($0 + name.count)]) == name
        })
        XCTAssertEqual(raw[at + name.count + 4], 0x14, "the record's flags are MDB_DUPSORT | MDB_DUPFIXED")
        // DUPFIXED without DUPSORT is no valid record; with no flags at all, the duplicates node is the damage
        for flags: UInt8 in [0x10, 0x00] {
            raw[at + name.count + 4] = flags
            try Data(raw).write(to: URL(fileURLWithPath: dir + "/data.mdb"))
            assertOpenThrowsCorruption(dir)
            assertOpenThrowsCorruption(dir, flags: .readOnly)
        }
    }

    func testGarbageLockFileThrowsOrIsRebuilt() throws {
        let dir = try makeTempDirectory(self)
        _ = try populatedEnvironment(dir, count: 10)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/lock.mdb",
                                                     contents: Data(repeating: 0x42, count: 8192)))
        // With no other process holding it, LMDB re-initialises the lock file;
        // either way: no crash, and if it opens the data is intact.
        do {
            let env = try Environment(path: dir, maxDatabases: 4, mapSize: 4 << 20)
            let db = try env.openDatabase("kv")
            XCTAssertEqual(try env.read { try $0.count(db) }, 10)
        } catch let error as LMDBError {
            XCTAssertNotEqual(error.code, 0)
        }
    }
}
