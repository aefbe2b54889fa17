import Foundation
@testable import Ledger
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium
import XCTest

/// A scratch directory removed when the test ends.
final class TempDir {
    let path: String

    init(_ name: String = "ledgertests") throws {
        let base = FileManager.default.temporaryDirectory.path
        path = (base as NSString).appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func write(_ name: String, _ text: String) throws -> String {
        let p = file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let p = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A fresh, unlocked, key-file ledger in its own temp dir (the key lives beside, not inside, the ledger).
final class TestLedger {
    let temp: TempDir
    let ledger: Ledger
    var directory: String { temp.file("ledger") }
    var keyPath: String { temp.file("master.key") }

    init(origin: String = "test.invalid/ledger") throws {
        temp = try TempDir()
        ledger = try Ledger.create(at: temp.file("ledger"), origin: origin,
                                   masterKey: .keyFile(path: temp.file("master.key"), allowInsideLedger: false))
        try ledger.unlock(with: .keyFile(path: temp.file("master.key")))
    }

    /// Closes and re-opens the same ledger, unlocked.
    func reopen() throws -> Ledger {
        ledger.close()
        let reopened = try Ledger.open(at: directory)
        try reopened.unlock(with: .keyFile(path: keyPath))
        return reopened
    }

    deinit { ledger.close() }
}

/// A minimal valid record as a JSON object, with overrides (nil removes a field).
func recordJSON(_ overrides: [String: JSONValue?] = [:], matter: String = "M-1",
                occurredAt: String = "2026-03-01T14:30:00+01:00") -> JSONValue {
    var object = JSONObject([
        ("matter", .string(matter)),
        ("author", "a.okafor"),
        ("channel", "email"),
        ("direction", "outbound"),
        ("occurredAt", .string(occurredAt)),
    ])
    for (key, value) in overrides.sorted(by: { $0.key < $1.key }) {
        if let value { object.updateValue(value, forKey: key) } else { object.removeValue(forKey: key) }
    }
    return .object(object)
}

func validRecord(_ overrides: [String: JSONValue?] = [:], matter: String = "M-1",
                 occurredAt: String = "2026-03-01T14:30:00+01:00") throws -> ValidatedRecord {
    try RecordSchema.validate(recordJSON(overrides, matter: matter, occurredAt: occurredAt))
}

func jsonLine(_ value: JSONValue) -> String { JSONWriter.string(value) }

/// SHA-256 via libsodium (independent of the engine's swift-crypto Hash.sha256).
func sodiumSHA256(_ bytes: [UInt8]) -> [UInt8] { SHA256Sodium.hash(bytes) }

func fileDigest(_ path: String) throws -> [UInt8] {
    sodiumSHA256([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
}

/// Base64url without padding, via Foundation (independent of the engine's libsodium encoder).
func base64url(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// Asserts that `body` throws a LedgerError matching `match`; reports what was thrown otherwise.
func assertLedgerError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
                          _ match: (LedgerError) -> Bool) {
    do {
        _ = try body()
        XCTFail("expected a LedgerError, nothing was thrown", file: file, line: line)
    } catch let error as LedgerError {
        XCTAssertTrue(match(error), "unexpected LedgerError: \(error)", file: file, line: line)
    } catch {
        XCTFail("expected a LedgerError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}

/// The RecordErrors inside a thrown `LedgerError.invalidRecords`, or nil (with a failure) otherwise.
func invalidRecords<T>(_ body: @autoclosure () throws -> T,
                       file: StaticString = #filePath, line: UInt = #line) -> [RecordError]? {
    do {
        _ = try body()
        XCTFail("expected LedgerError.invalidRecords, nothing was thrown", file: file, line: line)
    } catch LedgerError.invalidRecords(let errors) {
        return errors
    } catch {
        XCTFail("expected LedgerError.invalidRecords, got \(error)", file: file, line: line)
    }
    return nil
}

/// Every decrypted entry of a ledger, in seq order.
func allEntries(_ ledger: Ledger, _ filter: EntryFilter = EntryFilter()) throws -> [LedgerEntry] {
    var out = [LedgerEntry]()
    try ledger.entries(matching: filter) { out.append($0) }
    return out
}

/// The stored leaf bytes of each entry (read straight from LMDB).
func storedLeaves(_ ledger: Ledger) throws -> [[UInt8]] {
    let size = try ledger.size()
    return try ledger.store.environment.read { txn in
        try (0..<size).map { seq in
            guard let entry = try txn.storedEntry(ledger.store, seq) else {
                throw LedgerError.corrupt("missing \(seq)")
            }
            return Array(entry.leaf)
        }
    }
}
