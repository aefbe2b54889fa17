import Foundation
import MerkleLog
import XCTest

/// Throughput numbers, only with MERKLELOG_BENCH=1 (meant for `swift test -c release`).
final class BenchTests: XCTestCase {
    func testThroughput() throws {
        guard ProcessInfo.processInfo.environment["MERKLELOG_BENCH"] == "1" else {
            throw XCTSkip("set MERKLELOG_BENCH=1 (and use -c release) to measure")
        }
        let leaf = [UInt8](repeating: 0x5a, count: 300)
        func rate(_ label: String, _ count: Int, _ body: () -> Void) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print("bench \(label): \(Int(Double(count) / seconds)) /s")
        }
        let n = 1_000_000
        var h = Hash.zero
        rate("nodeHash", n) { for _ in 0..<n { h = nodeHash(h, h) } }
        rate("recordHash(300 B)", n) { for _ in 0..<n { h = leaf.withUnsafeBytes { recordHash($0) } } }
        var builder = TreeBuilder()
        var sink: Int64 = 0
        rate("TreeBuilder.append + emit", n) {
            for _ in 0..<n { builder.append(h) { i, _ in sink &+= i } }
        }
        XCTAssertEqual(builder.size, Int64(n))
        XCTAssertNotEqual(sink, 0)
        XCTAssertNotEqual(h, .zero)
    }
}
