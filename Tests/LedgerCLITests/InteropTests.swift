import Foundation
import XCTest

/// Checks `ledger checkpoint` notes with Go's golang.org/x/mod/sumdb/note (tools/interop/notecheck):
/// software written without our code accepts our checkpoints and rejects tampered ones.
final class InteropTests: CLITestCase {
    /// A ledger with `entries` entries and its checkpoint written to a file.
    private func checkpointedLedger(entries: Int) throws -> (note: PrintedNote, path: String) {
        try initLedger()
        for i in 0..<entries { try appendRecord(Sample.record(subject: "entry \(i)")) }
        let r = try ledgerWithKey(["checkpoint"])
        XCTAssertEqual(r.status, 0, r.summary)
        return (try PrintedNote(r.stdout), try write("checkpoint.txt", r.stdoutBytes))
    }

    private var verifierKeyPath: String { ledgerDir.appendingPathComponent("verifier.key").path }

    func testGoAcceptsLedgerCheckpoint() throws {
        _ = try notecheckBinary()
        let (note, path) = try checkpointedLedger(entries: 3)
        let r = try notecheck(["note", verifierKeyPath, path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "ok origin=\(Self.origin) size=3 root=\(note.root.base64EncodedString())\n")
        // The short form is the same mode.
        XCTAssertEqual(try notecheck([verifierKeyPath, path]).stdout, r.stdout)
    }

    func testGoAcceptsEmptyLedgerCheckpoint() throws {
        _ = try notecheckBinary()
        let (_, path) = try checkpointedLedger(entries: 0)
        let r = try notecheck(["note", verifierKeyPath, path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.contains(" size=0 "), r.summary)
    }

    func testGoRejectsFlippedSignatureByte() throws {
        _ = try notecheckBinary()
        let (_, path) = try checkpointedLedger(entries: 2)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let prefix = "\u{2014} \(Self.origin) "
        XCTAssertTrue(lines[4].hasPrefix(prefix), lines[4])
        var signature = try XCTUnwrap(Data(base64Encoded: String(lines[4].dropFirst(prefix.count))))
        signature[20] ^= 0x01  // a byte of the Ed25519 signature, after the 4-byte key id
        lines[4] = prefix + signature.base64EncodedString()
        let tampered = try write("tampered.txt", lines.joined(separator: "\n"))
        let r = try notecheck(["note", verifierKeyPath, tampered])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stdout.isEmpty, r.summary)
        XCTAssertTrue(r.stderr.contains("invalid signature"), r.summary)
    }

    func testGoRejectsEditedBody() throws {
        _ = try notecheckBinary()
        let (_, path) = try checkpointedLedger(entries: 2)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let edited = try write("edited.txt", text.replacingOccurrences(of: "\n2\n", with: "\n3\n"))
        let r = try notecheck(["note", verifierKeyPath, edited])
        XCTAssertEqual(r.status, 1, r.summary)
    }

    func testGoRejectsAnotherLedgersVerifierKey() throws {
        _ = try notecheckBinary()
        let (_, path) = try checkpointedLedger(entries: 1)
        // Same origin, different signing key: Go must not accept the note under the other key.
        let otherDir = temp.appendingPathComponent("other")
        let made = try ledger(["init", "--ledger", otherDir.path, "--origin", Self.origin,
                               "--key-file", temp.appendingPathComponent("keys/other.key").path])
        XCTAssertEqual(made.status, 0, made.summary)
        let r = try notecheck(["note", otherDir.appendingPathComponent("verifier.key").path, path])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stdout.isEmpty, r.summary)
    }
}
