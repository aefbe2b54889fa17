import Foundation
import LedgerSupport
import XCTest

private struct Failed: Error, Equatable { let item: Int }

/// The import's sealing stage: items made in order on one job, a bounded number ahead of the taker.
final class LookaheadTests: XCTestCase {
    func testItemsArriveInOrderAndTheStateCarriesFromOneToTheNext() throws {
        let ahead = Lookahead(0..<50, depth: 2, state: 100) { index, state -> String in
            state += index
            return "item \(index) at \(state)"
        }
        var expected = 100
        for index in 0..<50 {
            expected += index
            XCTAssertEqual(try ahead.take(index), "item \(index) at \(expected)")
        }
    }

    func testTheMakerNeverRunsMoreThanDepthItemsAheadOfTheTaker() throws {
        let made = Locked(0)
        let ahead = Lookahead(0..<20, depth: 2, state: ()) { index, _ -> Int in
            made.withLock { $0 += 1 }
            return index
        }
        for index in 0..<20 {
            // Give the maker time to run ahead as far as it may.
            Thread.sleep(forTimeInterval: 0.005)
            XCTAssertLessThanOrEqual(made.withLock { $0 }, index + 2, "taken \(index)")
            XCTAssertEqual(try ahead.take(index), index)
        }
        XCTAssertEqual(made.withLock { $0 }, 20)
    }

    func testAFailureReachesTheTakerAtItsItemAfterTheItemsBeforeIt() throws {
        let made = Locked([Int]())
        let ahead = Lookahead(0..<10, depth: 3, state: ()) { index, _ -> Int in
            made.withLock { $0.append(index) }
            if index == 4 { throw Failed(item: index) }
            return index
        }
        for index in 0..<4 { XCTAssertEqual(try ahead.take(index), index) }
        XCTAssertThrowsError(try ahead.take(4)) { XCTAssertEqual($0 as? Failed, Failed(item: 4)) }
        ahead.stop()
        XCTAssertEqual(made.withLock { $0 }, [0, 1, 2, 3, 4], "nothing is made after a failure")
    }

    func testWhileIdleRunsWithNoItemBeingMade() throws {
        let inside = Locked(false), overlaps = Locked(0)
        let ahead = Lookahead(0..<200, depth: 2, state: ()) { index, _ -> Int in
            if inside.withLock({ $0 }) { overlaps.withLock { $0 += 1 } }
            Thread.sleep(forTimeInterval: 0.0002)
            if inside.withLock({ $0 }) { overlaps.withLock { $0 += 1 } }
            return index
        }
        for index in 0..<200 {
            XCTAssertEqual(try ahead.take(index), index)
            if index % 10 == 0 {
                ahead.whileIdle {
                    inside.withLock { $0 = true }
                    Thread.sleep(forTimeInterval: 0.001)
                    inside.withLock { $0 = false }
                }
            }
        }
        XCTAssertEqual(overlaps.withLock { $0 }, 0)
    }

    func testStopEndsTheMakerAndIsSafeToRepeat() throws {
        let made = Locked(0)
        let ahead = Lookahead(0..<1_000, depth: 2, state: ()) { index, _ -> Int in
            made.withLock { $0 += 1 }
            return index
        }
        XCTAssertEqual(try ahead.take(0), 0)
        ahead.stop()
        let after = made.withLock { $0 }
        XCTAssertLessThanOrEqual(after, 3)
        Thread.sleep(forTimeInterval: 0.01)
        XCTAssertEqual(made.withLock { $0 }, after, "nothing is made once stopped")
        ahead.stop()
    }
}
