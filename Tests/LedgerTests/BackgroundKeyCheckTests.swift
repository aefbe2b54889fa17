import Foundation
import LMDB
@testable import Ledger
import LedgerFormat
import XCTest

/// Deep verify's key check on a thread of its own (Verify/KeyCheck.swift): it finds what the check in verify's own
/// transaction finds, and its findings are not used when it read another snapshot.
final class BackgroundKeyCheckTests: XCTestCase {
    func testFindsWhatTheCheckInVerifysTransactionFinds() throws {
        let t = try TestLedger()
        for matter in ["A", "B", "C"] { _ = try t.ledger.append(try validRecord(matter: matter)) }
        t.ledger.close()
        try RawLedger.flipPublicKey(ofKeyPair: 1, in: t.directory)  // key 1 is A's key pair
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        try ledger.unlock(with: .keyFile(path: t.keyPath))
        let ring = try ledger.requireKeys()
        let check = BackgroundKeyCheck(ledger, ring: ring)
        defer { check.cancel() }
        let (snapshot, inline) = try ledger.store.environment.read { txn in
            (txn.snapshotID, try ledger.keyProblems(txn, ring: ring))
        }
        XCTAssertEqual(inline, ["key pair 1: the public key is not its private key's"])
        XCTAssertEqual(try check.finish(snapshot: snapshot), inline)
        let deep = try ledger.verify(VerifyOptions(deep: true))
        XCTAssertEqual(deep.violations.filter { $0.kind == .matterKey }.map(\.detail), inline)
    }

    func testFindingsOfAnotherSnapshotAreNotUsed() throws {
        let t = try TestLedger()
        _ = try t.ledger.append(try validRecord(matter: "A"))
        let check = BackgroundKeyCheck(t.ledger, ring: try t.ledger.requireKeys())
        defer { check.cancel() }
        let before = try t.ledger.store.environment.read { $0.snapshotID }
        XCTAssertEqual(try check.finish(snapshot: before), [])
        _ = try t.ledger.append(try validRecord(matter: "B"))
        let after = try t.ledger.store.environment.read { $0.snapshotID }
        XCTAssertNotEqual(before, after)
        XCTAssertNil(try check.finish(snapshot: after), "a check of another snapshot is done again")
        XCTAssertTrue(try t.ledger.verify(VerifyOptions(deep: true)).isIntact)
    }
}
