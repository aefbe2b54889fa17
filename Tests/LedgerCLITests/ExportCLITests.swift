import Foundation
import XCTest

/// `ledger export` / `ledger verify-bundle`, checked against the independent Python verifier
/// (tools/verify_bundle.py) and Go's tlog.CheckRecord (tools/interop/notecheck bundle).
final class ExportCLITests: CLITestCase {
    // MARK: - Helpers

    private var verifierKeyPath: String { ledgerDir.appendingPathComponent("verifier.key").path }

    /// Secrets that must never appear in a bundle exported with the insurer profile.
    private let secrets = ["Acme Holdings", "CONFIDENTIAL-SUBJECT", "landlord's offer", "SECRET-DECISION",
                           "bob@client.example", "contract.pdf", "TAG-SECRET", "X-SECRET-VALUE", "PRIV-SUBJECT",
                           "PRIV-SUMMARY", "pms-src-1"]

    /// A ledger with two matters; M-1 has a plain entry, a privileged entry and a later entry.
    private func populatedLedger() throws {
        try initLedger()
        try appendRecord(#"{"matter":"M-1","client":"Acme Holdings","author":"J. Rivera","channel":"email","#
                         + #""direction":"outbound","kind":"update","occurredAt":"2026-03-01T14:30:00+01:00","#
                         + #""subject":"CONFIDENTIAL-SUBJECT","summary":"Explained the landlord's offer.","#
                         + #""decisions":"SECRET-DECISION","recipients":["bob@client.example"],"#
                         + #""attachments":[{"name":"contract.pdf","#
                         + #""sha256":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}],"#
                         + #""tags":["TAG-SECRET"],"x-billing":"X-SECRET-VALUE","sourceSystem":"pms","#
                         + #""sourceId":"pms-src-1","durationMinutes":12}"#)
        try appendRecord(#"{"matter":"M-2","author":"K. Other","channel":"phone","direction":"inbound","#
                         + #""occurredAt":"2026-03-02T09:00:00Z","summary":"Another matter entirely."}"#)
        try appendRecord(#"{"matter":"M-1","author":"A. Okafor, \"Esq\"","channel":"phone","direction":"inbound","#
                         + #""kind":"advice","occurredAt":"2026-03-03T09:00:00Z","subject":"PRIV-SUBJECT","#
                         + #""summary":"PRIV-SUMMARY","privileged":true}"#)
        try appendRecord(#"{"matter":"M-1","author":"J. Rivera","channel":"portal","direction":"outbound","#
                         + #""occurredAt":"2026-03-05T09:00:00Z","summary":"Follow-up <script>alert(1)</script>"}"#)
    }

    @discardableResult
    private func export(_ extra: [String], to name: String = "bundle.zip", expect status: Int32 = 0,
                        file: StaticString = #filePath,
                        line: UInt = #line) throws -> (path: String, result: CLIResult) {
        let out = temp.appendingPathComponent(name).path
        let r = try ledgerWithKey(["export", "-o", out] + extra)
        XCTAssertEqual(r.status, status, r.summary, file: file, line: line)
        return (out, r)
    }

    private func python(_ args: [String]) throws -> CLIResult {
        let script = LedgerBinary.packageRoot.appendingPathComponent("tools/verify_bundle.py").path
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script] + args,
                              environment: baseEnvironment(), scratch: temp)
    }

    /// Runs both verifiers; asserts they agree on the exit status and returns it.
    @discardableResult
    private func verifyBoth(_ bundle: String, _ extra: [String] = [], expect status: Int32,
                            file: StaticString = #filePath,
                            line: UInt = #line) throws -> (swift: CLIResult, python: CLIResult) {
        let s = try ledger(["verify-bundle", bundle, "--json"] + extra)
        let p = try python([bundle, "--json"] + extra)
        XCTAssertEqual(s.status, status, "ledger verify-bundle: " + s.summary, file: file, line: line)
        XCTAssertEqual(p.status, status, "verify_bundle.py: " + p.summary, file: file, line: line)
        return (s, p)
    }

    /// The check names of the violations in a `--json` report.
    private func checks(_ r: CLIResult) throws -> Set<String> {
        guard let line = r.stdoutLines.first else { return [] }
        let object = try jsonObject(line)
        return Set((object["violations"] as? [[String: Any]] ?? []).compactMap { $0["check"] as? String })
    }


    /// Writes a zip with the given (name, bytes) members in order (duplicates and odd names allowed), via Python.
    /// `fixManifest` recomputes manifest.json's file hashes; `hugeName` patches that member's declared size to ~4 GiB.
    private func rezip(_ members: [(String, Data)], to name: String, fixManifest: Bool = true,
                       hugeName: String? = nil) throws -> String {
        let dir = temp.appendingPathComponent("rezip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var spec = [[String]]()
        for (i, (member, data)) in members.enumerated() {
            let path = dir.appendingPathComponent("m\(i)")
            try data.write(to: path)
            spec.append([member, path.path])
        }
        let out = temp.appendingPathComponent(name).path
        let specData = try JSONSerialization.data(withJSONObject: ["out": out, "members": spec, "fix": fixManifest,
                                                                   "huge": hugeName ?? ""])
        let specPath = dir.appendingPathComponent("spec.json")
        try specData.write(to: specPath)
        let script = """
        import hashlib, json, sys, warnings, zipfile
        warnings.simplefilter("ignore")
        spec = json.load(open(sys.argv[1]))
        members = [(n, open(p, "rb").read()) for n, p in spec["members"]]
        \(Self.pythonManifestHelpers)
        if spec["fix"]:
            files = dict(members)
            store_manifest(files, load_manifest(files))
            members = [(n, files[n] if n in ("manifest.json", "manifest.note") else d) for n, d in members]
        with zipfile.ZipFile(spec["out"], "w", zipfile.ZIP_DEFLATED) as z:
            for n, d in members:
                z.writestr(n, d)
        if spec["huge"]:
            b = bytearray(open(spec["out"], "rb").read())
            name = spec["huge"].encode()
            for sig, off in ((b"PK\\x01\\x02", 24), (b"PK\\x03\\x04", 22)):
                i = b.find(sig)
                while i >= 0:
                    nlen_off = 28 if sig == b"PK\\x01\\x02" else 26
                    hdr = 46 if sig == b"PK\\x01\\x02" else 30
                    nlen = int.from_bytes(b[i + nlen_off:i + nlen_off + 2], "little")
                    if bytes(b[i + hdr:i + hdr + nlen]) == name:
                        b[i + off:i + off + 4] = (0xFFFFFFF0).to_bytes(4, "little")
                    i = b.find(sig, i + 4)
            open(spec["out"], "wb").write(bytes(b))
        """
        let scriptPath = dir.appendingPathComponent("rezip.py")
        try script.write(to: scriptPath, atomically: true, encoding: .utf8)
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", scriptPath.path, specPath.path],
                               environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(r.status, 0, r.summary)
        return out
    }

    private func members(_ files: [String: Data]) -> [(String, Data)] {
        files.keys.sorted().map { ($0, files[$0]!) }
    }

    /// entries.jsonl as JSON objects.
    private func entryObjects(_ files: [String: Data]) throws -> [[String: Any]] {
        try String(decoding: files["entries.jsonl"]!, as: UTF8.self).split(separator: "\n")
            .map { try jsonObject(String($0)) }
    }


    private static func base64urlDecode(_ s: String) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }

    private static func base64url(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// name → decoded JSON value of each revealed disclosure of one entry.
    private func revealed(_ entry: [String: Any]) throws -> [String: Any] {
        var out = [String: Any]()
        for d in entry["disclosures"] as? [String] ?? [] {
            let array = try XCTUnwrap(try JSONSerialization.jsonObject(with: XCTUnwrap(Self.base64urlDecode(d)),
                                                                       options: [.fragmentsAllowed]) as? [Any])
            out[array[1] as! String] = array[2]
        }
        return out
    }

    private func redactions(_ entry: [String: Any]) -> [String: String] {
        var out = [String: String]()
        for r in entry["redacted"] as? [[String: Any]] ?? [] { out[r["field"] as! String] = r["reason"] as? String }
        return out
    }

    // MARK: - Round trip

    func testRoundTripAllVerifiersAcceptAndNoRedactedPlaintextAnywhere() throws {
        try populatedLedger()
        let (bundle, _) = try export(["--matter", "M-1"])
        let (s, _) = try verifyBoth(bundle, ["--verifier-key", verifierKeyPath], expect: 0)
        let report = try jsonObject(s.stdoutLines[0])
        XCTAssertEqual(report["entries"] as? Int, 3)
        XCTAssertEqual(report["verifierKeyPinned"] as? Bool, true)
        // Without a pinned key: still valid, with a warning.
        let unpinned = try ledger(["verify-bundle", bundle])
        XCTAssertEqual(unpinned.status, 0, unpinned.summary)
        XCTAssertTrue(unpinned.stderr.contains("the verifier key was not pinned"), unpinned.summary)
        XCTAssertTrue(unpinned.stderr.contains("with --verifier-key FILE"), unpinned.summary)
        XCTAssertTrue(unpinned.stdout.contains("VALID"), unpinned.summary)

        let files = try unzipWithPython(bundle)
        XCTAssertEqual(Set(files.keys), ["manifest.note", "checkpoint.txt", "verifier.key", "entries.jsonl",
                                         "privilege-log.csv", "report.html", "README.txt"])
        for (name, data) in files {
            let text = String(decoding: data, as: UTF8.self)
            for secret in secrets { XCTAssertFalse(text.contains(secret), "\(name) contains '\(secret)'") }
            XCTAssertFalse(text.contains("M-2") || text.contains("Another matter"), "\(name) leaks the other matter")
        }
        let report_html = String(decoding: files["report.html"]!, as: UTF8.self)
        XCTAssertFalse(report_html.contains("<script"), "report.html must escape everything")
        XCTAssertFalse(report_html.contains("http://") || report_html.contains("https://"),
                       "report.html has no external assets")
        XCTAssertTrue(report_html.contains("A. Okafor, &quot;Esq&quot;"))

        // Go's tlog.CheckRecord accepts every inclusion proof.
        let go = try notecheck(["bundle", verifierKeyPath, bundle])
        XCTAssertEqual(go.status, 0, go.summary)
        XCTAssertTrue(go.stdout.contains("entries=3"), go.summary)
        // Go's note.Open verifies manifest.note's signature; the tlog parser then refuses it as a checkpoint (the
        // header is domain-separated from any origin line).
        let manifest = try write("manifest.note", String(decoding: files["manifest.note"]!, as: UTF8.self))
        let goNote = try notecheck(["note", verifierKeyPath, manifest])
        XCTAssertEqual(goNote.status, 1, goNote.summary)
        XCTAssertTrue(goNote.stderr.contains("checkpoint body has 2 lines"), goNote.summary)
    }

    func testCompactBundleDeflatesEntriesAndVerifiesTheSame() throws {
        try populatedLedger()
        let (stored, _) = try export(["--matter", "M-1"])
        let (compact, _) = try export(["--matter", "M-1", "--compact"], to: "compact.zip")
        _ = try verifyBoth(compact, ["--verifier-key", verifierKeyPath], expect: 0)
        let size = { (path: String) throws -> Int in
            try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        }
        XCTAssertLessThan(try size(compact), try size(stored), "entries.jsonl is deflated")
        // The same entries; only the proofs differ, because the second export's checkpoint also covers the access
        // entry the first one recorded (verifyBoth checked them).
        let withoutProofs = { (data: Data?) throws -> [NSDictionary] in
            try String(decoding: XCTUnwrap(data), as: UTF8.self).split(separator: "\n").map { line in
                var object = try XCTUnwrap(try self.jsonObject(String(line)))
                object["inclusionProof"] = nil
                return object as NSDictionary
            }
        }
        XCTAssertEqual(try withoutProofs(try unzipWithPython(compact)["entries.jsonl"]),
                       try withoutProofs(try unzipWithPython(stored)["entries.jsonl"]))
    }

    func testPrivilegeLogNeutralisesSpreadsheetFormulas() throws {
        try initLedger()
        try appendRecord(#"{"matter":"M-9","author":"=HYPERLINK(\"http://evil.example\",\"x\")","channel":"email","#
                         + #""direction":"outbound","occurredAt":"2026-03-01T14:30:00+01:00","summary":"hello"}"#)
        let (bundle, _) = try export(["--matter", "M-9"])
        try verifyBoth(bundle, ["--verifier-key", verifierKeyPath], expect: 0)
        let log = String(decoding: try unzipWithPython(bundle)["privilege-log.csv"]!, as: UTF8.self)
        let row = try XCTUnwrap(log.split(separator: "\r\n").dropFirst().first.map(String.init), log)
        XCTAssertTrue(row.contains(#""'=HYPERLINK(""http://evil.example"",""x"")""#),
                      "author cell must be quoted and prefixed: \(row)")
        XCTAssertFalse(log.contains(",=HYPERLINK") || log.contains("\"=HYPERLINK"),
                       "no cell may start with '=': \(log)")
    }

    // MARK: - Tampering: both verifiers reject each change with exit 1 and name the check

    private func tamper(_ edit: (inout [String: Data]) throws -> Void, fixManifest: Bool = true) throws -> String {
        let (bundle, _) = try export(["--matter", "M-1"], to: "orig-\(UUID().uuidString).zip")
        var files = try unzipWithPython(bundle)
        try edit(&files)
        return try rezip(members(files), to: "tampered-\(UUID().uuidString).zip", fixManifest: fixManifest)
    }

    private func assertRejected(_ bundle: String, check: String, pinned: Bool = true,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let (s, p) = try verifyBoth(bundle, pinned ? ["--verifier-key", verifierKeyPath] : [], expect: 1,
                                    file: file, line: line)
        XCTAssertTrue(try checks(s).contains(check), "ledger did not name [\(check)]: \(s.summary)",
                      file: file, line: line)
        XCTAssertTrue(try checks(p).contains(check), "python did not name [\(check)]: \(p.summary)",
                      file: file, line: line)
    }

    func testRejectsChangedRevealedValue() throws {
        try populatedLedger()
        let bundle = try tamper { files in
            var entries = try entryObjects(files)
            var disclosures = entries[0]["disclosures"] as! [String]
            let i = try XCTUnwrap(disclosures.firstIndex {
                String(decoding: Self.base64urlDecode($0)!, as: UTF8.self).contains("\"channel\"")
            })
            let json = String(decoding: Self.base64urlDecode(disclosures[i])!, as: UTF8.self)
                .replacingOccurrences(of: "\"email\"", with: "\"phone\"")
            disclosures[i] = Self.base64url(Data(json.utf8))
            entries[0]["disclosures"] = disclosures
            files["entries.jsonl"] = try jsonlData(entries)
        }
        try assertRejected(bundle, check: "fields-digest")
    }

    func testRejectsDisclosureSwappedBetweenEntries() throws {
        try populatedLedger()
        let bundle = try tamper { files in
            var entries = try entryObjects(files)
            func channelIndex(_ e: [String: Any]) -> Int {
                (e["disclosures"] as! [String]).firstIndex {
                    String(decoding: Self.base64urlDecode($0)!, as: UTF8.self).contains("\"channel\"")
                }!
            }
            var a = entries[0]["disclosures"] as! [String], b = entries[1]["disclosures"] as! [String]
            let (i, j) = (channelIndex(entries[0]), channelIndex(entries[1]))
            (a[i], b[j]) = (b[j], a[i])
            entries[0]["disclosures"] = a
            entries[1]["disclosures"] = b
            files["entries.jsonl"] = try jsonlData(entries)
        }
        try assertRejected(bundle, check: "fields-digest")
    }

    func testRejectsRemovedRedaction() throws {
        try populatedLedger()
        let bundle = try tamper { files in
            var entries = try entryObjects(files)
            var redacted = entries[0]["redacted"] as! [[String: Any]]
            redacted.removeFirst()
            entries[0]["redacted"] = redacted
            files["entries.jsonl"] = try jsonlData(entries)
        }
        try assertRejected(bundle, check: "field-coverage")
    }

    func testRejectsFlippedProofBit() throws {
        try populatedLedger()
        let bundle = try tamper { files in
            var entries = try entryObjects(files)
            var proof = entries[1]["inclusionProof"] as! [String]
            var hash = Data(base64Encoded: proof[0])!
            hash[5] ^= 0x01
            proof[0] = hash.base64EncodedString()
            entries[1]["inclusionProof"] = proof
            files["entries.jsonl"] = try jsonlData(entries)
        }
        try assertRejected(bundle, check: "inclusion-proof")
        let go = try notecheck(["bundle", verifierKeyPath, bundle])
        XCTAssertEqual(go.status, 1, go.summary)
    }

    func testRejectsForeignCheckpoint() throws {
        try populatedLedger()
        // Another ledger with the same origin and the same entries count: its checkpoint is validly signed by
        // another key.
        let otherDir = temp.appendingPathComponent("other")
        let otherKey = temp.appendingPathComponent("keys/other.key").path
        XCTAssertEqual(try ledger(["init", "--ledger", otherDir.path, "--origin", Self.origin,
                                   "--key-file", otherKey]).status, 0)
        for _ in 0..<4 {
            let rec = try write("o-\(UUID().uuidString).json", Sample.record(matter: "M-1"))
            XCTAssertEqual(try ledger(["append", rec, "--ledger", otherDir.path, "--key-file", otherKey]).status, 0)
        }
        let cp = try ledger(["checkpoint", "--ledger", otherDir.path, "--key-file", otherKey])
        XCTAssertEqual(cp.status, 0, cp.summary)
        let otherVK = try Data(contentsOf: otherDir.appendingPathComponent("verifier.key"))
        // Checkpoint only: the pinned (and the bundle's own) key rejects the signature.
        let swapped = try tamper { files in files["checkpoint.txt"] = cp.stdoutBytes }
        try assertRejected(swapped, check: "checkpoint-signature")
        try assertRejected(swapped, check: "checkpoint-signature", pinned: false)
        // Checkpoint and key swapped consistently: unpinned, the signature verifies but no proof reaches the
        // foreign root.
        let both = try tamper { files in
            files["checkpoint.txt"] = cp.stdoutBytes
            files["verifier.key"] = otherVK
        }
        try assertRejected(both, check: "inclusion-proof", pinned: false)
        try assertRejected(both, check: "checkpoint-signature", pinned: true)
        XCTAssertEqual(try notecheck(["bundle", verifierKeyPath, both]).status, 1)
    }

    func testRejectsManifestMismatch() throws {
        try populatedLedger()
        let bundle = try tamper({ files in files["report.html"]!.append(contentsOf: Array("<!-- edited -->".utf8)) },
                                fixManifest: false)
        try assertRejected(bundle, check: "manifest")
    }

    // MARK: - Bundle v2: the signed manifest

    /// Both verifiers exit 1 and name [manifest] with `detail` (Swift and Python use the same words).
    private func assertManifestViolation(_ bundle: String, _ detail: String, file: StaticString = #filePath,
                                         line: UInt = #line) throws {
        let (s, p) = try verifyBoth(bundle, ["--verifier-key", verifierKeyPath], expect: 1, file: file, line: line)
        for r in [s, p] {
            let violations = try jsonObject(r.stdoutLines.first ?? "{}")["violations"] as? [[String: Any]] ?? []
            XCTAssertTrue(violations.contains { $0["check"] as? String == "manifest" && $0["detail"] as? String == detail },
                          "no [manifest] \(detail): \(r.summary)", file: file, line: line)
        }
    }

    /// entries.jsonl with one "attorney-client privilege" reason changed to "not requested".
    private func changedReason(_ files: inout [String: Data]) {
        let text = String(decoding: files["entries.jsonl"]!, as: UTF8.self)
        let at = text.range(of: #""reason":"attorney-client privilege""#)!
        files["entries.jsonl"] = Data(text.replacingCharacters(in: at, with: #""reason":"not requested""#).utf8)
    }

    func testV2BundleHasASignedManifestNote() throws {
        try populatedLedger()
        let (bundle, _) = try export(["--matter", "M-1"])
        let files = try unzipWithPython(bundle)
        XCTAssertNil(files["manifest.json"])
        let note = String(decoding: try XCTUnwrap(files["manifest.note"]), as: UTF8.self)
        XCTAssertTrue(note.hasPrefix("client-ledger export manifest v2\n{"), note)
        XCTAssertEqual(try manifestObject(files)["formatVersion"] as? Int, 2)
        let (s, p) = try verifyBoth(bundle, ["--verifier-key", verifierKeyPath], expect: 0)
        for r in [s, p] {
            let report = try jsonObject(r.stdoutLines[0])
            XCTAssertEqual(report["formatVersion"] as? Int, 2, r.summary)
            XCTAssertEqual(report["notices"] as? [String], [], r.summary)
        }
    }

    func testRejectsChangedRedactionReason() throws {
        try populatedLedger()
        try assertManifestViolation(try tamper({ changedReason(&$0) }, fixManifest: false),
                                    "entries.jsonl does not match the signed manifest's digest")
        // The privilege log changed to match and the manifest re-hashed: the signature no longer verifies.
        try assertManifestViolation(try tamper({ changedReason(&$0) }), "the signature does not verify")
    }

    func testRejectsChangedProfileInTheManifest() throws {
        try populatedLedger()
        let bundle = try tamper({ files in
            let text = String(decoding: files["manifest.note"]!, as: UTF8.self)
            let changed = text.replacingOccurrences(of: #""defaultReason":"attorney-client privilege""#,
                                                    with: #""defaultReason":"not requested""#)
            XCTAssertNotEqual(changed, text)
            files["manifest.note"] = Data(changed.utf8)
        }, fixManifest: false)
        try assertManifestViolation(bundle, "the signature does not verify")
    }

    func testRejectsChangedReportEvenWhenReHashed() throws {
        try populatedLedger()
        let edit: (inout [String: Data]) throws -> Void = { $0["report.html"]!.append(Data("<p>ok</p>".utf8)) }
        try assertManifestViolation(try tamper(edit, fixManifest: false),
                                    "report.html does not match the signed manifest's digest")
        try assertManifestViolation(try tamper(edit), "the signature does not verify")
    }

    func testRejectsAManifestNotSignedByTheVerifierKey() throws {
        try populatedLedger()
        // The signature line renamed (as if by a key of another name): the verifier key's signature is missing.
        let bundle = try tamper({ files in
            let note = String(decoding: files["manifest.note"]!, as: UTF8.self)
            let block = note[note.range(of: "\n\n", options: .backwards)!.upperBound...]
            let forged = block.replacingOccurrences(of: "\u{2014} ", with: "\u{2014} x")
            files["manifest.note"] = Data((note[..<note.range(of: "\n\n", options: .backwards)!.upperBound] + forged).utf8)
        }, fixManifest: false)
        let (s, p) = try verifyBoth(bundle, ["--verifier-key", verifierKeyPath], expect: 1)
        for r in [s, p] {
            XCTAssertTrue(r.stdout.contains("the signature is not by the verifier key"), r.summary)
        }
    }

    func testHostileZipsAreRejectedAsUnreadable() throws {
        try populatedLedger()
        let (bundle, _) = try export(["--matter", "M-1"])
        let files = try unzipWithPython(bundle)
        let traversal = try rezip(members(files) + [("../evil.txt", Data("x".utf8))],
                                  to: "traversal.zip", fixManifest: false)
        let absolute = try rezip(members(files) + [("/etc/evil", Data("x".utf8))],
                                 to: "absolute.zip", fixManifest: false)
        let duplicate = try rezip(members(files) + [("entries.jsonl", files["entries.jsonl"]!)],
                                  to: "duplicate.zip", fixManifest: false)
        let huge = try rezip(members(files), to: "huge.zip", fixManifest: false, hugeName: "entries.jsonl")
        let unexpected = try rezip(members(files) + [("extra.txt", Data("x".utf8))],
                                   to: "unexpected.zip", fixManifest: false)
        let missing = try rezip(members(files).filter { $0.0 != "entries.jsonl" },
                                to: "missing.zip", fixManifest: false)
        let badJSON = try rezip(members(files).map { $0.0 == "manifest.note" ? ($0.0, Data("{not json".utf8)) : $0 },
                                to: "badjson.zip", fixManifest: false)
        let bothManifests = try rezip(members(files) + [("manifest.json", Data("{}\n".utf8))],
                                      to: "both-manifests.zip", fixManifest: false)
        let noManifest = try rezip(members(files).filter { $0.0 != "manifest.note" },
                                   to: "no-manifest.zip", fixManifest: false)
        let notZip = try write("notzip.zip", "this is not a zip file")
        for path in [traversal, absolute, duplicate, huge, unexpected, missing, badJSON, bothManifests, noManifest,
                     notZip] {
            let (s, p) = try verifyBoth(path, expect: 65)
            XCTAssertTrue(s.stderr.contains("not a readable export bundle"), s.summary)
            XCTAssertTrue(p.stderr.contains("not a readable export bundle"), p.summary)
        }
        let (s, p) = try verifyBoth(temp.appendingPathComponent("nope.zip").path, expect: 66)
        XCTAssertTrue(s.stderr.contains("no such file") && p.stderr.contains("no such file"))
    }

    // MARK: - Profiles

    func testInsurerProfileRevealsMetadataAndRedactsContent() throws {
        try populatedLedger()
        let (bundle, _) = try export(["--matter", "M-1", "--profile", "insurer"])
        let entries = try entryObjects(try unzipWithPython(bundle))
        XCTAssertEqual(entries.map { $0["index"] as? Int }, [0, 2, 3])
        let first = try revealed(entries[0])
        XCTAssertEqual(Set(first.keys),
                       ["matter", "author", "channel", "direction", "kind", "occurredAt", "durationMinutes"])
        XCTAssertEqual(redactions(entries[0]), [
            "client": "attorney-client privilege", "subject": "attorney-client privilege",
            "summary": "attorney-client privilege", "decisions": "attorney-client privilege",
            "recipients": "attorney-client privilege", "attachments": "attorney-client privilege",
            "tags": "attorney-client privilege", "x-billing": "attorney-client privilege",
            "sourceSystem": "not requested", "sourceId": "not requested",
        ])
        for entry in entries {
            for r in entry["redacted"] as! [[String: Any]] {
                XCTAssertEqual((r["digest"] as? String)?.count, 64)
            }
        }
        let log = String(decoding: try unzipWithPython(bundle)["privilege-log.csv"]!, as: UTF8.self)
        XCTAssertTrue(log.hasPrefix("seq,occurredAt,matter,author,channel,direction,field,reason,description\r\n"), log)
        XCTAssertEqual(log.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count, 1 + 10 + 3 + 1)
    }

    func testMetadataProfileRedactsAuthor() throws {
        try populatedLedger()
        let (bundle, _) = try export(["--matter", "M-1", "--profile", "metadata"])
        let files = try unzipWithPython(bundle)
        let entries = try entryObjects(files)
        XCTAssertNil(try revealed(entries[0])["author"])
        XCTAssertEqual(redactions(entries[0])["author"], "personal data")
        XCTAssertTrue(String(decoding: files["privilege-log.csv"]!, as: UTF8.self).contains(",M-1,[redacted],email,"))
        for (name, data) in files { XCTAssertFalse(String(decoding: data, as: UTF8.self).contains("J. Rivera"), name) }
        try verifyBoth(bundle, expect: 0)
    }

    func testFullProfileNeedsAcknowledgementAndStillWithholdsPrivilegedContent() throws {
        try populatedLedger()
        let refused = try export(["--matter", "M-1", "--profile", "full"], expect: 64).result
        XCTAssertTrue(refused.stderr.contains("--i-understand-this-reveals-privileged-content"), refused.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp.appendingPathComponent("bundle.zip").path))

        let (bundle, _) = try export(["--matter", "M-1", "--profile", "full",
                                      "--i-understand-this-reveals-privileged-content"])
        let entries = try entryObjects(try unzipWithPython(bundle))
        XCTAssertTrue((entries[0]["redacted"] as! [Any]).isEmpty, "full reveals every field of a normal entry")
        XCTAssertEqual(try revealed(entries[0])["summary"] as? String, "Explained the landlord's offer.")
        // The privileged entry keeps its content withheld...
        XCTAssertEqual(redactions(entries[1]),
                       ["subject": "attorney-client privilege", "summary": "attorney-client privilege"])
        try verifyBoth(bundle, expect: 0)
        // ...unless --reveal names the field explicitly.
        let (revealedBundle, _) = try export(["--matter", "M-1", "--reveal", "subject"], to: "reveal.zip")
        let again = try entryObjects(try unzipWithPython(revealedBundle))
        XCTAssertEqual(try revealed(again[1])["subject"] as? String, "PRIV-SUBJECT")
        XCTAssertEqual(redactions(again[1])["summary"], "attorney-client privilege")
        try verifyBoth(revealedBundle, expect: 0)
    }

    func testRedactWithReasonAndReasonValidation() throws {
        try populatedLedger()
        let (bundle, _) = try export(["--matter", "M-1", "--redact", "channel:work product", "--redact", "kind"])
        let entries = try entryObjects(try unzipWithPython(bundle))
        XCTAssertEqual(redactions(entries[0])["channel"], "work product")
        XCTAssertEqual(redactions(entries[0])["kind"], "attorney-client privilege")
        try verifyBoth(bundle, expect: 0)
        let bad = try export(["--matter", "M-1", "--redact", "channel:because"], to: "bad.zip", expect: 64).result
        XCTAssertTrue(bad.stderr.contains("unknown redaction reason"), bad.summary)
        let unknownField = try export(["--matter", "M-1", "--reveal", "nonsense"], to: "bad2.zip", expect: 64).result
        XCTAssertTrue(unknownField.stderr.contains("unknown field 'nonsense'"), unknownField.summary)
    }

    func testProfileFile() throws {
        try populatedLedger()
        let profile = try write("profile.json",
                                #"{"name":"broker","reveal":["matter","occurredAt","channel","direction"],"#
                                + #""redact":{"author":"personal data"},"defaultReason":"not requested"}"#)
        let (bundle, _) = try export(["--matter", "M-1", "--profile-file", profile])
        let files = try unzipWithPython(bundle)
        let entries = try entryObjects(files)
        XCTAssertEqual(Set(try revealed(entries[0]).keys), ["matter", "occurredAt", "channel", "direction"])
        XCTAssertEqual(redactions(entries[0])["author"], "personal data")
        XCTAssertEqual(redactions(entries[0])["kind"], "not requested")
        XCTAssertTrue(String(decoding: files["manifest.note"]!, as: UTF8.self).contains(#""name":"broker""#))
        try verifyBoth(bundle, expect: 0)
        let revealsContent = try write("p2.json", #"{"name":"leaky","reveal":["summary"]}"#)
        try export(["--matter", "M-1", "--profile-file", revealsContent], to: "leaky.zip", expect: 64)
        let badReason = try write("p3.json", #"{"name":"x","defaultReason":"whatever"}"#)
        try export(["--matter", "M-1", "--profile-file", badReason], to: "p3.zip", expect: 64)
    }

    func testSelectionErrors() throws {
        try populatedLedger()
        let unknown = try export(["--matter", "M-1", "--matter", "M-404"], expect: 66).result
        XCTAssertTrue(unknown.stderr.contains("M-404"), unknown.summary)
        let empty = try export(["--matter", "M-1", "--from", "2030-01-01"], expect: 66).result
        XCTAssertTrue(empty.stderr.contains("matches no entries"), empty.summary)
        try export([], expect: 64)
        // Time range and several matters.
        let (bundle, _) = try export(["--matter", "M-1", "--matter", "M-2",
                                      "--from", "2026-03-02", "--to", "2026-03-03"], to: "range.zip")
        XCTAssertEqual(try entryObjects(try unzipWithPython(bundle)).map { $0["index"] as? Int }, [1, 2])
        // Never overwrites.
        try export(["--matter", "M-1"], to: "range.zip", expect: 73)
    }

    // MARK: - Consistency

    func testSinceCheckpointCarriesConsistencyProofAndTrustedIsChecked() throws {
        try populatedLedger()
        let old = try ledgerWithKey(["checkpoint"])
        let oldPath = try write("old-checkpoint.txt", old.stdoutBytes)
        for i in 0..<5 { try appendRecord(Sample.record(matter: "M-1", subject: "later \(i)")) }
        let (bundle, _) = try export(["--matter", "M-1", "--since-checkpoint", oldPath])
        XCTAssertNotNil(try unzipWithPython(bundle)["consistency.json"])
        let (s, _) = try verifyBoth(bundle, ["--verifier-key", verifierKeyPath, "--trusted", oldPath], expect: 0)
        XCTAssertEqual(try jsonObject(s.stdoutLines[0])["consistencyChecked"] as? Bool, true)

        // A trusted checkpoint the bundle has no proof from is reported, not silently accepted.
        try appendRecord(Sample.record(matter: "M-1"))
        let (plain, _) = try export(["--matter", "M-1"], to: "plain.zip")
        let (r, _) = try verifyBoth(plain, ["--verifier-key", verifierKeyPath, "--trusted", oldPath], expect: 1)
        XCTAssertTrue(try checks(r).contains("trusted-checkpoint"), r.summary)

        // A consistency proof with a flipped bit fails.
        var files = try unzipWithPython(bundle)
        var object = try jsonObject(String(decoding: files["consistency.json"]!, as: UTF8.self))
        var proof = object["proof"] as! [String]
        var h = Data(base64Encoded: proof[0])!
        h[0] ^= 0x80
        proof[0] = h.base64EncodedString()
        object["proof"] = proof
        files["consistency.json"] = try JSONSerialization.data(withJSONObject: object)
        let tampered = try rezip(members(files), to: "bad-consistency.zip")
        try assertRejected(tampered, check: "consistency")
    }

    // MARK: - JSON

    func testJSONViolationsCarryExpectedAndFound() throws {
        try populatedLedger()
        let (bundle, _) = try export(["--matter", "M-1"], to: "orig-json.zip")
        let files = try unzipWithPython(bundle)
        let edited = files["report.html"]! + Data("<!-- edited -->".utf8)
        let tampered = try rezip(members(files).map { $0.0 == "report.html" ? ($0.0, edited) : $0 }, to: "json.zip",
                                 fixManifest: false)
        let r = try ledger(["verify-bundle", tampered, "--json", "--verifier-key", verifierKeyPath])
        XCTAssertEqual(r.status, 1, r.summary)
        let violations = try XCTUnwrap(try jsonObject(r.stdoutLines[0])["violations"] as? [[String: Any]])
        let v = try XCTUnwrap(violations.first { $0["check"] as? String == "manifest" }, r.stdout)
        let listed = try manifestObject(files)["files"] as? [String: Any]
        XCTAssertEqual(v["expected"] as? String, try XCTUnwrap(listed?["report.html"] as? String))
        XCTAssertEqual((v["found"] as? String)?.count, 64)
        XCTAssertNotEqual(v["found"] as? String, v["expected"] as? String)
    }
}
