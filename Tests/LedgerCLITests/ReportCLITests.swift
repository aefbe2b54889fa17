import Foundation
import XCTest

/// `ledger report`: formats, output file, policy errors, --fail-on-breach exit codes, reports on a verified bundle.
final class ReportCLITests: CLITestCase {
    /// Matter A: seq 0 update, seq 1 inquiry, seq 2 response 30 h later (inReplyTo #1: a respond breach),
    /// seq 4 update 20 days on (a cadence breach). Matter B: compliant (as of 2026-02-09).
    private let records = [
        #"{"matter":"A","client":"SECRET-CLIENT","author":"x","channel":"email","direction":"outbound","#
            + #""kind":"update","occurredAt":"2026-01-01T09:00:00Z","summary":"SECRET-SUMMARY"}"#,
        #"{"matter":"A","author":"client","channel":"portal","direction":"inbound","kind":"inquiry","#
            + #""occurredAt":"2026-01-05T10:00:00Z"}"#,
        ##"{"matter":"A","author":"x","channel":"email","direction":"outbound","kind":"response","##
            + ##""occurredAt":"2026-01-06T16:00:00Z","inReplyTo":"#1"}"##,
        #"{"matter":"B","author":"y","channel":"phone","direction":"outbound","kind":"update","#
            + #""occurredAt":"2026-02-01T09:00:00Z"}"#,
        #"{"matter":"A","author":"x","channel":"email","direction":"outbound","kind":"update","#
            + #""occurredAt":"2026-01-26T16:00:00Z"}"#,
    ]
    private let asOf = ["--as-of", "2026-02-09T00:00:00Z"]

    private func populate() throws {
        try initLedger()
        let path = try write("records.jsonl", records.joined(separator: "\n") + "\n")
        let r = try ledgerWithKey(["import", path])
        XCTAssertEqual(r.status, 0, r.summary)
    }

    func testFormats() throws {
        try populate()
        let text = try ledgerWithKey(["report"] + asOf)
        XCTAssertEqual(text.status, 0, text.summary)
        XCTAssertTrue(text.stdout.contains("1 of 2 matters in compliance (50.0%)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("breaches: cadence 1, respond 1, acknowledge 1, "
                                           + "urgent 0, promise 0, open-inquiry 0"), text.stdout)
        XCTAssertFalse(text.stdout.contains("SECRET"), "the report shows no content fields")

        let json = try ledgerWithKey(["report", "--format", "json"] + asOf)
        XCTAssertEqual(json.status, 0, json.summary)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: json.stdoutBytes) as? [String: Any])
        let summary = try XCTUnwrap(object["summary"] as? [String: Any])
        XCTAssertEqual(summary["mattersCompliant"] as? Int, 1)
        XCTAssertEqual((summary["breaches"] as? [String: Any])?["respond"] as? Int, 1)
        let inquiries = try XCTUnwrap(object["inquiries"] as? [[String: Any]])
        XCTAssertEqual(inquiries.first?["responseSeconds"] as? Int, 30 * 3600)
        XCTAssertEqual(inquiries.first?["responseSeq"] as? Int, 2)

        let csv = try ledgerWithKey(["report", "--format", "csv"] + asOf)
        XCTAssertEqual(csv.status, 0, csv.summary)
        let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines, [
            "kind,matter,seq,start,end,measured_seconds,limit_seconds,met_by,inferred,open",
            "cadence,A,,2026-01-06T16:00:00.000000Z,2026-01-26T16:00:00.000000Z,1728000,1209600,,false,false",
            "respond,A,1,2026-01-05T10:00:00.000000Z,2026-01-06T16:00:00.000000Z,108000,86400,2,false,false",
            "acknowledge,A,1,2026-01-05T10:00:00.000000Z,2026-01-06T16:00:00.000000Z,108000,14400,2,false,false",
        ])

        let html = try ledgerWithKey(["report", "--format", "html"] + asOf)
        XCTAssertEqual(html.status, 0, html.summary)
        XCTAssertTrue(html.stdout.hasPrefix("<!doctype html>"))
        XCTAssertFalse(html.stdout.contains("src=\"http"), "no external assets")
    }

    func testMatterFilterOutputFileAndFailOnBreach() throws {
        try populate()
        let breach = try ledgerWithKey(["report", "--fail-on-breach"] + asOf)
        XCTAssertEqual(breach.status, 1, breach.summary)
        XCTAssertTrue(breach.stdout.contains("BREACHES"), "the report is still printed")
        let clean = try ledgerWithKey(["report", "--matter", "B", "--fail-on-breach"] + asOf)
        XCTAssertEqual(clean.status, 0, clean.summary)
        XCTAssertTrue(clean.stdout.contains("1 of 1 matters in compliance (100.0%)"), clean.stdout)
        // Without --fail-on-breach a breach is not an error.
        XCTAssertEqual(try ledgerWithKey(["report"] + asOf).status, 0)

        let out = temp.appendingPathComponent("report.json").path
        let written = try ledgerWithKey(["report", "--format", "json", "-o", out] + asOf)
        XCTAssertEqual(written.status, 0, written.summary)
        XCTAssertEqual(written.stdout, "")
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))))
        let again = try ledgerWithKey(["report", "--format", "json", "-o", out] + asOf)
        XCTAssertEqual(again.status, 73, again.summary)

        XCTAssertEqual(try ledgerWithKey(["report", "--matter", "nope"]).status, 66)
        XCTAssertEqual(try ledgerWithKey(["report", "--as-of", "yesterday"]).status, 64)
        XCTAssertEqual(try ledgerWithKey(["report", "--format", "pdf"]).status, 64)
    }

    func testPolicyFile() throws {
        try populate()
        let lenient = try write("policy.json",
                                #"{"updateEveryDays": 30, "respondWithinHours": 48, "acknowledgeWithinHours": 48}"#)
        let ok = try ledgerWithKey(["report", "--policy", lenient, "--fail-on-breach"] + asOf)
        XCTAssertEqual(ok.status, 0, ok.summary)
        let bad = try write("bad.json", #"{"updateEveryDays": 30, "colour": "red"}"#)
        let r = try ledgerWithKey(["report", "--policy", bad] + asOf)
        XCTAssertEqual(r.status, 64, r.summary)
        XCTAssertTrue(r.stderr.contains("'colour'"), r.stderr)
        XCTAssertEqual(try ledgerWithKey(["report", "--policy",
                                          temp.appendingPathComponent("missing.json").path]).status, 66)
    }

    func testReportOnAVerifiedBundle() throws {
        try populate()
        XCTAssertEqual(try ledgerWithKey(["checkpoint"]).status, 0)
        let bundle = temp.appendingPathComponent("a.zip").path
        let export = try ledgerWithKey(["export", "--matter", "A", "-o", bundle])
        XCTAssertEqual(export.status, 0, export.summary)
        let key = ledgerDir.appendingPathComponent("verifier.key").path

        // No ledger, no keys: only the bundle and the pinned verifier key. Same figures as the ledger for matter A.
        let fromBundle = try ledger(["report", "--bundle", bundle, "--verifier-key", key, "--format", "csv"] + asOf)
        XCTAssertEqual(fromBundle.status, 0, fromBundle.summary)
        let fromLedger = try ledgerWithKey(["report", "--matter", "A", "--format", "csv"] + asOf)
        XCTAssertEqual(fromBundle.stdout, fromLedger.stdout)
        XCTAssertEqual(fromBundle.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count, 4)

        // A bundle that fails verification (checked against another firm's key) is refused.
        let other = temp.appendingPathComponent("other")
        let init2 = try ledger(["init", "--ledger", other.path, "--origin", "other.example/ledger", "--key-file",
                                temp.appendingPathComponent("keys/other.key").path])
        XCTAssertEqual(init2.status, 0, init2.summary)
        let refused = try ledger(["report", "--bundle", bundle, "--verifier-key",
                                  other.appendingPathComponent("verifier.key").path] + asOf)
        XCTAssertEqual(refused.status, 1, refused.summary)
        XCTAssertTrue(refused.stderr.contains("fails verification"), refused.stderr)
        XCTAssertEqual(refused.stdout, "")

        let notZip = try write("not.zip", "hello")
        XCTAssertEqual(try ledger(["report", "--bundle", notZip]).status, 65)
    }

    /// The insurer profile withholds sourceId, so an inReplyTo naming a sourceId cannot be resolved from a bundle:
    /// the same response is then found by inference (docs/REPORT.md, "From a bundle").
    func testBundleFallsBackToInferenceForSourceIdReplies() throws {
        try initLedger()
        let path = try write("r.jsonl", [
            #"{"matter":"S","author":"client","channel":"email","direction":"inbound","kind":"inquiry","#
                + #""occurredAt":"2026-01-05T10:00:00Z","sourceId":"pms-q1"}"#,
            #"{"matter":"S","author":"x","channel":"email","direction":"outbound","kind":"response","#
                + #""occurredAt":"2026-01-05T12:00:00Z","inReplyTo":"pms-q1","sourceId":"pms-r1"}"#,
        ].joined(separator: "\n") + "\n")
        XCTAssertEqual(try ledgerWithKey(["import", path]).status, 0)
        let bundle = temp.appendingPathComponent("s.zip").path
        XCTAssertEqual(try ledgerWithKey(["export", "--matter", "S", "-o", bundle]).status, 0)
        func inquiry(_ r: CLIResult) throws -> [String: Any] {
            XCTAssertEqual(r.status, 0, r.summary)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdoutBytes) as? [String: Any])
            return try XCTUnwrap((object["inquiries"] as? [[String: Any]])?.first)
        }
        let fromLedger = try inquiry(try ledgerWithKey(["report", "--format", "json", "--as-of", "2026-01-06"]))
        let fromBundle = try inquiry(try ledger(["report", "--bundle", bundle, "--verifier-key",
                                                 ledgerDir.appendingPathComponent("verifier.key").path,
                                                 "--format", "json", "--as-of", "2026-01-06"]))
        XCTAssertEqual(fromLedger["inferred"] as? Bool, false)
        XCTAssertEqual(fromBundle["inferred"] as? Bool, true)
        XCTAssertEqual(fromLedger["responseSeq"] as? Int, 1)
        XCTAssertEqual(fromBundle["responseSeq"] as? Int, 1)
        XCTAssertEqual(fromBundle["responseSeconds"] as? Int, 7200)
    }

    /// `report --bundle` verifies and reports from one read of the bundle; a bundle changed after export is refused.
    func testReportOnABundleRefusesATamperedOne() throws {
        try populate()
        let bundle = temp.appendingPathComponent("t.zip").path
        XCTAssertEqual(try ledgerWithKey(["export", "--matter", "A", "-o", bundle]).status, 0)
        let key = ledgerDir.appendingPathComponent("verifier.key").path
        let good = try ledger(["report", "--bundle", bundle, "--verifier-key", key, "--format", "csv"] + asOf)
        XCTAssertEqual(good.status, 0, good.summary)
        XCTAssertEqual(good.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count, 4)
        let unpinned = try ledger(["report", "--bundle", bundle] + asOf)
        XCTAssertEqual(unpinned.status, 0, unpinned.summary)
        XCTAssertTrue(unpinned.stderr.contains("not pinned") && unpinned.stderr.contains("--verifier-key"),
                      unpinned.stderr)

        // The same zip with one byte more in README.txt (its manifest digest no longer matches).
        let tampered = temp.appendingPathComponent("tampered.zip").path
        let script = """
        import sys, zipfile
        src, dst = sys.argv[1], sys.argv[2]
        with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
            for name in z.namelist():
                data = z.read(name)
                out.writestr(name, data + b"x" if name == "README.txt" else data)
        """
        let python = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, bundle, tampered],
                                    environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(python.status, 0, python.summary)
        let refused = try ledger(["report", "--bundle", tampered, "--verifier-key", key] + asOf)
        XCTAssertEqual(refused.status, 1, refused.summary)
        XCTAssertTrue(refused.stderr.contains("fails verification"), refused.stderr)
        XCTAssertEqual(refused.stdout, "")
    }
}
