import Foundation
import XCTest

/// Sealed bundles against Debian's `age` (a tool not ours): ours open with `age -d`, `age -r` output verifies with
/// `ledger verify-bundle --identity` and tools/verify_bundle.py, and keys cross over both ways. Skipped when `age`
/// is absent, failed under CI (tools/install-deps.sh installs it).
final class AgeInteropTests: CLITestCase {
    /// A value the insurer profile reveals: it is in the clear zip and must not be in the sealed file.
    private let revealedAuthor = "Revealed-Author-Q7Z"

    private func tool(_ name: String) throws -> URL {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
            let url = URL(fileURLWithPath: dir).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        let text = "`\(name)` is missing; run `bash tools/install-deps.sh` (Debian package age)"
        if ProcessInfo.processInfo.environment["CI"] != nil {
            XCTFail(text)
            throw CLIError(description: text)
        }
        throw XCTSkip(text)
    }

    private func run(_ name: String, _ arguments: [String], file: StaticString = #filePath,
                     line: UInt = #line) throws -> CLIResult {
        let r = try runProcess(try tool(name), arguments, environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(r.status, 0, "\(name): " + r.summary, file: file, line: line)
        return r
    }

    private func python(_ args: [String]) throws -> CLIResult {
        let script = LedgerBinary.packageRoot.appendingPathComponent("tools/verify_bundle.py").path
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script] + args,
                              environment: baseEnvironment(), scratch: temp)
    }

    private func path(_ name: String) -> String { temp.appendingPathComponent(name).path }

    private func populatedLedger() throws {
        try initLedger()
        try appendRecord(#"{"matter":"M-1","author":"\#(revealedAuthor)","channel":"email","direction":"outbound","#
                         + #""kind":"update","occurredAt":"2026-03-01T14:30:00Z","summary":"SECRET-SUMMARY"}"#)
        try appendRecord(#"{"matter":"M-1","author":"\#(revealedAuthor)","channel":"phone","direction":"inbound","#
                         + #""occurredAt":"2026-03-02T09:00:00Z","summary":"Another."}"#)
    }

    private func export(_ extra: [String], to name: String) throws -> String {
        let r = try ledgerWithKey(["export", "--matter", "M-1", "--reason", "interop test", "-o", path(name)] + extra)
        XCTAssertEqual(r.status, 0, r.summary)
        return path(name)
    }

    private func contains(_ file: String, _ text: String) throws -> Bool {
        try Data(contentsOf: URL(fileURLWithPath: file)).range(of: Data(text.utf8)) != nil
    }

    func testOurSealedBundleOpensWithAgeAndHidesRevealedValues() throws {
        try populatedLedger()
        let created = try ledger(["recipient", "new", "-o", path("insurer.key")])
        XCTAssertEqual(created.status, 0, created.summary)
        let mode = try FileManager.default.attributesOfItem(atPath: path("insurer.key"))[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        XCTAssertEqual(try ledger(["recipient", "new", "-o", path("insurer.key")]).status, 73)  // O_EXCL
        // Our key file is age-keygen's format: age-keygen -y derives the same public key we printed.
        let derived = try run("age-keygen", ["-y", path("insurer.key")])
        XCTAssertEqual(derived.stdout, created.stdout)

        let sealed = try export(["--to-recipient", path("insurer.key")], to: "bundle.zip.age")
        XCTAssertFalse(try contains(sealed, revealedAuthor), "a revealed value is in the sealed file")
        _ = try run("age", ["-d", "-i", path("insurer.key"), "-o", path("by-age.zip"), sealed])
        // The clear zip reveals the author (in report.html, deflated) and its disclosures (stored): neither is in
        // the sealed file.
        let members = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
            + "sys.stdout.buffer.write(b''.join(z.read(n) for n in z.namelist()))", path("by-age.zip")],
            environment: baseEnvironment(), scratch: temp).stdout
        XCTAssertTrue(members.contains(revealedAuthor), "the clear zip reveals the author")
        let disclosure = try XCTUnwrap(members.firstMatch(of: /"disclosures":\["([A-Za-z0-9_-]{20,})"/)?.1)
        XCTAssertTrue(try contains(path("by-age.zip"), String(disclosure)))
        XCTAssertFalse(try contains(sealed, String(disclosure)), "a disclosure is in the sealed file")
        XCTAssertEqual(try ledger(["verify-bundle", path("by-age.zip")]).status, 0)
        XCTAssertEqual(try ledger(["verify-bundle", "--identity", path("insurer.key"), sealed]).status, 0)
        XCTAssertEqual(try python(["--identity", path("insurer.key"), sealed]).status, 0)
        let report = try ledger(["report", "--bundle", sealed, "--identity", path("insurer.key")])
        XCTAssertEqual(report.status, 0, report.summary)
        // The Python decryptor gives byte for byte what age gives.
        let tools = LedgerBinary.packageRoot.appendingPathComponent("tools").path
        let script = "import sys; sys.path.insert(0, sys.argv[1]); import age_decrypt as a; "
            + "sys.stdout.buffer.write(a.decrypt(open(sys.argv[3], 'rb').read(), "
            + "a.parse_identities(open(sys.argv[2]).read())))"
        let py = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                ["python3", "-c", script, tools, path("insurer.key"), sealed],
                                environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(py.stdoutBytes, try Data(contentsOf: URL(fileURLWithPath: path("by-age.zip"))))
    }

    func testAgeSealedBundleVerifiesWithOursAndPython() throws {
        try populatedLedger()
        _ = try run("age-keygen", ["-o", path("theirs.key")])
        let recipient = try run("age-keygen", ["-y", path("theirs.key")]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let clear = try export([], to: "clear.zip")
        _ = try run("age", ["-r", recipient, "-o", path("theirs.zip.age"), clear])
        let ours = try ledger(["verify-bundle", "--identity", path("theirs.key"), path("theirs.zip.age")])
        XCTAssertEqual(ours.status, 0, ours.summary)
        let py = try python(["--identity", path("theirs.key"), path("theirs.zip.age")])
        XCTAssertEqual(py.status, 0, py.summary)
        // An age-keygen identity file works as --to-recipient (its '# public key:' line), and a bare age1 line too.
        let sealed = try export(["--to-recipient", path("theirs.key")], to: "to-theirs.zip.age")
        _ = try run("age", ["-d", "-i", path("theirs.key"), "-o", path("opened.zip"), sealed])
        XCTAssertEqual(try ledger(["verify-bundle", path("opened.zip")]).status, 0)
        try write("theirs.pub", recipient + "\n")
        let bare = try export(["--to-recipient", path("theirs.pub")], to: "bare.zip.age")
        XCTAssertEqual(try ledger(["verify-bundle", "--identity", path("theirs.key"), bare]).status, 0)
    }

    func testTamperedOrForeignSealedBundlesAreRefusedByBoth() throws {
        try populatedLedger()
        _ = try run("age-keygen", ["-o", path("k.key")])
        _ = try run("age-keygen", ["-o", path("other.key")])
        let sealed = try export(["--to-recipient", path("k.key")], to: "b.zip.age")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: sealed))
        bytes[bytes.count - 50] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path("tampered.zip.age")))
        for (bundle, key, status) in [("tampered.zip.age", "k.key", Int32(1)), ("b.zip.age", "other.key", 77)] {
            let ours = try ledger(["verify-bundle", "--identity", path(key), path(bundle)])
            XCTAssertEqual(ours.status, status, ours.summary)
            let py = try python(["--identity", path(key), path(bundle)])
            XCTAssertEqual(py.status, status, py.summary)
        }
        XCTAssertEqual(try ledgerWithKey(["export", "--matter", "M-1", "--reason", "t", "--to-recipient",
                                          path("k.key"), "-o", path("no-suffix.zip")]).status, 64)
    }

    /// tools/age_decrypt.py on a header of the C2SP/CCTV age vectors (x25519, identity and file key "YELLOW
    /// SUBMARINE" given there; payload "age" rebuilt from the file key), and its lowercase-type variant (no match).
    func testPythonDecryptorOnCCTVHeaders() throws {
        let script = """
            import hashlib, sys
            sys.path.insert(0, sys.argv[1])
            import age_decrypt as a
            from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
            hdr = (b"age-encryption.org/v1\\n-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\\n"
                   b"EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\\n--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\\n")
            fk, nonce = bytes.fromhex("59454c4c4f57205355424d4152494e45"), b"\\x11" * 16
            body = ChaCha20Poly1305(a.hkdf(fk, nonce, b"payload")).encrypt(b"\\0" * 11 + b"\\x01", b"age", None)
            ids = a.parse_identities("AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6")
            print(hashlib.sha256(a.decrypt(hdr + nonce + body, ids)).hexdigest())
            try:
                a.decrypt(hdr.replace(b"-> X25519", b"-> x25519") + nonce + body, ids)
            except a.AgeNoMatch:
                print("no match")
            """
        let tools = LedgerBinary.packageRoot.appendingPathComponent("tools").path
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, tools],
                               environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(r.stdout, "013f54400c82da08037759ada907a8b864e97de81c088a182062c4b5622fd2ab\nno match\n",
                       r.summary)
    }
}
