import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Access control end to end through the `ledger` binary: grant, revoke, `access grants`, `access log`, and what a
/// reader, appender or signer credential may (and may not) do with show, list, report, export and verify.
final class AccessControlCLITests: CLITestCase {
    // MARK: - Fixture

    /// Matter A: what the reader under test is granted.
    static let matterA = "M-ALPHA-100"
    /// Matter B: never granted to the reader. Every one of its values carries "ZEBRA", which therefore must never
    /// appear in anything a reader of A gets to see (matter numbers are not echoed in error messages either).
    static let matterB = "M-ZEBRA-7731"
    /// Matter C: a second matter for a reader of two matters.
    static let matterC = "M-CEDAR-300"
    static let marker = "ZEBRA"

    /// One record, JSON text (no characters that need escaping in the values).
    static func record(matter: String, client: String = "Acme Holdings", author: String = "J. Rivera",
                       subject: String, summary: String = "Routine status update.", sourceId: String? = nil,
                       day: Int, direction: String = "outbound") -> String {
        var fields = [
            #""matter":"\#(matter)""#, #""client":"\#(client)""#, #""author":"\#(author)""#,
            #""channel":"email""#, #""direction":"\#(direction)""#, #""kind":"update""#,
            #""occurredAt":"\#(String(format: "2026-03-%02dT10:00:00Z", day))""#,
            #""subject":"\#(subject)""#, #""summary":"\#(summary)""#,
        ]
        if let sourceId { fields.append(#""sourceSystem":"pms","sourceId":"\#(sourceId)""#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// A record of matter B: every value is a marker.
    static func zebraRecord(_ i: Int, day: Int) -> String {
        record(matter: matterB, client: "ZEBRA-CLIENT-\(i)", author: "Z. ZEBRA-AUTHOR-\(i)",
               subject: "ZEBRA-SECRET-7731 subject \(i)", summary: "ZEBRA-SUMMARY-7731 number \(i)",
               sourceId: "ZEBRA-SRC-\(i)", day: day)
    }

    /// Imports A, B, A, B, A, B (seqs 0 to 5: A at 0, 2, 4; B at 1, 3, 5) with the master key.
    private func importAlphaZebra(file: StaticString = #filePath, line: UInt = #line) throws {
        var lines = [String]()
        for i in 0..<3 {
            lines.append(Self.record(matter: Self.matterA, subject: "Alpha subject \(i)",
                                     summary: "Alpha summary \(i)", sourceId: "alpha-\(i)", day: 2 * i + 1))
            lines.append(Self.zebraRecord(i, day: 2 * i + 2))
        }
        let r = try ledgerWithKey(["import", try write("alpha-zebra.jsonl", lines.joined(separator: "\n") + "\n")])
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
    }

    // MARK: - Helpers

    /// `ledger ARGS --ledger DIR --credential CRED`, with LEDGER_CREDENTIAL_FILE cleared.
    @discardableResult
    private func withCredential(_ credential: String, _ arguments: [String]) throws -> CLIResult {
        try ledger(arguments + ["--ledger", ledgerDir.path, "--credential", credential],
                   env: ["LEDGER_CREDENTIAL_FILE": ""])
    }

    /// `ledger grant NAME --role ROLE [--matter M]... -o temp/NAME-n.cred` with the master key; returns the path.
    @discardableResult
    private func grant(_ name: String, role: String, matters: [String] = [],
                       file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = temp.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8)).cred").path
        let r = try ledgerWithKey(["grant", name, "--role", role, "-o", path] + matters.flatMap { ["--matter", $0] })
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "no credential written: \(r.summary)",
                      file: file, line: line)
        return path
    }

    /// Every access entry, oldest first, via `access log --json` (master key).
    private func accessLog(file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let r = try ledgerWithKey(["access", "log", "--json"])
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        return try r.stdoutLines.map { try jsonObject($0) }
    }

    /// The credentials `access grants --json [extra]` lists.
    private func grantHolders(_ extra: [String], file: StaticString = #filePath,
                              line: UInt = #line) throws -> [String] {
        let r = try ledgerWithKey(["access", "grants", "--json"] + extra)
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        return try r.stdoutLines.map { try XCTUnwrap(jsonObject($0)["credential"] as? String) }
    }

    /// The seqs of `list --json` output.
    private func seqs(_ r: CLIResult) throws -> [Int] {
        try r.stdoutLines.map { try XCTUnwrap(jsonObject($0)["seq"] as? Int) }
    }


    /// Keyless `verify --json`: exit 0, ok, no violations. Returns the report.
    @discardableResult
    private func assertKeylessVerifyClean(file: StaticString = #filePath,
                                          line: UInt = #line) throws -> [String: Any] {
        let r = try ledger(["verify", "--ledger", ledgerDir.path, "--json"])
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        let report = try jsonObject(r.stdout.trimmingCharacters(in: .newlines))
        XCTAssertEqual(report["ok"] as? Bool, true, r.summary, file: file, line: line)
        XCTAssertEqual(report["violationCount"] as? Int, 0, r.summary, file: file, line: line)
        XCTAssertEqual((report["violations"] as? [Any])?.count, 0, r.summary, file: file, line: line)
        return report
    }

    /// The number of entries (records and events), from keyless verify.
    private func totalEntries(file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let report = try assertKeylessVerifyClean(file: file, line: line)
        return try XCTUnwrap(report["entries"] as? Int, file: file, line: line)
    }

    /// The decoded disclosures (base64url JSON arrays [salt, name, value]) of every line of an entries.jsonl, one
    /// per line.
    private func disclosed(_ entriesJSONL: String) throws -> String {
        var out = [String]()
        for line in entriesJSONL.split(separator: "\n") {
            let object = try jsonObject(String(line))
            for encoded in object["disclosures"] as? [String] ?? [] {
                var b64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                b64 += String(repeating: "=", count: (4 - b64.count % 4) % 4)
                let data = try XCTUnwrap(Data(base64Encoded: b64), "disclosure is not base64url: \(encoded)")
                out.append(String(decoding: data, as: UTF8.self))
            }
        }
        return out.joined(separator: "\n")
    }

    private func fileMode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try XCTUnwrap((attributes[.posixPermissions] as? NSNumber)?.intValue) & 0o777
    }

    // MARK: - 1. A reader of A sees nothing of B

    func testReaderOfOneMatterSeesNoPlaintextOfAnother() throws {
        try initLedger()
        try importAlphaZebra()
        let alice = try grant("alice", role: "reader", matters: [Self.matterA])  // entry 6
        let cp = try ledgerWithKey(["checkpoint"])  // a reader's export proves against the newest stored checkpoint
        XCTAssertEqual(cp.status, 0, cp.summary)

        var seen = [(String, String)]()  // (what, text): everything the reader got back
        func run(_ args: [String]) throws -> CLIResult {
            let r = try withCredential(alice, args)
            seen.append((args.joined(separator: " "), r.stdout + r.stderr))
            return r
        }

        // The reference refusals: an entry that does not exist, a matter that does not exist.
        let missingSeq = try run(["show", "99999"])
        XCTAssertEqual(missingSeq.status, 77, missingSeq.summary)
        XCTAssertEqual(missingSeq.stdout, "")
        XCTAssertTrue(missingSeq.stderr.contains("this credential may not read that"), missingSeq.summary)
        let refusal = missingSeq.stderr
        let missingMatter = try run(["list", "--matter", "M-DOES-NOT-EXIST"])
        XCTAssertEqual(missingMatter.status, 77, missingMatter.summary)
        XCTAssertEqual(missingMatter.stderr, refusal, "a nonexistent matter and a nonexistent seq read alike")

        // show, every seq: A's entries open, B's and the event entry are refused exactly like a nonexistent seq.
        for seq in 0...6 {
            for extra in [[], ["--json"]] {
                let r = try run(["show", String(seq)] + extra)
                if [0, 2, 4].contains(seq) {
                    XCTAssertEqual(r.status, 0, r.summary)
                    XCTAssertTrue(r.stdout.contains("Alpha subject \(seq / 2)"), r.summary)
                    XCTAssertTrue(r.stdout.contains(Self.matterA), r.summary)
                } else {
                    XCTAssertEqual(r.status, 77, "show \(seq): " + r.summary)
                    XCTAssertEqual(r.stdout, "", "show \(seq)")
                    XCTAssertEqual(r.stderr, refusal, "show \(seq) is refused like show 99999")
                }
            }
        }

        // list: only A's entries.
        let table = try run(["list"])
        XCTAssertEqual(table.status, 0, table.summary)
        XCTAssertEqual(table.stdoutLines.count, 4, table.summary)  // header + 3
        let json = try run(["list", "--json"])
        XCTAssertEqual(json.status, 0, json.summary)
        XCTAssertEqual(try seqs(json), [0, 2, 4])
        let listA = try run(["list", "--json", "--matter", Self.matterA])
        XCTAssertEqual(try seqs(listA), [0, 2, 4], listA.summary)
        for args in [["list", "--matter", Self.matterB], ["list", "--json", "--matter", Self.matterB],
                     ["list", "--matter", Self.matterB, "--from", "2026-01-01"]] {
            let r = try run(args)
            XCTAssertEqual(r.status, 77, r.summary)
            XCTAssertEqual(r.stdout, "")
            XCTAssertEqual(r.stderr, refusal, "\(args) is refused like a nonexistent matter")
        }

        // report, every format: one matter (A) only.
        for format in ["text", "json", "csv", "html"] {
            let r = try run(["report", "--format", format, "--as-of", "2026-03-31"])
            XCTAssertEqual(r.status, 0, "report --format \(format): " + r.summary)
            XCTAssertTrue(r.stdout.contains(Self.matterA), "report --format \(format) names A: " + r.summary)
            let b = try run(["report", "--format", format, "--matter", Self.matterB])
            XCTAssertEqual(b.status, 77, b.summary)
            XCTAssertEqual(b.stdout, "")
            XCTAssertEqual(b.stderr, refusal)
        }
        let reportFile = temp.appendingPathComponent("report.html").path
        let reportToFile = try run(["report", "--format", "html", "-o", reportFile])
        XCTAssertEqual(reportToFile.status, 0, reportToFile.summary)

        // export: B (alone or with A) refused and no file; A's bundle verifies.
        for matters in [[Self.matterB], [Self.matterA, Self.matterB], ["M-DOES-NOT-EXIST"]] {
            let out = temp.appendingPathComponent("refused-\(UUID().uuidString).zip").path
            let r = try run(["export", "-o", out] + matters.flatMap { ["--matter", $0] })
            XCTAssertEqual(r.status, 77, "export \(matters): " + r.summary)
            XCTAssertEqual(r.stdout, "")
            XCTAssertEqual(r.stderr, refusal, "export \(matters) is refused like a nonexistent matter")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused export wrote \(out)")
        }
        var bundles = [String: String]()
        for profile in ["insurer", "full"] {
            let out = temp.appendingPathComponent("alpha-\(profile).zip").path
            let r = try run(["export", "--matter", Self.matterA, "--profile", profile, "-o", out]
                            + (profile == "full" ? ["--i-understand-this-reveals-privileged-content"] : []))
            XCTAssertEqual(r.status, 0, r.summary)
            bundles[profile] = out
            let verified = try ledger(["verify-bundle", out, "--json",
                                       "--verifier-key", ledgerDir.appendingPathComponent("verifier.key").path])
            seen.append(("verify-bundle \(profile)", verified.stdout + verified.stderr))
            XCTAssertEqual(verified.status, 0, verified.summary)
            let text = try ledger(["verify-bundle", out])
            seen.append(("verify-bundle text \(profile)", text.stdout + text.stderr))
            XCTAssertEqual(text.status, 0, text.summary)
        }
        let full = try unzipWithPython(try XCTUnwrap(bundles["full"]))
        let entries = String(decoding: try XCTUnwrap(full["entries.jsonl"]), as: UTF8.self)
        XCTAssertEqual(entries.split(separator: "\n").count, 3, entries)
        XCTAssertTrue(try disclosed(entries).contains("Alpha subject 1"), "the full bundle discloses A's plaintext")

        // Nothing of B anywhere: outputs, the report file, every member of both bundles, the zips themselves.
        for (what, text) in seen {
            XCTAssertFalse(text.contains(Self.marker), "B's plaintext leaked through `\(what)`:\n\(text)")
        }
        var files = [(String, Data)]()
        files.append(("report.html", try Data(contentsOf: URL(fileURLWithPath: reportFile))))
        for (profile, path) in bundles {
            files.append((path, try Data(contentsOf: URL(fileURLWithPath: path))))
            for (name, data) in try unzipWithPython(path) {
                files.append(("\(profile):\(name)", data))
                if name.hasSuffix(".jsonl") {  // disclosures are base64url: decoded, too
                    let text = try disclosed(String(decoding: data, as: UTF8.self))
                    files.append(("\(profile):\(name) (disclosures decoded)", Data(text.utf8)))
                }
            }
        }
        for (name, data) in files {
            XCTAssertNil(data.range(of: Data(Self.marker.utf8)), "B's plaintext leaked into \(name)")
        }
        // Controls: the master key does see B, through the same channels (the markers and the decoding are real).
        let master = try ledgerWithKey(["show", "1"])
        XCTAssertEqual(master.status, 0, master.summary)
        XCTAssertTrue(master.stdout.contains("ZEBRA-SECRET-7731"), master.summary)
        let masterReport = try ledgerWithKey(["report", "--format", "html", "--as-of", "2026-03-31"])
        XCTAssertTrue(masterReport.stdout.contains(Self.marker), "the master's report names B")
        let masterBundle = temp.appendingPathComponent("zebra-master.zip").path
        let masterExport = try ledgerWithKey(["export", "--matter", Self.matterB, "--profile", "full",
                                              "-o", masterBundle, "--i-understand-this-reveals-privileged-content"])
        XCTAssertEqual(masterExport.status, 0, masterExport.summary)
        let zebraEntries = String(decoding: try XCTUnwrap(try unzipWithPython(masterBundle)["entries.jsonl"]), as: UTF8.self)
        XCTAssertTrue(try disclosed(zebraEntries).contains("ZEBRA-SECRET-7731"), "decoded disclosures show markers")
        try assertKeylessVerifyClean()
    }

    // MARK: - 2. An appender writes and reads nothing

    func testAppenderImportsTenThousandAndReadsNone() throws {
        try initLedger()
        let matter = "M-BULK-2026"
        let appender = try grant("pms-ingest", role: "appender")  // entry 0
        let count = 10_000
        var jsonl = ""
        jsonl.reserveCapacity(count * 300)
        for i in 0..<count {
            jsonl += Self.record(matter: matter, subject: "Bulk subject \(i)", summary: "Bulk summary \(i)",
                                 sourceId: "bulk-\(i)", day: 1 + i % 28) + "\n"
        }
        let input = try write("bulk.jsonl", jsonl)
        let imported = try withCredential(appender, ["import", input])
        XCTAssertEqual(imported.status, 0, imported.summary)
        XCTAssertTrue(imported.stderr.contains("imported \(count)") || imported.stdout.contains("imported \(count)"),
                      imported.summary)
        XCTAssertEqual(try totalEntries(), count + 1)
        let accessBefore = try accessLog().count

        // Records are at seqs 1 ... 10000.
        for seq in [1, 2, 5000, count - 1, count] {
            for extra in [[], ["--json"]] {
                let r = try withCredential(appender, ["show", String(seq)] + extra)
                XCTAssertEqual(r.status, 77, "show \(seq): " + r.summary)
                XCTAssertEqual(r.stdout, "")
                XCTAssertFalse(r.stderr.contains("Bulk"), r.summary)
            }
        }
        let out = temp.appendingPathComponent("appender.zip").path
        for args in [["list"], ["list", "--json"], ["list", "--matter", matter], ["report"],
                     ["report", "--format", "json", "--matter", matter], ["export", "--matter", matter, "-o", out],
                     ["verify", "--deep"]] {
            let r = try withCredential(appender, args)
            XCTAssertEqual(r.status, 77, "\(args): " + r.summary)
            XCTAssertEqual(r.stdout, "", "\(args)")
            XCTAssertFalse(r.stderr.contains("Bulk"), r.summary)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try accessLog().count, accessBefore, "refused reads leave no access entry")

        // A reader of the matter reads them.
        let reader = try grant("p.jones", role: "reader", matters: [matter])
        for seq in [1, 5000, count] {
            let r = try withCredential(reader, ["show", String(seq), "--json"])
            XCTAssertEqual(r.status, 0, r.summary)
            let record = try XCTUnwrap(try jsonObject(r.stdout.trimmingCharacters(in: .newlines))["record"]
                                           as? [String: Any])
            XCTAssertEqual(record["subject"] as? String, "Bulk subject \(seq - 1)", r.summary)
            XCTAssertEqual(record["sourceId"] as? String, "bulk-\(seq - 1)", r.summary)
        }
        let listed = try withCredential(reader, ["list", "--json", "--matter", matter])
        XCTAssertEqual(listed.status, 0, listed.summary)
        XCTAssertEqual(listed.stdoutLines.count, count)
        // The appender still reads nothing, even with a reader granted.
        let still = try withCredential(appender, ["show", "1"])
        XCTAssertEqual(still.status, 77, still.summary)
        XCTAssertEqual(still.stdout, "")
        try assertKeylessVerifyClean()
    }

    // MARK: - 3. Revocation

    func testRevokedReaderReadsNothingAndNewEntriesStayReadableToOthers() throws {
        try initLedger()
        let a = Self.matterA, c = Self.matterC
        let lines = [
            Self.record(matter: a, subject: "A before 0", sourceId: "a-0", day: 1),  // 0
            Self.record(matter: c, subject: "C before 0", sourceId: "c-0", day: 2),  // 1
            Self.record(matter: a, subject: "A before 1", sourceId: "a-1", day: 3),  // 2
        ]
        let input = try write("in.jsonl", lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(try ledgerWithKey(["import", input]).status, 0)
        let alice = try grant("alice", role: "reader", matters: [a])
        let carol = try grant("carol", role: "reader", matters: [a, c])
        let dave = try grant("dave", role: "reader", matters: [a])

        for cred in [alice, carol, dave] {
            let r = try withCredential(cred, ["show", "2"])
            XCTAssertEqual(r.status, 0, r.summary)
            XCTAssertTrue(r.stdout.contains("A before 1"), r.summary)
        }
        XCTAssertEqual(try grantHolders(["--matter", a]), ["alice", "carol", "dave"])
        // A time after the grants and before any revocation: the last access entry's.
        let beforeRevoke = try XCTUnwrap(try accessLog().last?["recordedAt"] as? String)

        // revoke NAME: the whole grant ends.
        let revoked = try ledgerWithKey(["revoke", "alice"])
        XCTAssertEqual(revoked.status, 0, revoked.summary)
        for args in [["show", "0"], ["show", "2"], ["show", "2", "--json"], ["list"], ["list", "--json"],
                     ["list", "--matter", a], ["report"]] {
            let r = try withCredential(alice, args)
            XCTAssertEqual(r.status, 77, "revoked alice \(args): " + r.summary)
            XCTAssertEqual(r.stdout, "", "revoked alice \(args)")
        }
        XCTAssertEqual(try grantHolders(["--matter", a]), ["carol", "dave"])
        XCTAssertEqual(try grantHolders(["--matter", a, "--at", beforeRevoke]), ["alice", "carol", "dave"])

        // revoke NAME --matter A: carol keeps C only. (dave reads first: an access entry newer than alice's
        // revocation, whose time is before this one.)
        XCTAssertEqual(try withCredential(dave, ["show", "0"]).status, 0)
        let beforePartial = try XCTUnwrap(try accessLog().last?["recordedAt"] as? String)
        let partial = try ledgerWithKey(["revoke", "carol", "--matter", a])
        XCTAssertEqual(partial.status, 0, partial.summary)
        for args in [["show", "0"], ["show", "2"], ["list", "--matter", a], ["list", "--json", "--matter", a],
                     ["report", "--matter", a]] {
            let r = try withCredential(carol, args)
            XCTAssertEqual(r.status, 77, "carol after losing A \(args): " + r.summary)
            XCTAssertEqual(r.stdout, "", "carol \(args)")
        }
        let carolC = try withCredential(carol, ["show", "1"])
        XCTAssertEqual(carolC.status, 0, carolC.summary)
        XCTAssertTrue(carolC.stdout.contains("C before 0"), carolC.summary)
        let carolList = try withCredential(carol, ["list", "--json"])
        XCTAssertEqual(carolList.status, 0, carolList.summary)
        XCTAssertEqual(try seqs(carolList), [1], "carol lists only C now")
        XCTAssertEqual(try grantHolders(["--matter", a]), ["dave"])
        XCTAssertEqual(try grantHolders(["--matter", c]), ["carol"])
        XCTAssertEqual(try grantHolders(["--matter", a, "--at", beforePartial]), ["carol", "dave"])
        XCTAssertEqual(try grantHolders(["--matter", a, "--at", beforeRevoke]), ["alice", "carol", "dave"])

        // New entries after the revocations (A re-keyed): dave and the master key read them; alice and carol don't.
        let newA = try appendRecord(Self.record(matter: a, subject: "A after revoke", sourceId: "a-2", day: 10))
        let newC = try appendRecord(Self.record(matter: c, subject: "C after revoke", sourceId: "c-1", day: 11))
        for (who, cred) in [("dave", dave), ("master", "")] {
            let r = cred.isEmpty ? try ledgerWithKey(["show", newA]) : try withCredential(cred, ["show", newA])
            XCTAssertEqual(r.status, 0, "\(who): " + r.summary)
            XCTAssertTrue(r.stdout.contains("A after revoke"), "\(who): " + r.summary)
        }
        let daveList = try withCredential(dave, ["list", "--json"])
        XCTAssertEqual(daveList.status, 0, daveList.summary)
        XCTAssertEqual(try seqs(daveList), [0, 2, Int(newA)!], "dave reads A's entries from before and after re-keying")
        for cred in [alice, carol] {
            let r = try withCredential(cred, ["show", newA])
            XCTAssertEqual(r.status, 77, r.summary)
            XCTAssertEqual(r.stdout, "")
        }
        let carolNewC = try withCredential(carol, ["show", newC])
        XCTAssertEqual(carolNewC.status, 0, carolNewC.summary)
        XCTAssertTrue(carolNewC.stdout.contains("C after revoke"), carolNewC.summary)

        // The name granted again gets a new credential; the revoked file stays refused.
        let alice2 = try grant("alice", role: "reader", matters: [c])
        let old = try withCredential(alice, ["show", newC])
        XCTAssertEqual(old.status, 77, old.summary)
        XCTAssertEqual(old.stdout, "")
        let fresh = try withCredential(alice2, ["show", newC])
        XCTAssertEqual(fresh.status, 0, fresh.summary)
        try assertKeylessVerifyClean()
        let deep = try ledgerWithKey(["verify", "--deep"])
        XCTAssertEqual(deep.status, 0, deep.summary)
    }

    // MARK: - 4. One access entry per decrypting command

    func testEveryDecryptingCommandLeavesExactlyOneAccessEntry() throws {
        try initLedger()
        try importAlphaZebra()
        let alice = try grant("alice", role: "reader", matters: [Self.matterA])
        XCTAssertEqual(try ledgerWithKey(["checkpoint"]).status, 0)
        let reason = "complaint review"

        /// Runs `command`, expects `status`, and returns the access entries it added.
        func added(_ status: Int32, _ command: () throws -> CLIResult,
                   line: UInt = #line) throws -> [[String: Any]] {
            let before = try accessLog()
            let r = try command()
            XCTAssertEqual(r.status, status, r.summary, line: line)
            let after = try accessLog()
            XCTAssertGreaterThanOrEqual(after.count, before.count, line: line)
            return Array(after.dropFirst(before.count))
        }
        func assertOne(_ entries: [[String: Any]], credential: String, command: String, matters: [String],
                       all: Bool, reason expected: String?, line: UInt = #line) {
            XCTAssertEqual(entries.count, 1, "\(command): \(entries)", line: line)
            guard let entry = entries.first else { return }
            XCTAssertEqual(entry["credential"] as? String, credential, line: line)
            XCTAssertEqual(entry["command"] as? String, command, line: line)
            XCTAssertEqual(entry["matters"] as? [String], matters, "\(entry)", line: line)
            XCTAssertEqual(entry["allMatters"] as? Bool, all, "\(entry)", line: line)
            XCTAssertEqual(entry["reason"] as? String, expected, "\(entry)", line: line)
        }
        let a = Self.matterA

        // Master key.
        assertOne(try added(0) { try self.ledgerWithKey(["show", "0", "--reason", reason]) },
                  credential: "master", command: "show", matters: [a], all: false, reason: reason)
        assertOne(try added(0) { try self.ledgerWithKey(["show", "1", "--json"]) },
                  credential: "master", command: "show", matters: [Self.matterB], all: false, reason: nil)
        assertOne(try added(0) { try self.ledgerWithKey(["list", "--reason", reason]) },
                  credential: "master", command: "list", matters: [], all: true, reason: reason)
        assertOne(try added(0) { try self.ledgerWithKey(["list", "--json", "--matter", a, "--reason", reason]) },
                  credential: "master", command: "list", matters: [a], all: false, reason: reason)
        assertOne(try added(0) { try self.ledgerWithKey(["report", "--format", "json", "--reason", reason]) },
                  credential: "master", command: "report", matters: [], all: true, reason: reason)
        let out = temp.appendingPathComponent("master.zip").path
        assertOne(try added(0) { try self.ledgerWithKey(["export", "--matter", a, "-o", out, "--reason", reason]) },
                  credential: "master", command: "export", matters: [a], all: false, reason: reason)
        assertOne(try added(0) { try self.ledgerWithKey(["verify", "--deep", "--reason", reason]) },
                  credential: "master", command: "verify --deep", matters: [], all: true, reason: reason)

        // A reader.
        let shown = try added(0) { try self.withCredential(alice, ["show", "2", "--reason", reason]) }
        assertOne(shown, credential: "alice", command: "show", matters: [a], all: false, reason: reason)
        XCTAssertEqual(shown.first?["firstSeq"] as? Int, 2)
        XCTAssertEqual(shown.first?["lastSeq"] as? Int, 2)
        let listed = try added(0) { try self.withCredential(alice, ["list", "--reason", reason]) }
        assertOne(listed, credential: "alice", command: "list", matters: [a], all: false, reason: reason)
        XCTAssertEqual(listed.first?["firstSeq"] as? Int, 0)
        XCTAssertEqual(listed.first?["lastSeq"] as? Int, 4)
        assertOne(try added(0) { try self.withCredential(alice, ["report", "--reason", reason]) },
                  credential: "alice", command: "report", matters: [a], all: false, reason: reason)
        let readerOut = temp.appendingPathComponent("reader.zip").path
        assertOne(try added(0) { try self.withCredential(alice, ["export", "--matter", a, "-o", readerOut]) },
                  credential: "alice", command: "export", matters: [a], all: false, reason: nil)

        // `access log --who` and `--matter` filter what was recorded.
        let byAlice = try ledgerWithKey(["access", "log", "--json", "--who", "alice"])
        XCTAssertEqual(byAlice.stdoutLines.count, 4, byAlice.summary)
        let table = try ledgerWithKey(["access", "log"])
        XCTAssertEqual(table.status, 0, table.summary)
        XCTAssertTrue(table.stdout.contains("complaint review"), table.summary)

        // Leaves none: keyless verify, and every refused (exit 77) request.
        XCTAssertEqual(try added(0) { try self.ledger(["verify", "--ledger", self.ledgerDir.path]) }.count, 0)
        XCTAssertEqual(try added(0) { try self.ledger(["verify", "--ledger", self.ledgerDir.path, "--json"]) }.count, 0)
        let refusedOut = temp.appendingPathComponent("refused.zip").path
        for args in [["show", "1", "--reason", reason], ["show", "99999"], ["list", "--matter", Self.matterB],
                     ["list", "--matter", "M-NOPE"], ["report", "--matter", Self.matterB],
                     ["export", "--matter", Self.matterB, "-o", refusedOut]] {
            XCTAssertEqual(try added(77) { try self.withCredential(alice, args) }.count, 0, "\(args)")
        }
        let appender = try grant("ingest", role: "appender")
        let signer = try grant("notary", role: "signer")
        for cred in [appender, signer] {
            for args in [["show", "0"], ["list"], ["report"], ["export", "--matter", a, "-o", refusedOut],
                         ["verify", "--deep"]] {
                XCTAssertEqual(try added(77) { try self.withCredential(cred, args) }.count, 0, "\(cred) \(args)")
            }
        }
        try assertKeylessVerifyClean()
    }

    /// `verify --deep` needs the master key: a reader is refused (77), and as it read nothing, no access entry may
    /// claim it did.
    func testReaderVerifyDeepIsRefusedWithoutAnAccessEntry() throws {
        try initLedger()
        try importAlphaZebra()
        let alice = try grant("alice", role: "reader", matters: [Self.matterA])
        let before = try accessLog().count
        let r = try withCredential(alice, ["verify", "--deep", "--reason", "complaint review"])
        XCTAssertEqual(r.status, 77, r.summary)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(try accessLog().count, before, "a refused verify --deep (exit 77) recorded an access entry")
        try assertKeylessVerifyClean()
    }

    /// A reader's export when no checkpoint is stored yet is refused (77): it read nothing, so it must leave no
    /// access entry either.
    func testReaderExportRefusedForWantOfACheckpointLeavesNoAccessEntry() throws {
        try initLedger()
        try importAlphaZebra()
        let alice = try grant("alice", role: "reader", matters: [Self.matterA])
        let before = try accessLog().count
        let out = temp.appendingPathComponent("no-checkpoint.zip").path
        let r = try withCredential(alice, ["export", "--matter", Self.matterA, "-o", out])
        XCTAssertEqual(r.status, 77, r.summary)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("checkpoint"), r.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try accessLog().count, before, "a refused export (exit 77) recorded an access entry")
        try assertKeylessVerifyClean()
    }

    // MARK: - 5. A failed access append means nothing is printed

    /// The ledger directory and files are read-only: the read cannot record its access entry, so it prints nothing.
    func testNothingPrintedWhenTheLedgerIsReadOnly() throws {
        if getuid() == 0 {
            throw XCTSkip("running as root: file permissions do not stop root (see the RLIMIT_FSIZE test instead)")
        }
        try initLedger()
        try importAlphaZebra()
        let alice = try grant("alice", role: "reader", matters: [Self.matterA])
        let before = try accessLog().count
        let fm = FileManager.default
        let data = ledgerDir.appendingPathComponent("data.mdb").path
        let lock = ledgerDir.appendingPathComponent("lock.mdb").path
        try fm.setAttributes([.posixPermissions: 0o400], ofItemAtPath: data)
        if fm.fileExists(atPath: lock) { try fm.setAttributes([.posixPermissions: 0o400], ofItemAtPath: lock) }
        try fm.setAttributes([.posixPermissions: 0o500], ofItemAtPath: ledgerDir.path)
        defer {
            try? fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: ledgerDir.path)
            try? fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: data)
            try? fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: lock)
        }
        let out = temp.appendingPathComponent("ro.zip").path
        for args in [["show", "0"], ["show", "0", "--json"], ["list"], ["list", "--json"], ["report"],
                     ["export", "--matter", Self.matterA, "-o", out], ["verify", "--deep"]] {
            let master = try ledgerWithKey(args)
            XCTAssertNotEqual(master.status, 0, "\(args): " + master.summary)
            XCTAssertEqual(master.stdout, "", "\(args) printed without its access entry")
            let reader = try withCredential(alice, args)
            XCTAssertNotEqual(reader.status, 0, "reader \(args): " + reader.summary)
            XCTAssertEqual(reader.stdout, "", "reader \(args) printed without its access entry")
        }
        XCTAssertFalse(fm.fileExists(atPath: out))
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: ledgerDir.path)
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: data)
        try? fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: lock)
        XCTAssertEqual(try accessLog().count, before)
        try assertKeylessVerifyClean()
    }

    /// Works as root too: a compacted copy of the ledger (`ledger backup`) has no free pages, so the access entry's
    /// commit must grow data.mdb; a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) at its current size makes that
    /// commit fail with EFBIG. The opening and the planning of the read succeed; the read must print nothing.
    func testNothingPrintedWhenTheAccessEntryCannotBeCommitted() throws {
        if ProcessInfo.processInfo.environment["TSAN_OPTIONS"] != nil {
            throw XCTSkip("ThreadSanitizer's runtime dies under RLIMIT_FSIZE (DEADLYSIGNAL before main); "
                          + "the plain and AddressSanitizer runs cover this test")
        }
        try initLedger()
        try importAlphaZebra()
        let alice = try grant("alice", role: "reader", matters: [Self.matterA])
        XCTAssertEqual(try ledgerWithKey(["checkpoint"]).status, 0)
        let copy = temp.appendingPathComponent("compact-copy")
        let backup = try ledger(["backup", "--ledger", ledgerDir.path, "--to", copy.path])
        XCTAssertEqual(backup.status, 0, backup.summary)
        let data = copy.appendingPathComponent("data.mdb").path
        // Create lock.mdb (a keyless verify opens read-only) so that only data.mdb could grow.
        XCTAssertEqual(try ledger(["verify", "--ledger", copy.path]).status, 0)
        let size = try XCTUnwrap((try FileManager.default.attributesOfItem(atPath: data)[.size] as? NSNumber)?.intValue)
        let limiter = try write("limit.py", """
            import os, resource, signal, sys
            limit = int(sys.argv[1])
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            os.execv(sys.argv[2], sys.argv[2:])
            """)
        func limited(_ args: [String]) throws -> CLIResult {
            try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                           ["python3", limiter, String(size), LedgerBinary.url!.path] + args
                               + ["--ledger", copy.path],
                           environment: baseEnvironment().merging(["LEDGER_CREDENTIAL_FILE": ""]) { $1 },
                           scratch: temp)
        }
        // The limit alone does not stop a command that writes nothing.
        let keyless = try limited(["verify"])
        XCTAssertEqual(keyless.status, 0, keyless.summary)

        let out = temp.appendingPathComponent("limited.zip").path
        let key = ["--key-file", keyFile.path], cred = ["--credential", alice]
        for args in [["show", "0"] + key, ["show", "1", "--json"] + key, ["list"] + key, ["list", "--json"] + key,
                     ["report", "--format", "csv"] + key, ["export", "--matter", Self.matterA, "-o", out] + key,
                     ["verify", "--deep"] + key, ["show", "0"] + cred, ["list", "--json"] + cred,
                     ["report"] + cred, ["export", "--matter", Self.matterA, "-o", out] + cred] {
            let r = try limited(args)
            XCTAssertNotEqual(r.status, 0, "\(args): " + r.summary)
            XCTAssertEqual(r.status, 74, "\(args): a storage error: " + r.summary)
            XCTAssertEqual(r.stdout, "", "\(args) printed although its access entry was not recorded")
            XCTAssertTrue(r.stderr.contains("record access"), "\(args): " + r.summary)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
        // Nothing was recorded in the copy, which is intact; without the limit the same read works.
        let log = try ledger(["access", "log", "--json", "--ledger", copy.path] + key)
        XCTAssertEqual(log.status, 0, log.summary)
        let original = try accessLog()
        XCTAssertEqual(log.stdoutLines.count, original.count, log.summary)
        let verify = try ledger(["verify", "--ledger", copy.path, "--json"])
        XCTAssertEqual(verify.status, 0, verify.summary)
        let shown = try ledger(["show", "0", "--ledger", copy.path] + key)
        XCTAssertEqual(shown.status, 0, shown.summary)
        XCTAssertTrue(shown.stdout.contains("Alpha subject 0"), shown.summary)
    }

    // MARK: - 6. Credential hygiene

    func testCredentialFileHygieneAndGrantValidation() throws {
        try initLedger()
        try importAlphaZebra()
        let fm = FileManager.default
        let alice = try grant("alice", role: "reader", matters: [Self.matterA])
        XCTAssertEqual(try fileMode(alice), 0o600)
        let text = try String(contentsOfFile: alice, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("ledger-credential:v1:alice:"), "credential header")
        let entriesBefore = try totalEntries()

        // An existing output path is refused (73) and left untouched; nothing recorded.
        let existing = try write("existing.cred", "keep me\n")
        let overwrite = try ledgerWithKey(["grant", "bob", "--role", "reader", "--matter", Self.matterA,
                                           "-o", existing])
        XCTAssertEqual(overwrite.status, 73, overwrite.summary)
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep me\n")
        XCTAssertEqual(try grantHolders([]), ["alice"])
        let overwriteOwn = try ledgerWithKey(["grant", "bob", "--role", "reader", "--matter", Self.matterA,
                                              "-o", alice])
        XCTAssertEqual(overwriteOwn.status, 73, overwriteOwn.summary)
        XCTAssertEqual(try String(contentsOfFile: alice, encoding: .utf8), text, "an existing credential kept")

        // A credential readable by others is refused (77) and prints nothing.
        let loose = temp.appendingPathComponent("loose.cred").path
        try fm.copyItem(atPath: alice, toPath: loose)
        try fm.setAttributes([.posixPermissions: 0o644], ofItemAtPath: loose)
        for args in [["show", "0"], ["list"]] {
            let r = try withCredential(loose, args)
            XCTAssertEqual(r.status, 77, r.summary)
            XCTAssertEqual(r.stdout, "")
        }
        // Through LEDGER_CREDENTIAL_FILE too.
        let viaEnv = try ledger(["show", "0", "--ledger", ledgerDir.path], env: ["LEDGER_CREDENTIAL_FILE": loose])
        XCTAssertEqual(viaEnv.status, 77, viaEnv.summary)
        XCTAssertEqual(viaEnv.stdout, "")
        let goodEnv = try ledger(["show", "0", "--ledger", ledgerDir.path], env: ["LEDGER_CREDENTIAL_FILE": alice])
        XCTAssertEqual(goodEnv.status, 0, goodEnv.summary)

        // A credential of another ledger is refused (77), even under the same name.
        let otherDir = temp.appendingPathComponent("other-ledger")
        let otherKey = temp.appendingPathComponent("keys/other.key")
        XCTAssertEqual(try ledger(["init", "--ledger", otherDir.path, "--origin", Self.origin,
                                   "--key-file", otherKey.path]).status, 0)
        XCTAssertEqual(try ledger(["import", try write("other.jsonl", Self.record(matter: Self.matterA, subject: "x",
                                                                                     day: 1) + "\n"),
                                   "--ledger", otherDir.path, "--key-file", otherKey.path]).status, 0)
        let foreign = temp.appendingPathComponent("foreign.cred").path
        XCTAssertEqual(try ledger(["grant", "alice", "--role", "reader", "--matter", Self.matterA, "-o", foreign,
                                   "--ledger", otherDir.path, "--key-file", otherKey.path]).status, 0)
        for args in [["show", "0"], ["list"], ["report"]] {
            let r = try withCredential(foreign, args)
            XCTAssertEqual(r.status, 77, r.summary)
            XCTAssertEqual(r.stdout, "")
        }

        // Names: 'master' and invalid ones are usage errors (64), and no file is left behind.
        for name in ["master", "bad name", "-leading-dash", ".dot", "a/b", "caf\u{e9}",
                     String(repeating: "x", count: 65), "semi;colon", ""] {
            let path = temp.appendingPathComponent("name-\(UUID().uuidString).cred").path
            // After `--`, so that a name like "-h…" is taken as the name, not as options.
            let r = try ledger(["grant", "--role", "reader", "--matter", Self.matterA, "-o", path,
                                "--ledger", ledgerDir.path, "--key-file", keyFile.path, "--", name])
            XCTAssertEqual(r.status, 64, "grant '\(name)': " + r.summary)
            XCTAssertFalse(fm.fileExists(atPath: path), "grant '\(name)' left \(path) behind")
        }
        // A 64-character name is fine.
        try grant(String(repeating: "y", count: 64), role: "signer")

        // A reader without --matter, a signer with one: 64, no file.
        for args in [["--role", "reader"], ["--role", "signer", "--matter", Self.matterA]] {
            let path = temp.appendingPathComponent("role-\(UUID().uuidString).cred").path
            let r = try ledgerWithKey(["grant", "carol"] + args + ["-o", path])
            XCTAssertEqual(r.status, 64, "\(args): " + r.summary)
            XCTAssertFalse(fm.fileExists(atPath: path), "\(args) left \(path) behind")
        }

        // The same name again without revoke: 64, no file, and the first credential still works.
        for role in [["--role", "reader", "--matter", Self.matterB], ["--role", "appender"]] {
            let path = temp.appendingPathComponent("again-\(UUID().uuidString).cred").path
            let r = try ledgerWithKey(["grant", "alice"] + role + ["-o", path])
            XCTAssertEqual(r.status, 64, r.summary)
            XCTAssertFalse(fm.fileExists(atPath: path), "a refused second grant left \(path) behind")
        }
        let still = try withCredential(alice, ["show", "0"])
        XCTAssertEqual(still.status, 0, still.summary)
        let b = try withCredential(alice, ["show", "1"])
        XCTAssertEqual(b.status, 77, "the refused second grant gave alice nothing: " + b.summary)
        // Only the 64-character signer's grant and alice's read were recorded since.
        XCTAssertEqual(try totalEntries(), entriesBefore + 2 + 1)  // signer grant, two alice reads
        try assertKeylessVerifyClean()
    }

    // MARK: - 7. Keyless verify after all of it

    func testKeylessVerifyIsCleanAfterGrantsRevocationsAndReads() throws {
        try initLedger()
        try importAlphaZebra()
        let alice = try grant("alice", role: "reader", matters: [Self.matterA, Self.matterC])
        let bob = try grant("bob", role: "reader", matters: [Self.matterA])
        let ingest = try grant("ingest", role: "appender", matters: [Self.matterA, Self.matterC])
        let notary = try grant("notary", role: "signer")
        let lines = (0..<20).map {
            Self.record(matter: $0 % 2 == 0 ? Self.matterA : Self.matterC, subject: "Ingested \($0)",
                        sourceId: "ing-\($0)", day: 1 + $0)
        }
        let input = try write("ing.jsonl", lines.joined(separator: "\n") + "\n")
        let imported = try withCredential(ingest, ["import", input])
        XCTAssertEqual(imported.status, 0, imported.summary)
        // An appender limited to A and C may not write to B.
        let toB = try withCredential(ingest, ["append", try write("b.json", Self.zebraRecord(9, day: 20))])
        XCTAssertEqual(toB.status, 77, toB.summary)
        let signed = try withCredential(notary, ["checkpoint"])
        XCTAssertEqual(signed.status, 0, signed.summary)
        XCTAssertEqual(try withCredential(alice, ["list", "--reason", "complaint review"]).status, 0)
        XCTAssertEqual(try withCredential(bob, ["export", "--matter", Self.matterA,
                                                "-o", temp.appendingPathComponent("bob.zip").path]).status, 0)
        XCTAssertEqual(try ledgerWithKey(["revoke", "alice", "--matter", Self.matterA]).status, 0)
        XCTAssertEqual(try withCredential(ingest, ["append", try write("late.json", Self.record(
            matter: Self.matterA, subject: "Late", sourceId: "late", day: 28))]).status, 0)
        XCTAssertEqual(try ledgerWithKey(["revoke", "bob"]).status, 0)
        XCTAssertEqual(try ledgerWithKey(["revoke", "notary"]).status, 0)
        XCTAssertEqual(try withCredential(notary, ["checkpoint"]).status, 77, "a revoked signer signs nothing")
        XCTAssertEqual(try ledgerWithKey(["checkpoint"]).status, 0)
        XCTAssertEqual(try ledgerWithKey(["show", "0", "--reason", "complaint review"]).status, 0)

        let report = try assertKeylessVerifyClean()
        XCTAssertGreaterThan(report["entries"] as? Int ?? 0, 30)
        let text = try ledger(["verify", "--ledger", ledgerDir.path])
        XCTAssertEqual(text.status, 0, text.summary)
        XCTAssertTrue(text.stdout.contains("INTACT"), text.summary)
        XCTAssertFalse(text.stdout.contains("violation"), text.summary)
        let deep = try ledgerWithKey(["verify", "--deep", "--json"])
        XCTAssertEqual(deep.status, 0, deep.summary)
        XCTAssertEqual(try jsonObject(deep.stdout.trimmingCharacters(in: .newlines))["ok"] as? Bool, true)
    }
}
