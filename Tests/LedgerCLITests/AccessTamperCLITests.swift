import Foundation
import LMDB
import XCTest

/// Grant and access entries and the stored grants, altered in the LMDB file: `ledger verify` (keyless) exits 1 and
/// names the check; the clean case verifies (docs/ACCESS.md, "What verify checks").
final class AccessTamperCLITests: CLITestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initLedger()
        for matter in ["A-1", "B-2"] {
            try appendRecord(Sample.record(matter: matter, subject: "about \(matter)"))
        }
    }

    func testCleanLedgerWithGrantsAndReadsVerifies() throws {
        let grantSeq = try grantReader()
        XCTAssertEqual(grantSeq, 2)
        XCTAssertEqual(try reader(["show", "0"]).status, 0)
        let r = try verifyJSON()
        XCTAssertEqual(r.status, 0, r.summary)
    }

    func testAlteredGrantEntryFailsVerify() throws {
        let seq = try grantReader()
        XCTAssertEqual(try ledgerWithKey(["checkpoint"]).status, 0)
        try replaceInEntry(seq: seq, "\"reader\"", with: "\"seader\"")
        let r = try verifyJSON()
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(try classes(r).isSuperset(of: ["access-event", "tree-hash", "checkpoint-root"]), r.summary)
    }

    func testReadRecordedUnderAnUngrantedNameFailsVerifyAndTheReport() throws {
        _ = try grantReader()
        XCTAssertEqual(try reader(["show", "0"]).status, 0)
        let log = try ledgerWithKey(["access", "log", "--json"])
        let read = try XCTUnwrap(log.stdoutLines.last.map { try jsonObject($0) })
        XCTAssertEqual(read["credential"] as? String, "p.jones")
        let seq = try XCTUnwrap(read["seq"] as? Int)
        try replaceInEntry(seq: seq, "\"p.jones\"", with: "\"q.jones\"")  // a read by a name never granted
        let r = try verifyJSON()
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(try classes(r).contains("access-without-grant"), r.summary)
        let report = try ledgerWithKey(["report", "--format", "json", "--fail-on-breach"])
        XCTAssertEqual(report.status, 1, report.summary)
        let access = try XCTUnwrap(try jsonObject(report.stdout)["access"] as? [String: Any], report.summary)
        let flagged = try XCTUnwrap(access["readsWithoutGrant"] as? [[String: Any]])
        XCTAssertEqual(flagged.map { $0["credential"] as? String }, ["q.jones"])
    }

    func testGrantRemovedFromTheAccessDatabaseFailsVerify() throws {
        _ = try grantReader()
        XCTAssertEqual(try verifyJSON().status, 0)
        try editRaw { txn, access, _, _ in
            XCTAssertTrue(try txn.delete(access, key: Array("cp.jones".utf8)))
        }
        let r = try verifyJSON()
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(try classes(r), ["access-registry"], r.summary)
    }

    func testEventIndexRowRemovedOrAddedFailsVerify() throws {
        let seq = try grantReader()
        let key = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(seq) >> (56 - 8 * $0)) }
        try editEvents { txn, events in XCTAssertTrue(try txn.delete(events, key: key)) }
        var r = try verifyJSON()
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(try classes(r), ["event-index"], r.summary)
        try editEvents { txn, events in
            try txn.put(events, key: key, value: [])
            try txn.put(events, key: [0, 0, 0, 0, 0, 0, 0, 1], value: [])  // a record, listed as an event
        }
        r = try verifyJSON()
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(try classes(r), ["event-index"], r.summary)
    }

    // MARK: - Helpers

    private func editEvents(_ body: (WriteTransaction, Database) throws -> Void) throws {
        let env = try Environment(path: ledgerDir.path, maxDatabases: 16, mapSize: 1 << 30)
        defer { env.close() }
        let events = try env.openDatabase("events")
        try env.write { try body($0, events) }
    }


    @discardableResult
    private func grantReader() throws -> Int {
        let r = try ledgerWithKey(["grant", "p.jones", "--role", "reader", "--matter", "A-1",
                                   "-o", temp.appendingPathComponent("p.jones.cred").path])
        XCTAssertEqual(r.status, 0, r.summary)
        return try XCTUnwrap(Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), r.summary)
    }

    private func reader(_ arguments: [String]) throws -> CLIResult {
        try ledger(arguments + ["--ledger", ledgerDir.path,
                                "--credential", temp.appendingPathComponent("p.jones.cred").path])
    }

    private func verifyJSON() throws -> CLIResult {
        try ledger(["verify", "--ledger", ledgerDir.path, "--json"])
    }

    private func classes(_ r: CLIResult) throws -> Set<String> {
        let violations = try jsonObject(r.stdout)["violations"] as? [[String: Any]] ?? []
        return Set(violations.compactMap { $0["class"] as? String })
    }

    /// Replaces `old` with `new` (same length) inside the stored value of entry `seq`.
    private func replaceInEntry(seq: Int, _ old: String, with new: String) throws {
        let (needle, replacement) = (Array(old.utf8), Array(new.utf8))
        precondition(needle.count == replacement.count)
        try editRaw { txn, _, entries, grouped in
            try txn.editStoredEntry(entries, seq: UInt64(seq), grouped: grouped) { value in
                let at = try XCTUnwrap((0...(value.count - needle.count)).first {
                    Array(value[$0..<($0 + needle.count)]) == needle
                }, "entry \(seq) does not contain \(old)")
                value.replaceSubrange(at..<(at + needle.count), with: replacement)
            }
        }
    }

    private func editRaw(_ body: (WriteTransaction, Database, Database, Bool) throws -> Void) throws {
        let env = try Environment(path: ledgerDir.path, maxDatabases: 16, mapSize: 1 << 30)
        defer { env.close() }
        let access = try env.openDatabase("access"), entries = try env.openDatabase("entries")
        let meta = try env.openDatabase("meta")
        try env.write { try body($0, access, entries, try $0.storesEntryGroups(meta)) }
    }
}
