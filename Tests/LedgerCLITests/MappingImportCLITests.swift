import Foundation
import XCTest

/// `ledger import --mapping MAP.json FILE`, end to end with the built binary (docs/MAPPING.md).
final class MappingImportCLITests: CLITestCase {
    var examples: URL { LedgerBinary.packageRoot.appendingPathComponent("examples/mapping") }
    var mappingPath: String { examples.appendingPathComponent("email-archive.mapping.json").path }
    var csvPath: String { examples.appendingPathComponent("email-archive.csv").path }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try initLedger()
    }

    func testImportExampleShowOneAndReimportAddsNothing() throws {
        let r = try ledgerWithKey(["import", "--mapping", mappingPath, csvPath])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "imported 10, skipped 0 duplicates, rejected 0\n")
        let show = try ledgerWithKey(["show", "4", "--json"])
        XCTAssertEqual(show.status, 0, show.summary)
        let record = try jsonObject(show.stdout)["record"] as? [String: Any]
        XCTAssertEqual(record?["occurredAt"] as? String, "2026-03-29T08:15:00+01:00")
        XCTAssertEqual(record?["direction"] as? String, "inbound")
        XCTAssertEqual(record?["sourceSystem"] as? String, "mailarchive")
        XCTAssertEqual(record?["sourceId"] as? String, "<msg-0005@mail.example.net>")
        XCTAssertEqual(record?["summary"] as? String, "Could you estimate the costs to trial?\nA range is fine.")
        let before = try ledgerSnapshot()
        let again = try ledgerWithKey(["import", "--mapping", mappingPath, csvPath])
        XCTAssertEqual(again.status, 0, again.summary)
        XCTAssertEqual(again.stdout, "imported 0, skipped 10 duplicates, rejected 0\n")
        try assertUnchanged(before, "a re-import of the same export")
        XCTAssertEqual(try entryCount(), 10)
    }

    func testBadRowExits65NamingLineAndColumnAndWritesNothing() throws {
        let text = try String(contentsOfFile: csvPath, encoding: .utf8)
        let bad = try write("bad.csv", text.replacingOccurrences(of: "15/05/2026 16:20,Inbox", with: "15/05/2026 16:20,Drafts"))
        let before = try ledgerSnapshot()
        let r = try ledgerWithKey(["import", "--mapping", mappingPath, bad])
        XCTAssertEqual(r.status, 65, r.summary)
        XCTAssertTrue(r.stderr.contains("line 16: field 'Folder'"), r.summary)
        XCTAssertFalse(r.stderr.contains("Drafts"), "never a cell's value: \(r.summary)")
        try assertUnchanged(before, "a refused mapped import")
    }

    func testBadMappingFileExits64NamingTheKeyPath() throws {
        let text = try String(contentsOfFile: mappingPath, encoding: .utf8)
        let bad = try write("bad.mapping.json", text.replacingOccurrences(of: #""Internal": "internal""#,
                                                                           with: #""Internal": "sideways""#))
        let before = try ledgerSnapshot()
        let r = try ledgerWithKey(["import", "--mapping", bad, csvPath])
        XCTAssertEqual(r.status, 64, r.summary)
        XCTAssertTrue(r.stderr.contains("'fields.direction.values.Internal' must be one of"), r.summary)
        try assertUnchanged(before, "a refused mapping file")
        let missingColumn = try write("m2.json", text.replacingOccurrences(of: #""Message-ID""#, with: #""Msg""#))
        let m = try ledgerWithKey(["import", "--mapping", missingColumn, csvPath])
        XCTAssertEqual(m.status, 65, m.summary)
        XCTAssertTrue(m.stderr.contains("field 'Msg'") && m.stderr.contains("not in the header"), m.summary)
        let missingFile = try ledgerWithKey(["import", "--mapping", temp.appendingPathComponent("none.json").path,
                                             csvPath])
        XCTAssertEqual(missingFile.status, 66, missingFile.summary)
        let huge = try write("huge.json", Data(repeating: 0x20, count: 3 << 20))
        let h = try ledgerWithKey(["import", "--mapping", huge, csvPath])
        XCTAssertEqual(h.status, 64, h.summary)
        XCTAssertTrue(h.stderr.contains("mapping file: is larger than 1 MiB"), h.summary)
        try assertUnchanged(before, "refused mapping files")
    }

    func testMappingWithFormatIsAUsageError() throws {
        let r = try ledgerWithKey(["import", "--mapping", mappingPath, "--format", "csv", csvPath])
        XCTAssertEqual(r.status, 64, r.summary)
        XCTAssertTrue(r.stderr.contains("--mapping"), r.summary)
    }
}
