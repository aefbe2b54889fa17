import Foundation
import LedgerSupport
import XCTest

private struct Boom: Error, Equatable { let item: Int }

final class ParallelTests: XCTestCase {
    func testParallelMapKeepsInputOrderAndGivesEachShareItsOwnContext() throws {
        let items = Array(0..<10_000)
        let contexts = Counter()
        let out = try parallelMap(items, minimumChunk: 16,
                                  context: { contexts.increment(); return [Int]() }) { seen, item in
            seen.append(item)  // a worker's scratch is its own: no data race, no lock
            return item * 3
        }
        XCTAssertEqual(out, items.map { $0 * 3 })
        // One context per share: a few shares per core (handed to whichever thread is free), not one per item.
        XCTAssertLessThanOrEqual(contexts.value, max(1, availableCores) * 8)
        XCTAssertLessThan(contexts.value, items.count / 16)
    }

    func testParallelMapRethrowsAFailureAndReturnsNothing() {
        XCTAssertThrowsError(try parallelMap(Array(0..<5_000), minimumChunk: 8) { item -> Int in
            if item == 4_321 { throw Boom(item: item) }
            return item
        }) { XCTAssertEqual($0 as? Boom, Boom(item: 4_321)) }
    }

    func testRunConcurrentlyRunsEveryJobOnceInJobOrder() throws {
        let runs = Counter()
        let jobs: [() throws -> String] = (0..<7).map { i in { runs.increment(); return "job \(i)" } }
        XCTAssertEqual(try runConcurrently(jobs), (0..<7).map { "job \($0)" })
        XCTAssertEqual(runs.value, 7)
        XCTAssertThrowsError(try runConcurrently([{ 1 }, { throw Boom(item: 2) }, { 3 }])) {
            XCTAssertEqual($0 as? Boom, Boom(item: 2))
        }
    }

    func testSharedBatchesHandOutEveryItemExactlyOnceInTheBatchesAsked() throws {
        let count = 20_000
        let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        seen.initialize(repeating: 0)
        defer { seen.deallocate() }
        let box = SeenBox(seen)
        let batchSizes = Counter()
        let batches = SharedBatches(count: count, nextBatch: { next in
            next < 1_000 ? next..<min(1_000, next + 8) : next..<(next + 64)  // never crosses 1,000
        }, work: { participant, items in
            XCTAssertTrue(participant >= 0 && participant < SharedBatches.participants)
            XCTAssertTrue(items.upperBound <= 1_000 || items.lowerBound >= 1_000)
            if items.lowerBound >= 1_000 { batchSizes.increment() }
            for i in items { box.mark(i) }
        })
        try batches.finish()
        XCTAssertTrue(seen.allSatisfy { $0 == 1 }, "every item once")
        XCTAssertEqual(batchSizes.value, (count - 1_000 + 63) / 64)
    }

    func testSharedBatchesStopHandingOutAfterAnErrorAndRethrowIt() {
        let processed = Counter()
        let batches = SharedBatches(count: 100_000, nextBatch: { $0..<($0 + 10) }, work: { _, items in
            processed.increment()
            if items.contains(500) { throw Boom(item: 500) }
        })
        XCTAssertThrowsError(try batches.finish()) { XCTAssertEqual($0 as? Boom, Boom(item: 500)) }
        XCTAssertLessThan(processed.value, 10_000, "no batch is handed out once one failed")
    }

    func testBackgroundTaskReturnsItsResultOrRethrows() throws {
        let task = BackgroundTask { (1...1_000).reduce(0, +) }
        XCTAssertEqual(try task.wait(), 500_500)
        XCTAssertEqual(try task.wait(), 500_500, "waiting again returns the same result")
        let failing = BackgroundTask<Int> { throw Boom(item: 9) }
        XCTAssertThrowsError(try failing.wait()) { XCTAssertEqual($0 as? Boom, Boom(item: 9)) }
    }

    func testWorkerRangesCoverEveryItemOnce() {
        for count in [0, 1, 7, 64, 1_000] {
            for workers in 1...5 {
                let ranges = (0..<workers).map { workerRange($0, of: workers, count: count) }
                XCTAssertEqual(ranges.flatMap { Array($0) }, Array(0..<count))
                XCTAssertLessThanOrEqual((ranges.map(\.count).max() ?? 0) - (ranges.map(\.count).min() ?? 0), 1)
            }
        }
    }
}

/// A thread-safe counter for the tests.
private final class Counter: @unchecked Sendable {
    // @unchecked: `count` is read and written only under `lock`.
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// Marks items seen; each item is marked by the one participant that took it (a double hand-out shows as a 2).
private final class SeenBox: @unchecked Sendable {
    // @unchecked: the test checks that no two participants ever write the same slot.
    let seen: UnsafeMutableBufferPointer<Int>
    init(_ seen: UnsafeMutableBufferPointer<Int>) { self.seen = seen }
    func mark(_ i: Int) { seen[i] += 1 }
}
