import Foundation
import XCTest

/// `ledger produce --format dat`: the Concordance load file read byte for byte, the text files, the privilege log,
/// the bundle beside them and the tie between a DAT row and its bundle entry (docs/PRODUCE.md).
final class ProduceCLITests: CLITestCase {
    private let header = ["BEGDOC", "ENDDOC", "DATESENT", "TIMESENT", "FROM", "TO", "CC", "SUBJECT", "CUSTODIAN",
                          "CHANNEL", "DIRECTION", "KIND", "MATTER", "LEDGERSEQ", "HASH", "TEXTPATH", "PRIVILEGE"]
    /// Values of the privileged record: never in the production.
    private let secrets = ["PRIV-SUBJECT", "PRIV-SUMMARY", "PRIV-DECISION", "priv-recipient@client.example"]

    /// M-1: a plain email (multi-line summary and subject, a þ in the subject), a privileged advice call, a letter;
    /// M-2: another matter, not produced.
    private func populatedLedger() throws {
        try initLedger()
        try appendRecord(#"{"matter":"M-1","author":"J. Rivera","channel":"email","direction":"outbound","#
                         + #""kind":"update","occurredAt":"2026-03-01T00:30:00+01:00","#
                         + #""subject":"Lease þ status\nnow","summary":"Line one.\r\nLine two.\nLine three.","#
                         + #""recipients":["bob@client.example","ann@client.example"]}"#)
        try appendRecord(#"{"matter":"M-2","author":"K. Other","channel":"phone","direction":"inbound","#
                         + #""occurredAt":"2026-03-02T09:00:00Z","summary":"Another matter entirely."}"#)
        try appendRecord(#"{"matter":"M-1","author":"A. Okafor","channel":"phone","direction":"inbound","#
                         + #""kind":"advice","occurredAt":"2026-03-03T09:05:07Z","subject":"PRIV-SUBJECT","#
                         + #""summary":"PRIV-SUMMARY","decisions":"PRIV-DECISION","#
                         + #""recipients":["priv-recipient@client.example"],"privileged":true}"#)
        try appendRecord(#"{"matter":"M-1","author":"J. Rivera","channel":"letter","direction":"outbound","#
                         + #""occurredAt":"2026-03-05T09:00:00Z","subject":"=HYPERLINK(\"x\")","summary":"Sent."}"#)
    }

    private var outDir: URL { temp.appendingPathComponent("production") }

    @discardableResult
    private func produce(_ extra: [String] = [], expect status: Int32 = 0, file: StaticString = #filePath,
                         line: UInt = #line) throws -> CLIResult {
        let r = try ledgerWithKey(["produce", "--matter", "M-1", "--profile", "full",
                                   "--i-understand-this-reveals-privileged-content", "--prefix", "ABC",
                                   "--start", "5", "--reason", "production to opposing counsel",
                                   "-o", outDir.path] + extra)
        XCTAssertEqual(r.status, status, r.summary, file: file, line: line)
        return r
    }

    /// The DAT parsed with the exact bytes: BOM, CRLF rows, 0x14 between fields, þ around every field.
    private func parseDAT(_ data: Data, file: StaticString = #filePath, line: UInt = #line) -> [[String]] {
        XCTAssertEqual(Array(data.prefix(3)), [0xEF, 0xBB, 0xBF], "UTF-8 BOM", file: file, line: line)
        guard let text = String(data: data.dropFirst(3), encoding: .utf8) else {
            XCTFail("not UTF-8", file: file, line: line)
            return []
        }
        XCTAssertTrue(text.hasSuffix("\r\n"), file: file, line: line)
        let rows = text.components(separatedBy: "\r\n").dropLast()
        return rows.map { row -> [String] in
            XCTAssertFalse(row.contains("\n") || row.contains("\r"), "a bare line break in \(row)", file: file, line: line)
            return row.split(separator: "\u{14}", omittingEmptySubsequences: false).map { cell -> String in
                let s = String(cell)
                XCTAssertTrue(s.count >= 2 && s.hasPrefix("\u{FE}") && s.hasSuffix("\u{FE}"), "unqualified: \(s)",
                              file: file, line: line)
                return String(s.dropFirst().dropLast())
            }
        }
    }

    /// Every file under `dir`, recursively, by relative path.
    private func files(under dir: URL) throws -> [String: Data] {
        var out = [String: Data]()
        let paths = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        for path in paths {
            var isDirectory: ObjCBool = false
            let full = dir.appendingPathComponent(path).path
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                out[path] = try Data(contentsOf: URL(fileURLWithPath: full))
            }
        }
        return out
    }

    func testProductionLoadFileTextPrivilegeLogAndBundle() throws {
        try populatedLedger()
        let r = try produce(["--custodian", "Firm Records"])
        XCTAssertTrue(r.stderr.contains("ABC0000005-ABC0000007"), r.summary)
        let attributes = try FileManager.default.attributesOfItem(atPath: outDir.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
        let produced = try files(under: outDir)
        XCTAssertEqual(Set(produced.keys), ["ABC.dat", "ABC-bundle.zip", "privilege-log.csv", "TEXT/ABC0000005.txt",
                                             "TEXT/ABC0000006.txt", "TEXT/ABC0000007.txt"])

        let rows = parseDAT(try XCTUnwrap(produced["ABC.dat"]))
        XCTAssertEqual(rows.first, header)
        XCTAssertEqual(rows.count, 4)
        let records = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
        XCTAssertEqual(records.map { $0["BEGDOC"]! }, ["ABC0000005", "ABC0000006", "ABC0000007"])
        XCTAssertEqual(records.map { $0["ENDDOC"]! }, records.map { $0["BEGDOC"]! })
        XCTAssertEqual(records.map { $0["LEDGERSEQ"]! }, ["0", "2", "3"])
        XCTAssertEqual(records.map { $0["MATTER"]! }, ["M-1", "M-1", "M-1"])
        XCTAssertEqual(records.map { $0["CUSTODIAN"]! }, ["Firm Records", "Firm Records", "Firm Records"])
        XCTAssertEqual(records.map { $0["TEXTPATH"]! }, ["TEXT/ABC0000005.txt", "TEXT/ABC0000006.txt",
                                                          "TEXT/ABC0000007.txt"])

        let plain = records[0]
        XCTAssertEqual(plain["DATESENT"], "2026-02-28")
        XCTAssertEqual(plain["TIMESENT"], "23:30:00")
        XCTAssertEqual(plain["FROM"], "J. Rivera")
        XCTAssertEqual(plain["TO"], "bob@client.example; ann@client.example")
        XCTAssertEqual(plain["CC"], "")
        XCTAssertEqual(plain["SUBJECT"], "Lease   status\u{AE}now")  // þ became a space, LF became ®
        XCTAssertEqual(plain["CHANNEL"], "email")
        XCTAssertEqual(plain["DIRECTION"], "outbound")
        XCTAssertEqual(plain["KIND"], "update")
        XCTAssertEqual(plain["PRIVILEGE"], "")
        let plainText = String(decoding: try XCTUnwrap(produced["TEXT/ABC0000005.txt"]), as: UTF8.self)
        XCTAssertTrue(plainText.contains("Line one.\r\nLine two.\nLine three."), plainText)

        let privileged = records[1]
        XCTAssertEqual(privileged["SUBJECT"], "")
        XCTAssertEqual(privileged["TO"], "")
        XCTAssertEqual(privileged["FROM"], "A. Okafor")
        XCTAssertEqual(privileged["DATESENT"], "2026-03-03")
        XCTAssertEqual(privileged["TIMESENT"], "09:05:07")
        XCTAssertEqual(privileged["PRIVILEGE"], "attorney-client privilege")
        let privText = String(decoding: try XCTUnwrap(produced["TEXT/ABC0000006.txt"]), as: UTF8.self)
        XCTAssertTrue(privText.contains("[withheld: attorney-client privilege]"), privText)

        let log = String(decoding: try XCTUnwrap(produced["privilege-log.csv"]), as: UTF8.self)
        let logRows = log.components(separatedBy: "\r\n")
        XCTAssertEqual(logRows.count, 3, log)  // header, the privileged record, "" after the last CRLF
        XCTAssertEqual(logRows[0], "BEGDOC,Date,Author,Recipients,Document Type,Privilege Asserted,Description,"
                       + "Basis,Withheld Fields,Ledger Seq")
        XCTAssertTrue(logRows[1].hasPrefix("ABC0000006,2026-03-03T09:05:07"), log)
        XCTAssertTrue(logRows[1].contains(",A. Okafor,[redacted],phone,attorney-client privilege,"
                                          + "communication providing legal advice,"), log)
        XCTAssertTrue(logRows[1].hasSuffix(",2"), log)

        // No withheld value anywhere: the load file, the text files, the log, and every member of the bundle.
        let bundle = outDir.appendingPathComponent("ABC-bundle.zip").path
        var everything = Array(produced.values)
        everything.append(contentsOf: try unzipWithPython(bundle).values)
        for secret in secrets {
            for data in everything {
                XCTAssertNil(data.range(of: Data(secret.utf8)), "\(secret) leaked")
            }
        }
        // The letter's subject starts with '=': kept as it is in the DAT (review tools do not evaluate it).
        XCTAssertEqual(records[2]["SUBJECT"], "=HYPERLINK(\"x\")")
    }

    func testEveryRowIsProvableByTheBundle() throws {
        try populatedLedger()
        try produce()
        let bundle = outDir.appendingPathComponent("ABC-bundle.zip").path
        let verify = try ledger(["verify-bundle", bundle, "--verifier-key",
                                 ledgerDir.appendingPathComponent("verifier.key").path])
        XCTAssertEqual(verify.status, 0, verify.summary)

        // The reviewer's check of docs/PRODUCE.md, in Python (standard library only).
        let script = try write("check_production.py", Self.reviewerCheck)
        let check = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                   ["python3", script, outDir.appendingPathComponent("ABC.dat").path, bundle],
                                   environment: baseEnvironment(), scratch: temp)
        XCTAssertEqual(check.status, 0, check.summary)
        XCTAssertEqual(check.stdoutLines, ["ABC0000005 ok", "ABC0000006 ok", "ABC0000007 ok"], check.summary)

        // The same tie, read in Swift: every HASH is the leaf hash of the entry with that index.
        let members = try unzipWithPython(bundle)
        let entries = String(decoding: try XCTUnwrap(members["entries.jsonl"]), as: UTF8.self)
        let indexes = try entries.split(separator: "\n").map { try jsonObject(String($0))["index"] as? Int }
        let rows = parseDAT(try Data(contentsOf: outDir.appendingPathComponent("ABC.dat"))).dropFirst()
        XCTAssertEqual(rows.map { Int($0[13]) }, indexes)
        XCTAssertTrue(rows.allSatisfy { $0[14].count == 64 && $0[14].allSatisfy { "0123456789abcdef".contains($0) } })
    }

    func testAccessEntryRecordedAndUsedDirectoryRefused() throws {
        try populatedLedger()
        try produce()
        let log = try ledgerWithKey(["access", "log", "--json"])
        XCTAssertEqual(log.status, 0, log.summary)
        let entries = try log.stdoutLines.map { try jsonObject($0) }
        let last = try XCTUnwrap(entries.last)
        XCTAssertEqual(last["command"] as? String, "produce", log.summary)
        XCTAssertEqual(last["reason"] as? String, "production to opposing counsel", log.summary)

        // The directory is not empty now: refused (73) before anything is read or recorded.
        let before = try XCTUnwrap(try files(under: outDir)["ABC.dat"])
        try produce(expect: 73)
        XCTAssertEqual(try files(under: outDir)["ABC.dat"], before)
        let after = try ledgerWithKey(["access", "log", "--json"])
        let produceEntries = try after.stdoutLines.filter { try jsonObject($0)["command"] as? String == "produce" }
        XCTAssertEqual(produceEntries.count, 1, after.summary)

        // An empty existing directory is accepted; a file is refused.
        let empty = temp.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        let ok = try ledgerWithKey(["produce", "--matter", "M-1", "-o", empty.path])
        XCTAssertEqual(ok.status, 0, ok.summary)
        let aFile = try write("a-file", "x")
        XCTAssertEqual(try ledgerWithKey(["produce", "--matter", "M-1", "-o", aFile]).status, 73)
        XCTAssertEqual(try ledgerWithKey(["produce", "--matter", "M-1", "--prefix", "../x", "-o",
                                          temp.appendingPathComponent("p2").path]).status, 64)
        XCTAssertEqual(try ledgerWithKey(["produce", "--matter", "M-1", "--format", "edrm", "-o",
                                          temp.appendingPathComponent("p3").path]).status, 64)
    }

    func testRangeOverridesAndProfileShapeTheRows() throws {
        try populatedLedger()
        // Up to 2026-03-04: the letter is out. subject withheld as work product; the metadata profile withholds author.
        let r = try ledgerWithKey(["produce", "--matter", "M-1", "--profile", "metadata", "--to", "2026-03-04",
                                   "--redact", "subject:work product", "-o", outDir.path])
        XCTAssertEqual(r.status, 0, r.summary)
        let rows = parseDAT(try Data(contentsOf: outDir.appendingPathComponent("PROD.dat")))
        let records = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
        XCTAssertEqual(records.map { $0["BEGDOC"]! }, ["PROD0000001", "PROD0000002"])
        XCTAssertEqual(records.map { $0["FROM"]! }, ["", ""])
        XCTAssertEqual(records.map { $0["CUSTODIAN"]! }, ["", ""])
        XCTAssertEqual(records.map { $0["SUBJECT"]! }, ["", ""])
        XCTAssertEqual(records[0]["PRIVILEGE"], "attorney-client privilege; work product")
        let log = String(decoding: try Data(contentsOf: outDir.appendingPathComponent("privilege-log.csv")),
                         as: UTF8.self)
        XCTAssertEqual(log.components(separatedBy: "\r\n").count, 4, log)
        XCTAssertTrue(log.contains("PROD0000001,2026-03-01T00:30:00+01:00,[redacted],[redacted],email,"
                                   + "attorney-client privilege; work product,"
                                   + "communication reporting on the status of the matter,"), log)
    }

    /// The snippet of docs/PRODUCE.md ("Checking a produced record"), verbatim.
    static let reviewerCheck = #"""
    import base64, hashlib, json, sys, zipfile

    dat_path, bundle_path = sys.argv[1], sys.argv[2]
    raw = open(dat_path, "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    rows = [[cell[1:-1] for cell in line.split("\x14")]
            for line in raw[3:].decode("utf-8").split("\r\n")[:-1]]
    header, rows = rows[0], rows[1:]
    with zipfile.ZipFile(bundle_path) as z:
        leaves = {e["index"]: base64.b64decode(e["leaf"])
                  for e in map(json.loads, z.read("entries.jsonl").splitlines())}
    ok = True
    for row in rows:
        record = dict(zip(header, row))
        leaf = leaves.get(int(record["LEDGERSEQ"]))
        good = leaf is not None and hashlib.sha256(b"\x00" + leaf).hexdigest() == record["HASH"]
        print(record["BEGDOC"], "ok" if good else "MISMATCH")
        ok = ok and good
    sys.exit(0 if ok else 1)
    """#
}
