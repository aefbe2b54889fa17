import Foundation
import XCTest

/// Checks `ledger checkpoint` notes with Go's golang.org/x/mod/sumdb/note (tools/interop/notecheck):
/// software written without our code accepts our checkpoints and rejects tampered ones.
final class InteropTests: CLITestCase {
    /// notecheck, built once per test run by tools/interop/build.sh.
    private enum Notecheck {
        enum Outcome: Sendable {
            case built(URL)
            case goMissing(String)
            case failed(String)
        }

        static let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-notecheck-\(UUID().uuidString)")
        static let outcome: Outcome = build()

        private static func build() -> Outcome {
            let fm = FileManager.default
            do {
                try fm.createDirectory(at: directory, withIntermediateDirectories: true)
                let out = directory.appendingPathComponent("notecheck")
                let script = LedgerBinary.packageRoot.appendingPathComponent("tools/interop/build.sh")
                let r = try runProcess(URL(fileURLWithPath: "/bin/bash"), [script.path, out.path],
                                       environment: ProcessInfo.processInfo.environment, scratch: directory)
                switch r.status {
                case 0: return .built(out)
                case 69: return .goMissing(r.stderr)  // build.sh: go or the x/mod source is not installed
                default: return .failed(r.summary)
                }
            } catch {
                return .failed("cannot run tools/interop/build.sh: \(error)")
            }
        }
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: Notecheck.directory)
        super.tearDown()
    }

    /// The notecheck binary, or a skip (failure under CI) when Go is not installed.
    private func notecheck() throws -> URL {
        switch Notecheck.outcome {
        case .built(let url):
            return url
        case .goMissing(let message):
            let text = "Go or golang.org/x/mod is missing; run `bash tools/install-deps.sh` "
                + "(\(message.trimmingCharacters(in: .whitespacesAndNewlines)))"
            if ProcessInfo.processInfo.environment["CI"] != nil {
                XCTFail(text)
                throw CLIError(description: text)
            }
            throw XCTSkip(text)
        case .failed(let message):
            XCTFail("building notecheck failed: \(message)")
            throw CLIError(description: message)
        }
    }

    private func runNotecheck(_ arguments: [String]) throws -> CLIResult {
        try runProcess(try notecheck(), arguments, environment: baseEnvironment(), scratch: temp)
    }

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
        _ = try notecheck()
        let (note, path) = try checkpointedLedger(entries: 3)
        let r = try runNotecheck(["note", verifierKeyPath, path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "ok origin=\(Self.origin) size=3 root=\(note.root.base64EncodedString())\n")
        // The short form is the same mode.
        XCTAssertEqual(try runNotecheck([verifierKeyPath, path]).stdout, r.stdout)
    }

    func testGoAcceptsEmptyLedgerCheckpoint() throws {
        _ = try notecheck()
        let (_, path) = try checkpointedLedger(entries: 0)
        let r = try runNotecheck(["note", verifierKeyPath, path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.contains(" size=0 "), r.summary)
    }

    func testGoRejectsFlippedSignatureByte() throws {
        _ = try notecheck()
        let (_, path) = try checkpointedLedger(entries: 2)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let prefix = "\u{2014} \(Self.origin) "
        XCTAssertTrue(lines[4].hasPrefix(prefix), lines[4])
        var signature = try XCTUnwrap(Data(base64Encoded: String(lines[4].dropFirst(prefix.count))))
        signature[20] ^= 0x01  // a byte of the Ed25519 signature, after the 4-byte key id
        lines[4] = prefix + signature.base64EncodedString()
        let tampered = try write("tampered.txt", lines.joined(separator: "\n"))
        let r = try runNotecheck(["note", verifierKeyPath, tampered])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stdout.isEmpty, r.summary)
        XCTAssertTrue(r.stderr.contains("invalid signature"), r.summary)
    }

    func testGoRejectsEditedBody() throws {
        _ = try notecheck()
        let (_, path) = try checkpointedLedger(entries: 2)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let edited = try write("edited.txt", text.replacingOccurrences(of: "\n2\n", with: "\n3\n"))
        let r = try runNotecheck(["note", verifierKeyPath, edited])
        XCTAssertEqual(r.status, 1, r.summary)
    }

    func testGoRejectsAnotherLedgersVerifierKey() throws {
        _ = try notecheck()
        let (_, path) = try checkpointedLedger(entries: 1)
        // Same origin, different signing key: Go must not accept the note under the other key.
        let otherDir = temp.appendingPathComponent("other")
        let made = try ledger(["init", "--ledger", otherDir.path, "--origin", Self.origin,
                               "--key-file", temp.appendingPathComponent("keys/other.key").path])
        XCTAssertEqual(made.status, 0, made.summary)
        let r = try runNotecheck(["note", otherDir.appendingPathComponent("verifier.key").path, path])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stdout.isEmpty, r.summary)
    }
}
