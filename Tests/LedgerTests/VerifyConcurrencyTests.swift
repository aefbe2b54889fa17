import Foundation
import RecordFormats
import XCTest
@testable import Ledger

/// Verify reads one snapshot (with pread, beside LMDB's map) while other writers keep appending: LMDB must not
/// reuse a page of that snapshot, and verify must see exactly the entries of the moment it began.
final class VerifyConcurrencyTests: XCTestCase {
    func testVerifyWhileAnotherThreadAppends() throws {
        let t = try TestLedger()
        let base = try (0..<3_000).map { i in
            try validRecord(["sourceSystem": "pms", "sourceId": .string("base-\(i)")], matter: "M-\(i % 7)")
        }
        _ = try t.ledger.append(base)
        try t.ledger.signCheckpoint()
        let writer = BackgroundAppender(t.ledger, prefix: "live")
        writer.waitFor(batches: 3)
        let before = writer.batches
        var options = VerifyOptions(pinnedVerifierKey: t.ledger.storedVerifierKey)
        options.chunkSize = 64  // many chunks: the scan runs long beside the writer
        var reports = [VerifyReport]()
        for deep in [false, true, false] {
            options.deep = deep
            reports.append(try t.ledger.verify(options))
        }
        let during = writer.batches
        XCTAssertNil(writer.stop(), "the writer failed")
        XCTAssertGreaterThan(during, before, "the writer made no progress during the runs")
        for report in reports {
            XCTAssertTrue(report.isIntact, "\(report.violations)")
            XCTAssertGreaterThanOrEqual(report.entries, 3_000)
            XCTAssertEqual((report.entries - 3_000) % UInt64(BackgroundAppender.batchSize), 0,
                           "a run saw part of a batch")
            XCTAssertEqual(report.root, try t.ledger.rootHash(size: report.entries))
        }
        XCTAssertTrue(try t.ledger.verify(options).isIntact)
    }
}
