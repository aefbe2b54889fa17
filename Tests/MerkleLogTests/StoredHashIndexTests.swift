import MerkleLog
import XCTest

/// tlog's StoredHashIndex, written out as its loops, to check the closed forms against.
private func loopStoredHashIndex(_ level: Int, _ n: Int64) -> Int64 {
    var n = n
    for _ in 0..<level { n = 2 * n + 1 }
    var i: Int64 = 0
    while n > 0 { i += n; n >>= 1 }
    return i + Int64(level)
}

final class StoredHashIndexTests: XCTestCase {
    func testMatchesTlogLoops() {
        for level in 0..<20 {
            for n in Int64(0)..<2000 {
                XCTAssertEqual(storedHashIndex(level: level, n: n), loopStoredHashIndex(level, n),
                               "level \(level) n \(n)")
            }
        }
        for n in [Int64(1) << 40, Int64(1) << 40 + 12345, Int64(1) << 50 - 1] {
            for level in 0..<8 {
                XCTAssertEqual(storedHashIndex(level: level, n: n >> level), loopStoredHashIndex(level, n >> level))
            }
        }
    }

    func testSplitInvertsIndex() {
        for index in Int64(0)..<200_000 {
            let (level, n) = splitStoredHashIndex(index)
            XCTAssertEqual(storedHashIndex(level: level, n: n), index, "index \(index)")
        }
        for level in 0..<30 {
            for n in Int64(0)..<500 {
                let (l, m) = splitStoredHashIndex(storedHashIndex(level: level, n: n))
                XCTAssertEqual(l, level)
                XCTAssertEqual(m, n)
            }
        }
        for base in [Int64(1) << 32, Int64(1) << 45, Int64(1) << 55] {
            for d in Int64(0)..<300 {
                let (level, n) = splitStoredHashIndex(base + d)
                XCTAssertEqual(storedHashIndex(level: level, n: n), base + d)
            }
        }
    }

    func testKnownLayout() {
        // The first records: 0:(0,0) 1:(0,1) 2:(1,0) 3:(0,2) 4:(0,3) 5:(1,1) 6:(2,0) 7:(0,4)
        let layout: [(Int, Int64)] = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4)]
        for (index, (level, n)) in layout.enumerated() {
            XCTAssertEqual(storedHashIndex(level: level, n: n), Int64(index))
            XCTAssertTrue(splitStoredHashIndex(Int64(index)) == (level, n))
        }
    }

    func testStoredHashCount() {
        XCTAssertEqual(storedHashCount(0), 0)
        XCTAssertEqual(storedHashCount(1), 1)
        XCTAssertEqual(storedHashCount(2), 3)
        XCTAssertEqual(storedHashCount(3), 4)
        XCTAssertEqual(storedHashCount(4), 7)
        var count: Int64 = 0
        for n in Int64(0)..<5000 {
            XCTAssertEqual(storedHashCount(n), count, "size \(n)")
            XCTAssertEqual(storedHashIndex(level: 0, n: n), count) // record n's hashes start where size n ends
            count += 1 + Int64((n + 1).trailingZeroBitCount)
        }
    }
}
