import Foundation
import LedgerSupport
import XCTest

final class AtomicFileTests: XCTestCase {
    private func directory() throws -> String {
        let path = NSTemporaryDirectory() + "atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testWritesTheWholeTextWithTheModeAndLeavesNoTemporaryFile() throws {
        let dir = try directory()
        let path = dir + "/out.txt"
        try AtomicFile.write("first\n", to: path, mode: 0o600)
        try AtomicFile.write("second\n", to: path, mode: 0o640)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "second\n")
        let mode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
        XCTAssertEqual(mode.intValue, 0o640)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.txt"])
    }

    func testTheDirectoryContainingAPath() {
        let cases = ["k": ".", "k/": ".", "key": ".", "./k": ".", "a/b": "a", "a/b/": "a", "a//b": "a",
                     "/k": "/", "/": "/", "/a/b/c": "/a/b", "../k": "..", "": "."]
        for (path, directory) in cases { XCTAssertEqual(AtomicFile.directory(containing: path), directory, path) }
    }

    func testAFileThatCannotBeWrittenIsAFileErrorNamingIt() throws {
        let path = try directory() + "/missing/out.txt"
        XCTAssertThrowsError(try AtomicFile.write("x", to: path)) { error in
            guard let error = error as? FileError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.path, path)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description)
        }
    }
}
