import Foundation
import XCTest
@testable import LMDB

/// A fresh temporary directory, removed at the end of the test.
func makeTempDirectory(_ test: XCTestCase, _ name: String = "env") throws -> String {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lmdb-tests-\(UUID().uuidString)")
        .appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    let root = url.deletingLastPathComponent()
    test.addTeardownBlock { try? FileManager.default.removeItem(at: root) }
    return url.path
}

/// A second directory next to `dir` (same temporary root).
func siblingDirectory(of dir: String, _ name: String) throws -> String {
    let url = URL(fileURLWithPath: dir).deletingLastPathComponent().appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

/// Big-endian 8-byte key, so byte order = numeric order.
func beKey(_ n: UInt64) -> [UInt8] {
    withUnsafeBytes(of: n.bigEndian) { Array($0) }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Creates an environment with `count` values of 200 bytes in "kv" under `beKey` keys, and closes it. Returns the
/// data file path.
func populatedEnvironment(_ dir: String, count: Int = 2_000) throws -> String {
    let env = try Environment(path: dir, maxDatabases: 4, mapSize: 4 << 20)
    let db = try env.openDatabase("kv", flags: .create)
    try env.write { txn in
        for i in 0..<count {
            try txn.put(db, key: beKey(UInt64(i)), value: [UInt8](repeating: UInt8(i & 0xFF), count: 200))
        }
    }
    env.close()
    return dir + "/data.mdb"
}

/// The number of the leaf page (4 KiB pages) that holds key `beKey(seq)` in the data file at `data`.
func leafPage(holding seq: UInt64, in data: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
    let raw = try Data(contentsOf: URL(fileURLWithPath: data))
    var from = raw.startIndex
    while let hit = raw.range(of: Data(beKey(seq)), in: from..<raw.endIndex) {
        let page = hit.lowerBound / 4096
        if raw[page * 4096 + 10] & 0x02 != 0 { return page }  // P_LEAF
        from = hit.upperBound
    }
    XCTFail("no leaf page holds key \(seq)", file: file, line: line)
    return 0
}

extension UnsafeRawBufferPointer {
    var array: [UInt8] { Array(self) }
    var string: String { String(decoding: self, as: UTF8.self) }
}

/// Asserts that `body` throws an LMDBError and returns it.
@discardableResult
func assertLMDBError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath,
                        line: UInt = #line) -> LMDBError? {
    do {
        _ = try body()
        XCTFail("expected an LMDBError, nothing was thrown", file: file, line: line)
    } catch let error as LMDBError {
        return error
    } catch {
        XCTFail("expected an LMDBError, got \(error)", file: file, line: line)
    }
    return nil
}
