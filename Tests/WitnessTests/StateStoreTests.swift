import Foundation
import MerkleLog
import Transparency
import XCTest
@testable import Witness

final class StateStoreTests: XCTestCase {
    func testHeadsSurviveRestart() async throws {
        let dir = temporaryDirectory()
        let root = Hash.sha256([1, 2, 3])
        do {
            let store = try StateStore(directory: dir)
            let s1 = try XCTUnwrap(try store.update("a.example/log", expected: nil, new: WitnessedHead(size: 5, root: root)))
            let s2 = try XCTUnwrap(try store.update("b example", expected: nil, new: WitnessedHead(size: 1, root: root)))
            try await store.awaitDurable(max(s1, s2))
            let s3 = try XCTUnwrap(try store.update("a.example/log", expected: WitnessedHead(size: 5, root: root),
                                                    new: WitnessedHead(size: 9, root: .zero)))
            try await store.awaitDurable(s3)
            XCTAssertNil(try store.update("a.example/log", expected: nil, new: WitnessedHead(size: 10, root: root)),
                         "a stale expected head loses the compare-and-swap")
            store.close()
        }
        let reopened = try StateStore(directory: dir)
        XCTAssertEqual(reopened.snapshot("a.example/log").head, WitnessedHead(size: 9, root: .zero))
        XCTAssertEqual(reopened.snapshot("b example").head, WitnessedHead(size: 1, root: root))
        XCTAssertNil(reopened.snapshot("c").head)
    }

    func testTornLastLineIsDroppedAndOtherDamageRefused() async throws {
        let dir = temporaryDirectory()
        do {
            let store = try StateStore(directory: dir)
            let s = try XCTUnwrap(try store.update("o", expected: nil, new: WitnessedHead(size: 3, root: .zero)))
            try await store.awaitDurable(s)
            store.close()
        }
        let path = dir + "/" + StateStore.fileName
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("4 AAAA".utf8))  // a crash in the middle of a line
        handle.closeFile()
        let reopened = try StateStore(directory: dir)
        XCTAssertEqual(reopened.snapshot("o").head?.size, 3)
        reopened.close()
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\n3 ", with: "\n7 ")  // tampered: the check no longer matches
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try StateStore(directory: dir))
    }

    func testOneServerPerState() throws {
        let dir = temporaryDirectory()
        let first = try StateStore(directory: dir)
        XCTAssertThrowsError(try StateStore(directory: dir))
        _ = first
    }
}
