import Foundation
import XCTest
@testable import LMDB

/// Hot backups and sharing one environment between processes.
final class SharingTests: XCTestCase {
    private static let childDirectoryVariable = "LMDB_TESTS_CHILD_DIR"

    func testCopyWhileAnotherThreadWrites() throws {
        let dir = try makeTempDirectory(self)
        let env = try Environment(path: dir, maxDatabases: 4, mapSize: 1 << 20)
        let fixed = try env.openDatabase("fixed", flags: .create)
        let log = try env.openDatabase("log", flags: .create)
        try env.write { txn in
            for i in 0..<5_000 as Range<UInt64> { try txn.put(fixed, key: beKey(i), value: beKey(i &* 7919)) }
        }
        let writer = BackgroundWriter(env: env, log: log)
        while writer.written.value < 5 { usleep(1_000) }
        let plain = try siblingDirectory(of: dir, "copy")
        let compact = try siblingDirectory(of: dir, "compact")
        try env.copy(to: plain, compact: false)
        try env.copy(to: compact, compact: true)
        writer.stopAndWait()
        XCTAssertEqual(writer.failures.value, 0)
        // copying into a directory that already holds an environment fails
        XCTAssertNotNil(assertLMDBError(try env.copy(to: plain, compact: false)))

        let finalCount = try env.read { try $0.count(log) }
        XCTAssertEqual(finalCount, writer.written.value)
        for path in [plain, compact] {
            let copy = try Environment(path: path, maxDatabases: 4, mapSize: 1 << 20, flags: .readOnly)
            defer { copy.close() }
            XCTAssertGreaterThan(try copy.checkStructure(), 0)
            try assertSameRows(env, fixed, copy, try copy.openDatabase("fixed"))
            try assertLogPrefix(copy, try copy.openDatabase("log"), atMost: finalCount)
        }
    }

    /// Appends 1,000-byte rows to `log` on another thread (growing the map) until stopped, and at least 20.
    private final class BackgroundWriter: Sendable {
        let written = LockedCounter()
        let failures = LockedCounter()
        private let stop = LockedCounter()
        private let done = DispatchSemaphore(value: 0)

        init(env: Environment, log: Database) {
            DispatchQueue.global().async { [self] in
                var i: UInt64 = 0
                while stop.value == 0 || i < 20 {
                    do {
                        try env.write { txn in
                            try txn.put(log, key: beKey(i), value: [UInt8](repeating: UInt8(i & 0xFF), count: 1_000),
                                        flags: .append)
                        }
                        i += 1
                        written.add()
                    } catch {
                        failures.add()
                        break
                    }
                }
                done.signal()
            }
        }

        func stopAndWait() {
            stop.add()
            done.wait()
        }
    }

    /// The prepopulated database reads back identically from the copy.
    private func assertSameRows(_ env: Environment, _ fixed: Database, _ copy: Environment,
                                _ copied: Database) throws {
        try env.read { source in
            try copy.read { target in
                let a = try source.cursor(fixed), b = try target.cursor(copied)
                var p = try a.first(), q = try b.first()
                var n = 0
                while let x = p, let y = q {
                    XCTAssertEqual(x.key.array, y.key.array)
                    XCTAssertEqual(x.value.array, y.value.array)
                    n += 1
                    p = try a.next(); q = try b.next()
                }
                XCTAssertNil(p); XCTAssertNil(q)
                XCTAssertEqual(n, 5_000)
            }
        }
    }

    /// The concurrently written database is, in the copy, a consistent prefix of at least 5 rows.
    private func assertLogPrefix(_ copy: Environment, _ log: Database, atMost finalCount: Int) throws {
        try copy.read { txn in
            let c = try txn.cursor(log)
            var expected: UInt64 = 0
            var p = try c.first()
            while let pair = p {
                XCTAssertEqual(pair.key.array, beKey(expected))
                XCTAssertEqual(pair.value.count, 1_000)
                XCTAssertTrue(pair.value.allSatisfy { $0 == UInt8(expected & 0xFF) })
                expected += 1
                p = try c.next()
            }
            XCTAssertGreaterThanOrEqual(expected, 5)
            XCTAssertLessThanOrEqual(Int(expected), finalCount)
        }
    }

    /// Another process grows the map and writes while this process has the
    /// environment open: this process must adopt the new size (MDB_MAP_RESIZED).
    func testAnotherProcessGrowsTheMap() throws {
        let dir = try makeTempDirectory(self)
        let env = try Environment(path: dir, maxDatabases: 4, mapSize: 64 << 10)
        let db = try env.openDatabase("shared", flags: .create)
        try env.write { try $0.put(db, key: beKey(0), value: bytes("parent")) }
        XCTAssertEqual(try env.read { try $0.count(db) }, 1)

        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["LMDBTests.SharingTests/testChildProcessHelper"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childDirectoryVariable] = dir
        child.environment = environment
        let output = Pipe()
        child.standardOutput = output
        child.standardError = output
        try child.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("Executed 1 test, with 0 failures"), text)

        // this process still has the old 64 KiB map: the next transaction sees MAP_RESIZED and adopts
        XCTAssertEqual(env.mapSize, 64 << 10)
        try env.read { txn in
            XCTAssertEqual(try txn.count(db), 1 + 1_000)
            XCTAssertEqual(try txn.get(db, key: beKey(0))?.string, "parent")
            XCTAssertEqual(try txn.get(db, key: beKey(1_000))?.count, 2_000)
        }
        XCTAssertGreaterThan(env.mapSize, 2_000_000)
        try env.write { try $0.put(db, key: beKey(5_000), value: bytes("after")) }
        XCTAssertEqual(try env.read { try $0.count(db) }, 1_002)
    }

    /// Runs only as the child of `testAnotherProcessGrowsTheMap`.
    func testChildProcessHelper() throws {
        guard let dir = ProcessInfo.processInfo.environment[Self.childDirectoryVariable] else { return }
        let env = try Environment(path: dir, maxDatabases: 4, mapSize: 64 << 10)
        let db = try env.openDatabase("shared")
        let value = [UInt8](repeating: 0xC4, count: 2_000)
        try env.write { txn in
            for i in 1...1_000 as ClosedRange<UInt64> { try txn.put(db, key: beKey(i), value: value) }
        }
        XCTAssertGreaterThan(env.mapSize, 2_000_000)
        env.close()
    }
}
