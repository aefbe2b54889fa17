@testable import Ledger
import MerkleLog
import XCTest

final class KeyTableTests: XCTestCase {
    private let tagA = Hash.sha256(Array("matter A".utf8)), tagB = Hash.sha256(Array("matter B".utf8))

    func testDenseIdsAreFoundAndMissingOnesAreNot() {
        var table = KeyTable()
        for id in UInt32(1)...1000 { table.append(id, id % 10 == 1 ? .keyPair : .batchKey, link: id - id % 10 + 1) }
        XCTAssertTrue(table.sortByID())
        for id in UInt32(1)...1000 {
            let slot = try! XCTUnwrap(table.slot(of: id))
            XCTAssertEqual(table.id(slot), id)
            XCTAssertEqual(table.kind(slot), id % 10 == 1 ? .keyPair : .batchKey)
            XCTAssertEqual(table.link(slot), id - id % 10 + 1)
        }
        XCTAssertNil(table.slot(of: 0))
        XCTAssertNil(table.slot(of: 1001))
        XCTAssertNil(table.slot(of: .max))
    }

    /// Destroyed keys leave gaps: the ids after a gap are found by binary search.
    func testIdsWithGapsAreFoundByTheirIds() {
        var table = KeyTable()
        let ids: [UInt32] = [3, 4, 9, 10, 11, 500, 70_000, .max - 1]
        for id in ids { table.append(id, .matterKey) }
        XCTAssertTrue(table.sortByID())
        for (slot, id) in ids.enumerated() { XCTAssertEqual(table.slot(of: id), slot) }
        for missing: UInt32 in [0, 1, 5, 8, 12, 499, 501, 69_999, .max] { XCTAssertNil(table.slot(of: missing)) }
    }

    /// A damaged file's keys out of order are sorted (kinds and links follow their ids); an id twice is refused.
    func testKeysOutOfOrderAreSortedAndDuplicatesRefused() {
        var table = KeyTable()
        table.append(7, .batchKey, link: 5)
        table.append(5, .keyPair)
        table.append(6, .matterKey)
        XCTAssertTrue(table.sortByID())
        XCTAssertEqual(table.slots.map { table.id($0) }, [5, 6, 7])
        XCTAssertEqual(table.slots.map { table.kind($0) }, [.keyPair, .matterKey, .batchKey])
        XCTAssertEqual(table.link(2), 5)
        var twice = KeyTable()
        for id: UInt32 in [2, 1, 2] { twice.append(id, .matterKey) }
        XCTAssertFalse(twice.sortByID())
    }

    func testMattersAreStoredOncePerTag() {
        var table = KeyTable()
        for id in UInt32(1)...4 { table.append(id, .keyPair) }
        table.setMatter(0, tag: tagA)
        table.setMatter(1, tag: tagB)
        table.setMatter(2, tag: tagA)
        XCTAssertEqual(table.matter(0), tagA)
        XCTAssertEqual(table.matter(1), tagB)
        XCTAssertEqual(table.matterNumber(2), table.matterNumber(0))
        XCTAssertNil(table.matter(3))
        table.setMatter(3, number: table.matterNumber(1))
        XCTAssertEqual(table.matter(3), tagB)
        table.setMatter(3, number: nil)
        XCTAssertNil(table.matter(3))
    }
}
