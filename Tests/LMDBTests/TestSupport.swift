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

extension UnsafeRawBufferPointer {
    var array: [UInt8] { Array(self) }
    var string: String { String(decoding: self, as: UTF8.self) }
}

/// Asserts that `body` throws an LMDBError and returns it.
@discardableResult
func assertLMDBError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> LMDBError? {
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
