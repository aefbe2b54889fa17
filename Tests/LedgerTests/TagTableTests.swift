@testable import Ledger
import MerkleLog
import XCTest

final class TagTableTests: XCTestCase {
    /// A tag whose first word (the table's hash) is `home` and whose last byte tells it apart.
    private func tag(home: UInt64, _ distinct: UInt8) -> Hash {
        var bytes = withUnsafeBytes(of: home) { Array($0) } + Array(repeating: 0, count: 24)
        bytes[31] = distinct
        return Hash(bytes: bytes)!
    }

    func testFindsWhatWasAddedAndNothingElse() {
        var table = TagTable()
        for i in 0..<1000 { table[Hash.sha256(Array("\(i)".utf8))] = UInt64(i) }  // grows from 16 slots
        XCTAssertEqual(table.count, 1000)
        for i in 0..<1000 { XCTAssertEqual(table[Hash.sha256(Array("\(i)".utf8))], UInt64(i)) }
        XCTAssertNil(table[Hash.sha256(Array("1000".utf8))])
        table[Hash.sha256(Array("7".utf8))] = 70  // overwriting keeps the count
        XCTAssertEqual(table[Hash.sha256(Array("7".utf8))], 70)
        XCTAssertEqual(table.count, 1000)
        table.removeAll()
        XCTAssertEqual(table.count, 0)
        XCTAssertNil(table[Hash.sha256(Array("7".utf8))])
    }

    func testTagsWithTheSameFirstWordAreStillDistinct() {
        var table = TagTable(minimumCapacity: 4)
        for i in 0..<20 { table[tag(home: 42, UInt8(i))] = UInt64(100 + i) }  // one long probe chain, across growth
        for i in 0..<20 { XCTAssertEqual(table[tag(home: 42, UInt8(i))], UInt64(100 + i)) }
        XCTAssertNil(table[tag(home: 42, 20)])
        XCTAssertNil(table[tag(home: 43, 0)])
    }
}
