import Foundation
@testable import Ledger
import LedgerSupport
import XCTest

/// The LMDB file is hostile input: random damage anywhere in it must end in a report or a `LedgerError`, never a
/// crash, and damage to a page that holds data must never pass as intact. Seeded, so a failure repeats.
final class VerifyDamageFuzzTests: XCTestCase {
    func testRandomDamageIsReportedOrRefusedNeverACrash() throws {
        let t = try TestLedger()
        let records = try (0..<400).map { i in
            try validRecord(["sourceSystem": "pms", "sourceId": .string("fuzz-\(i)"),
                             "summary": .string("Call \(i) about the lease")],
                            matter: "M-\(i % 5)")
        }
        _ = try t.ledger.append(records)
        try t.ledger.signCheckpoint()
        // A compacted copy has no free pages: every page but the two meta pages belongs to the snapshot.
        let compacted = try t.ledger.backup(to: t.temp.file("compacted")).directory
        t.ledger.close()
        let clean = try Data(contentsOf: URL(fileURLWithPath: compacted + "/data.mdb"))
        let pageSize = 4096, pages = clean.count / pageSize
        var rng = SplitMix64(seed: 20261123)  // the same damage on every run
        var outcomes = (intact: 0, violations: 0, refused: 0)
        for round in 0..<120 {
            let copy = t.temp.file("round-\(round)")
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            var damaged = clean
            let page = Int.random(in: 2..<pages, using: &rng)
            let (offset, count) = Bool.random(using: &rng) ? (Int.random(in: 0..<pageSize), 1) : (0, pageSize)
            for i in offset..<(offset + count) {
                damaged[page * pageSize + i] ^= count == 1 ? UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                                                           : UInt8.random(in: 1...255, using: &rng)
            }
            try damaged.write(to: URL(fileURLWithPath: copy + "/data.mdb"))
            do {
                let ledger = try Ledger.open(at: copy, readOnly: true)
                defer { ledger.close() }
                let deep = round % 3 == 0
                if deep { try ledger.unlock(with: .keyFile(path: t.keyPath)) }
                let report = try ledger.verify(VerifyOptions(deep: deep))
                if report.isIntact {
                    outcomes.intact += 1
                    // only bytes that no reader sees (the free space inside a page, header padding) may change
                    // unnoticed: a whole page of garbage is never one
                    XCTAssertEqual(count, 1, "round \(round): a garbage page \(page) passed as intact")
                } else {
                    outcomes.violations += 1
                }
            } catch is LedgerError {
                outcomes.refused += 1
            }
        }
        XCTAssertGreaterThan(outcomes.violations, 10, "\(outcomes)")
        XCTAssertGreaterThan(outcomes.refused, 10, "\(outcomes)")
    }
}
