import Foundation
import XCTest

/// A parsed `ledger checkpoint` note.
struct PrintedNote {
    let origin: String
    let size: Int
    let root: Data
    let signatureName: String
    let signature: Data

    /// Parses and checks the shape: body (origin, size, root), blank line, one `— <name> <base64>` line.
    init(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(text.hasSuffix("\n"), "a note ends with a newline", file: file, line: line)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // origin, size, root, "", signature, "" (after the final newline)
        XCTAssertEqual(lines.count, 6, "note: \(text)", file: file, line: line)
        guard lines.count == 6 else { throw CLIError(description: "unexpected note shape") }
        origin = lines[0]
        size = try XCTUnwrap(Int(lines[1]), "size line: \(lines[1])", file: file, line: line)
        XCTAssertEqual(String(size), lines[1], "size must be canonical decimal", file: file, line: line)
        root = try XCTUnwrap(Data(base64Encoded: lines[2]), "root line: \(lines[2])", file: file, line: line)
        XCTAssertEqual(root.count, 32, file: file, line: line)
        XCTAssertEqual(lines[3], "", file: file, line: line)
        let sig = lines[4]
        XCTAssertTrue(sig.hasPrefix("\u{2014} "), "signature line starts with an em dash: \(sig)",
                      file: file, line: line)
        let parts = sig.dropFirst(2).split(separator: " ").map(String.init)
        XCTAssertEqual(parts.count, 2, sig, file: file, line: line)
        signatureName = parts.first ?? ""
        signature = try XCTUnwrap(Data(base64Encoded: parts.last ?? ""), sig, file: file, line: line)
        XCTAssertEqual(signature.count, 4 + 64, "4-byte key id + Ed25519 signature", file: file, line: line)
        XCTAssertEqual(lines[5], "", file: file, line: line)
    }
}

final class CheckpointTests: CLITestCase {
    func testCheckpointOfEmptyLedger() throws {
        try initLedger()
        let r = try ledgerWithKey(["checkpoint"])
        XCTAssertEqual(r.status, 0, r.summary)
        let note = try PrintedNote(r.stdout)
        XCTAssertEqual(note.origin, Self.origin)
        XCTAssertEqual(note.size, 0)
        // RFC 6962: the hash of an empty tree is SHA-256 of the empty string.
        XCTAssertEqual(note.root.base64EncodedString(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        XCTAssertEqual(note.signatureName, Self.origin)
    }

    func testCheckpointCommitsToTheEntries() throws {
        let verifierKey = try initLedger()
        try appendRecord(Sample.record())
        let r = try ledgerWithKey(["checkpoint"])
        XCTAssertEqual(r.status, 0, r.summary)
        let one = try PrintedNote(r.stdout)
        XCTAssertEqual(one.size, 1)
        // A one-leaf tree's root is that leaf's hash, which `show` prints.
        let shown = try jsonObject(try ledgerWithKey(["show", "0", "--json"]).stdout)
        XCTAssertEqual(one.root.map { String(format: "%02x", $0) }.joined(), shown["leafHash"] as? String)
        // The signature's key id is the verifier key's.
        let keyID = verifierKey.split(separator: "+")[1]
        XCTAssertEqual(one.signature.prefix(4).map { String(format: "%02x", $0) }.joined(), String(keyID))

        try appendRecord(Sample.record(subject: "two"))
        try appendRecord(Sample.record(subject: "three"))
        let three = try PrintedNote(try ledgerWithKey(["checkpoint"]).stdout)
        XCTAssertEqual(three.size, 4, "three records and the access entry `show` recorded")
        XCTAssertNotEqual(three.root, one.root)
        // Signing again without new entries gives the same body (Ed25519 is deterministic: the same note).
        let again = try ledgerWithKey(["checkpoint"])
        XCTAssertEqual(try PrintedNote(again.stdout).root, three.root)
    }

    func testCheckpointKeyErrors() throws {
        try initLedger()
        let noKey = try ledger(["checkpoint", "--ledger", ledgerDir.path])
        XCTAssertEqual(noKey.status, 77, noKey.summary)
        XCTAssertTrue(noKey.stderr.contains("--key-file") && noKey.stderr.contains("LEDGER_KEY_FILE"), noKey.summary)
        XCTAssertTrue(noKey.stdout.isEmpty)

        let otherKey = temp.appendingPathComponent("keys/other.key")
        XCTAssertEqual(try ledger(["init", "--ledger", temp.appendingPathComponent("other").path,
                                   "--origin", Self.origin, "--key-file", otherKey.path]).status, 0)
        let wrong = try ledger(["checkpoint", "--ledger", ledgerDir.path, "--key-file", otherKey.path])
        XCTAssertEqual(wrong.status, 77, wrong.summary)
        XCTAssertTrue(wrong.stdout.isEmpty)

        let missing = try ledger(["checkpoint", "--ledger", temp.appendingPathComponent("none").path,
                                  "--key-file", keyFile.path])
        XCTAssertEqual(missing.status, 66, missing.summary)
    }
}

final class BenchCommandTests: CLITestCase {
    func testBenchJSON() throws {
        let scratch = temp.appendingPathComponent("bench")
        let r = try ledger(["bench", "--entries", "200", "--appends", "20", "--json", "--scratch", scratch.path])
        XCTAssertEqual(r.status, 0, r.summary)
        let object = try jsonObject(r.stdout)
        for key in ["importRecordsPerSecond", "durableAppendsPerSecond", "ledgerBytesPerEntry", "ledgerToInputRatio"] {
            let value = try XCTUnwrap(object[key] as? Double ?? (object[key] as? Int).map(Double.init),
                                      "\(key) missing: \(r.stdout)")
            XCTAssertGreaterThan(value, 0, "\(key): \(r.stdout)")
            XCTAssertTrue(value.isFinite, key)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path),
                       "the scratch directory is removed afterwards")
    }

    /// `--scale` imports a file of each size into a fresh ledger (here through the real `ledger import` process) and
    /// verifies it; the rates are only checked to be there (no timed assertions).
    func testBenchScaleEndToEndJSON() throws {
        let scratch = temp.appendingPathComponent("bench")
        let r = try ledger(["bench", "--scale", "150,300", "--end-to-end", "--json", "--scratch", scratch.path])
        XCTAssertEqual(r.status, 0, r.summary)
        let data = Data(r.stdout.utf8)
        let steps = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [[String: Any]], r.stdout)
        XCTAssertEqual(steps.map { $0["entries"] as? Int }, [150, 300])
        XCTAssertEqual(steps.map { $0["endToEnd"] as? Bool }, [true, true])
        XCTAssertEqual(steps[0]["importRateToFirst"] as? Double, 1)
        for step in steps {
            for key in ["importRecordsPerSecond", "importCPUMicrosecondsPerRecord", "verifyEntriesPerSecond",
                        "deepVerifyEntriesPerSecond", "ledgerToInputRatio", "verifyPeakRSSBytes"] {
                let value = try XCTUnwrap((step[key] as? NSNumber)?.doubleValue, "\(key) missing: \(r.stdout)")
                XCTAssertGreaterThan(value, 0, key)
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path), "the scratch directory is removed")
    }

    /// `--keep-scratch` with `--scale` keeps every size's file and ledger (they were removed as each size finished).
    func testBenchScaleKeepsEverySizesFilesWhenAsked() throws {
        let scratch = temp.appendingPathComponent("bench")
        let r = try ledger(["bench", "--scale", "120,140", "--keep-scratch", "--scratch", scratch.path])
        XCTAssertEqual(r.status, 0, r.summary)
        for size in [120, 140] {
            let records = try String(contentsOf: scratch.appendingPathComponent("records-\(size).jsonl"), encoding: .utf8)
            XCTAssertEqual(records.split(separator: "\n").count, size)
            let verify = try ledger(["verify", "--ledger", scratch.appendingPathComponent("ledger-\(size)").path])
            XCTAssertEqual(verify.status, 0, verify.summary)
            XCTAssertTrue(verify.stdout.contains("entries:      \(size)"), verify.stdout)
        }
    }

    func testBenchEndToEndAloneUsesEntriesAndScaleRejectsBadSizes() throws {
        let scratch = temp.appendingPathComponent("bench")
        let r = try ledger(["bench", "--entries", "120", "--end-to-end", "--scratch", scratch.path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.contains("120 entries: import"), r.stdout)
        XCTAssertTrue(r.stdout.contains("`ledger import` process"), r.stdout)
        for bad in ["0", "100,x", ""] {
            XCTAssertEqual(try ledger(["bench", "--scale", bad, "--scratch", scratch.path]).status, 64, bad)
        }
    }

    func testBenchRejectsNonPositiveCounts() throws {
        let r = try ledger(["bench", "--entries", "0", "--json",
                            "--scratch", temp.appendingPathComponent("bench").path])
        XCTAssertEqual(r.status, 64, r.summary)
    }
}
