import Foundation
import Ledger
import SignedNote
import Sodium
import XCTest

/// `ledger receipt`, `ledger verify-receipt`, `ledger export --receipts` and `verify-bundle --policy`, each checked
/// against the independent Python verifier (tools/verify_bundle.py --receipt / --policy), which verifies the
/// witnesses' cosignatures with `cryptography` over the exact cosignature/v1 message.
final class ReceiptCLITests: CLITestCase {
    private var verifierKeyPath: String { ledgerDir.appendingPathComponent("verifier.key").path }

    private func python(_ args: [String]) throws -> CLIResult {
        let script = LedgerBinary.packageRoot.appendingPathComponent("tools/verify_bundle.py").path
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script] + args,
                              environment: baseEnvironment(), scratch: temp)
    }

    /// A ledger of `count` entries of matter M-1 and a stored checkpoint over them.
    private func checkpointedLedger(_ count: Int = 5) throws {
        try initLedger()
        for i in 0..<count {
            try appendRecord(#"{"matter":"M-1","author":"J. Rivera","channel":"phone","direction":"outbound","#
                             + #""occurredAt":"2026-03-0\#(i + 1)T10:00:00Z","summary":"call \#(i)"}"#)
        }
        XCTAssertEqual(try ledgerWithKey(["checkpoint"]).status, 0)
    }

    /// `ledger receipt SEQ -o FILE`, with no key at all.
    private func receipt(_ seq: Int, expect status: Int32 = 0, file: StaticString = #filePath,
                         line: UInt = #line) throws -> (path: String, result: CLIResult) {
        let path = temp.appendingPathComponent("\(seq)-\(UUID().uuidString).tlog-proof").path
        let r = try ledger(["receipt", String(seq), "--ledger", ledgerDir.path, "-o", path])
        XCTAssertEqual(r.status, status, r.summary, file: file, line: line)
        return (path, r)
    }

    /// Both verifiers on one receipt; asserts they agree on `status`.
    @discardableResult
    private func verifyReceiptBoth(_ path: String, _ extra: [String] = ["--verifier-key"], expect status: Int32,
                                   _ what: String = "", file: StaticString = #filePath,
                                   line: UInt = #line) throws -> (swift: CLIResult, python: CLIResult) {
        let args = extra == ["--verifier-key"] ? ["--verifier-key", verifierKeyPath] : extra
        let s = try ledger(["verify-receipt", path, "--json"] + args)
        let p = try python(["--receipt", path, "--json"] + args)
        XCTAssertEqual(s.status, status, "\(what) ledger verify-receipt: " + s.summary, file: file, line: line)
        XCTAssertEqual(p.status, status, "\(what) verify_bundle.py --receipt: " + p.summary, file: file, line: line)
        return (s, p)
    }

    @discardableResult
    private func verifyBundleBoth(_ bundle: String, _ extra: [String], expect status: Int32,
                                  file: StaticString = #filePath,
                                  line: UInt = #line) throws -> (swift: CLIResult, python: CLIResult) {
        let s = try ledger(["verify-bundle", bundle, "--json"] + extra)
        let p = try python([bundle, "--json"] + extra)
        XCTAssertEqual(s.status, status, "ledger verify-bundle: " + s.summary, file: file, line: line)
        XCTAssertEqual(p.status, status, "verify_bundle.py: " + p.summary, file: file, line: line)
        return (s, p)
    }

    private func checks(_ r: CLIResult) throws -> Set<String> {
        guard let line = r.stdoutLines.first else { return [] }
        return Set((try jsonObject(line)["violations"] as? [[String: Any]] ?? []).compactMap { $0["check"] as? String })
    }

    /// The witnesses' cosignatures added to the newest stored checkpoint through the engine, as
    /// `ledger checkpoint --witness` would store them.
    private func cosignStoredCheckpoint(_ cosigners: [Cosigner],
                                        extra: (String) -> [NoteSignature] = { _ in [] }) throws {
        let ledger = try Ledger.open(at: ledgerDir.path)
        defer { ledger.close() }
        try ledger.unlock(with: .keyFile(path: keyFile.path))
        let (size, note) = try XCTUnwrap(try ledger.latestStoredCheckpoint())
        let body = try SignedNoteText(parsing: note).text
        try ledger.addCosignatures(cosigners.map { $0.cosign(checkpointBody: body, timestamp: 1_764_800_000) }
                                   + extra(body), size: size)
    }

    // MARK: - ledger receipt / verify-receipt

    func testReceiptsForFirstMiddleAndLastEntryVerifyInBothVerifiers() throws {
        try checkpointedLedger(5)
        for seq in [0, 2, 4] {
            let (path, _) = try receipt(seq)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertTrue(text.hasPrefix("c2sp.org/tlog-proof@v1\nextra "), text)
            XCTAssertTrue(text.contains("\nindex \(seq)\n"), text)
            let (s, p) = try verifyReceiptBoth(path, expect: 0)
            let (sj, pj) = (try jsonObject(s.stdout), try jsonObject(p.stdout))
            for name in ["index", "treeSize", "root", "origin", "recordHash", "leafSource", "leafVersion"] {
                XCTAssertEqual(sj[name] as? NSObject, pj[name] as? NSObject, "\(name): \(s.stdout) \(p.stdout)")
            }
            XCTAssertEqual(sj["index"] as? Int, seq)
        }
        // stdout without -o
        let r = try ledger(["receipt", "3", "--ledger", ledgerDir.path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.hasPrefix("c2sp.org/tlog-proof@v1\n"))
    }

    func testAReceiptNeedsAStoredCheckpointCoveringTheEntry() throws {
        try initLedger()
        try appendRecord(#"{"matter":"M-1","author":"a","channel":"phone","direction":"outbound","#
                         + #""occurredAt":"2026-03-01T10:00:00Z"}"#)
        let none = try receipt(0, expect: 69).result
        XCTAssertTrue(none.stderr.contains("ledger checkpoint --witness"), none.summary)
        XCTAssertEqual(try ledgerWithKey(["checkpoint"]).status, 0)
        try appendRecord(#"{"matter":"M-1","author":"a","channel":"phone","direction":"outbound","#
                         + #""occurredAt":"2026-03-02T10:00:00Z"}"#)
        let beyond = try receipt(1, expect: 69).result
        XCTAssertTrue(beyond.stderr.contains("not covered by the newest stored checkpoint"), beyond.summary)
        _ = try receipt(7, expect: 66)
    }

    /// Index line, a proof hash, the extra leaf, the checkpoint body and the signature, each changed: both refuse.
    func testEveryTamperedByteClassIsRejectedByBothVerifiers() throws {
        try checkpointedLedger(6)
        let (path, _) = try receipt(3)
        let lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        let indexLine = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("index ") })
        let blank = try XCTUnwrap(lines.firstIndex(of: ""))
        func flip(_ line: String, at offset: Int) -> String {
            var chars = Array(line)
            chars[offset] = chars[offset] == "A" ? "B" : "A"
            return String(chars)
        }
        let cases: [(String, Int, (String) -> String)] = [
            ("index line", indexLine, { _ in "index 2" }),
            ("proof hash", indexLine + 1, { flip($0, at: 5) }),
            ("extra leaf", 1, { flip($0, at: 30) }),
            ("checkpoint size", blank + 2, { _ in "7" }),
            ("checkpoint root", blank + 3, { flip($0, at: 3) }),
            ("signature", blank + 5, { flip($0, at: $0.count - 8) }),
        ]
        for (what, index, change) in cases {
            var tampered = lines
            tampered[index] = change(tampered[index])
            let file = try write("tampered-\(index).tlog-proof", tampered.joined(separator: "\n"))
            try verifyReceiptBoth(file, expect: 1, what)
            XCTAssertEqual(try notecheck(["receipt", verifierKeyPath, file]).status, 1, what)
        }
    }

    func testAGivenLeafFromTheBundleLine() throws {
        try checkpointedLedger(3)
        let (path, _) = try receipt(1)
        let lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        let leaf = try write("leaf.b64", String(lines[1].dropFirst("extra ".count)) + "\n")
        try verifyReceiptBoth(path, ["--verifier-key", verifierKeyPath, "--leaf", leaf], expect: 0)
        let other = try receipt(2).path
        let otherLeaf = try write("other.b64", String(try String(contentsOfFile: other, encoding: .utf8)
            .components(separatedBy: "\n")[1].dropFirst("extra ".count)))
        try verifyReceiptBoth(path, ["--verifier-key", verifierKeyPath, "--leaf", otherLeaf], expect: 1)
    }

    // MARK: - export --receipts

    /// --receipts (and --witnessed) need a stored checkpoint: refused (77) before the read is recorded.
    func testExportWithReceiptsNeedsAStoredCheckpoint() throws {
        try initLedger()
        try appendRecord(#"{"matter":"M-1","author":"a","channel":"phone","direction":"outbound","#
                         + #""occurredAt":"2026-03-01T10:00:00Z"}"#)
        let before = try ledgerSnapshot()
        for flag in ["--receipts", "--witnessed"] {
            let out = temp.appendingPathComponent("b\(flag).zip").path
            let r = try ledgerWithKey(["export", "--matter", "M-1", flag, "-o", out])
            XCTAssertEqual(r.status, 77, r.summary)
            XCTAssertTrue(r.stderr.contains("ledger checkpoint"), r.summary)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
        try assertUnchanged(before, "a refused export records nothing")
    }

    func testExportWithReceiptsVerifiesInBothAndATamperedReceiptFailsBoth() throws {
        try checkpointedLedger(4)
        let bundle = temp.appendingPathComponent("bundle.zip").path
        let r = try ledgerWithKey(["export", "--matter", "M-1", "--receipts", "-o", bundle])
        XCTAssertEqual(r.status, 0, r.summary)
        let (s, p) = try verifyBundleBoth(bundle, ["--verifier-key", verifierKeyPath], expect: 0)
        XCTAssertEqual(try jsonObject(s.stdout)["receipts"] as? Int, 4)
        XCTAssertEqual(try jsonObject(p.stdout)["receipts"] as? Int, 4)
        XCTAssertEqual(try jsonObject(s.stdout)["treeSize"] as? Int, 4, "the stored checkpoint, not a fresh one")

        let tampered = temp.appendingPathComponent("tampered.zip").path
        try rewriteMember(bundle, to: tampered, member: "receipts/2.tlog-proof") { text in
            text.replacingOccurrences(of: "\nindex 2\n", with: "\nindex 1\n")
        }
        let (ts, tp) = try verifyBundleBoth(tampered, ["--verifier-key", verifierKeyPath], expect: 1)
        XCTAssertTrue(try checks(ts).contains("receipt"), ts.summary)
        XCTAssertTrue(try checks(tp).contains("receipt"), tp.summary)
        XCTAssertTrue(ts.stdout.contains("receipts/2.tlog-proof"), ts.summary)
        XCTAssertTrue(tp.stdout.contains("receipts/2.tlog-proof"), tp.summary)

        let missing = temp.appendingPathComponent("missing.zip").path
        try rewriteMember(bundle, to: missing, member: "receipts/1.tlog-proof", drop: true) { $0 }
        let (ms, mp) = try verifyBundleBoth(missing, ["--verifier-key", verifierKeyPath], expect: 1)
        XCTAssertTrue(try checks(ms).contains("receipt"), ms.summary)
        XCTAssertTrue(try checks(mp).contains("receipt"), mp.summary)
    }

    /// Copies a zip with one member changed (or dropped), in Python's zipfile (the manifest is left as it was).
    private func rewriteMember(_ source: String, to target: String, member: String, drop: Bool = false,
                               _ change: (String) -> String) throws {
        let extracted = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                       ["python3", "-c", "import sys,zipfile;sys.stdout.write(zipfile.ZipFile("
                                        + "sys.argv[1]).read(sys.argv[2]).decode())", source, member],
                                       environment: baseEnvironment(), scratch: temp)
        let replacement = try write("member-\(UUID().uuidString)", change(extracted.stdout))
        let script = """
            import sys, zipfile
            src, dst, name, repl, drop = sys.argv[1:6]
            with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:
                for info in z.infolist():
                    if info.filename == name:
                        if drop == "1":
                            continue
                        out.writestr(info, open(repl, "rb").read())
                    else:
                        out.writestr(info, z.read(info))
            """
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                               ["python3", "-c", script, source, target, member, replacement, drop ? "1" : "0"],
                               environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(r.status, 0, r.summary)
    }

    // MARK: - --policy

    func testPolicyQuorumMetNotMetAndAnInvalidCosignatureInBothVerifiers() throws {
        try checkpointedLedger(3)
        let w1 = try Cosigner(name: "w1.example", seed: SecretBytes(randomCount: 32))
        let w2 = try Cosigner(name: "w2.example", seed: SecretBytes(randomCount: 32))
        let w3 = try Cosigner(name: "w3.example", seed: SecretBytes(randomCount: 32))
        try cosignStoredCheckpoint([w1, w2])
        let bundle = temp.appendingPathComponent("bundle.zip").path
        XCTAssertEqual(try ledgerWithKey(["export", "--matter", "M-1", "--receipts", "-o", bundle]).status, 0)
        let key = try String(contentsOfFile: verifierKeyPath, encoding: .utf8).trimmingCharacters(in: .newlines)
        let witnesses = "# witnesses of the firm's log\nlog \(key)\nwitness W1 \(w1.publicKey.text)\n"
            + "witness W2 \(w2.publicKey.text)\nwitness W3 \(w3.publicKey.text)\n"
        let met = try write("met.policy", witnesses + "group X 2 W1 W2 W3\ngroup Q any X\nquorum Q\n")
        let notMet = try write("notmet.policy", witnesses + "group X all W1 W2 W3\nquorum X\n")

        // --policy alone pins the log key; with --verifier-key both must agree.
        let (s, p) = try verifyBundleBoth(bundle, ["--policy", met], expect: 0)
        for r in [s, p] {
            let policy = try XCTUnwrap(try jsonObject(r.stdout)["policy"] as? [String: Any], r.summary)
            XCTAssertEqual(policy["cosignedBy"] as? [String], ["W1", "W2"], r.summary)
            XCTAssertEqual(policy["missing"] as? [String], ["W3"], r.summary)
            XCTAssertEqual(policy["quorumMet"] as? Bool, true, r.summary)
        }
        try verifyBundleBoth(bundle, ["--policy", met, "--verifier-key", verifierKeyPath], expect: 0)
        let (ns, np) = try verifyBundleBoth(bundle, ["--policy", notMet], expect: 1)
        XCTAssertEqual(try checks(ns), ["policy"], ns.summary)
        XCTAssertEqual(try checks(np), ["policy"], np.summary)
        XCTAssertTrue(ns.stdout.contains("missing W3"), ns.summary)

        // A receipt from the bundle's ledger checks against the policy alone, in both; Go's note.Open and
        // tlog.CheckRecord accept it with the firm's key, the two cosignatures being other keys' lines to it.
        let (path, _) = try receipt(1)
        try verifyReceiptBoth(path, ["--policy", met], expect: 0)
        try verifyReceiptBoth(path, ["--policy", notMet], expect: 1)
        let go = try notecheck(["receipt", verifierKeyPath, path])
        XCTAssertEqual(go.status, 0, go.summary)
        XCTAssertTrue(go.stdout.contains("index=1 other-signatures=2"), go.summary)

        // A malformed policy (a log vkey whose key id does not match): a usage error in both.
        let other = try write("other.policy", "log other.example/log+00000000+AQ==\nquorum none\n")
        try verifyBundleBoth(bundle, ["--policy", other], expect: 64)

        // The firm's own key listed as a witness (type 0x04 over the same key) would let the firm witness itself:
        // refused by both, whichever line comes first.
        let firm = try NoteVerifierKey(text: key)
        let firmAsWitness = CosignerKey(name: "firm-as-witness", publicKey: firm.publicKey).text
        let selfWitness = try write("self.policy", "witness F \(firmAsWitness)\nlog \(key)\nquorum F\n")
        try verifyBundleBoth(bundle, ["--policy", selfWitness], expect: 64)
        // Two logs named by the origin: the one whose signature verifies is the log, in both.
        let impostor = try NoteSigner(name: firm.name, seed: SecretBytes(randomCount: 32)).verifierKey.text
        let twoLogs = try write("two.policy", "log \(impostor)\n" + witnesses + "group X 2 W1 W2 W3\nquorum X\n")
        try verifyBundleBoth(bundle, ["--policy", twoLogs], expect: 0)
    }

    func testAnInvalidCosignatureIsAViolationInBoth() throws {
        try checkpointedLedger(2)
        let w1 = try Cosigner(name: "w1.example", seed: SecretBytes(randomCount: 32))
        let w2 = try Cosigner(name: "w2.example", seed: SecretBytes(randomCount: 32))
        try cosignStoredCheckpoint([w2]) { body in
            var bad = w1.cosign(checkpointBody: body, timestamp: 1_764_800_000)
            var bytes = bad.signature
            bytes[40] ^= 0x01
            bad = NoteSignature(name: bad.name, keyHash: bad.keyHash, signature: bytes)
            return [bad]
        }
        let bundle = temp.appendingPathComponent("bundle.zip").path
        XCTAssertEqual(try ledgerWithKey(["export", "--matter", "M-1", "--witnessed", "-o", bundle]).status, 0)
        let key = try String(contentsOfFile: verifierKeyPath, encoding: .utf8).trimmingCharacters(in: .newlines)
        let policy = try write("p.policy", "log \(key)\nwitness W1 \(w1.publicKey.text)\n"
                               + "witness W2 \(w2.publicKey.text)\ngroup G any W1 W2\nquorum G\n")
        let (s, p) = try verifyBundleBoth(bundle, ["--policy", policy], expect: 1)
        XCTAssertEqual(try checks(s), ["cosignature"], s.summary)
        XCTAssertEqual(try checks(p), ["cosignature"], p.summary)
        XCTAssertTrue(s.stdout.contains("W1"), s.summary)
    }
}
