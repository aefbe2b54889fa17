import Foundation
import XCTest

/// `ledger list` and `ledger show`.
final class ReadTests: CLITestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initLedger()
    }

    /// Six entries: even ones in M-2026-001, odd ones in M-2026-002, occurredAt 2026-03-01 … 2026-03-06 10:00Z.
    private func importSix() throws {
        let r = try ledgerWithKey(["import", try write("six.jsonl", Sample.jsonl(count: 6))])
        XCTAssertEqual(r.status, 0, r.summary)
    }

    private func listedSeqs(_ extra: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [Int] {
        let r = try ledgerWithKey(["list", "--json"] + extra)
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        return try r.stdoutLines.map { try XCTUnwrap(jsonObject($0)["seq"] as? Int) }
    }

    func testListTable() throws {
        try importSix()
        let r = try ledgerWithKey(["list"])
        XCTAssertEqual(r.status, 0, r.summary)
        let lines = r.stdoutLines
        XCTAssertEqual(lines.count, 7, r.summary)
        for column in ["SEQ", "OCCURRED", "MATTER", "AUTHOR", "CHANNEL", "DIRECTION", "KIND", "SUBJECT"] {
            XCTAssertTrue(lines[0].contains(column), "header lacks \(column): \(lines[0])")
        }
        XCTAssertTrue(lines[1].hasPrefix("0 "), lines[1])
        XCTAssertTrue(lines[1].contains("M-2026-001") && lines[1].contains("Update 0") && lines[1].contains("email"),
                      lines[1])
    }

    func testListEmptyLedgerPrintsHeaderOnly() throws {
        let r = try ledgerWithKey(["list"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdoutLines.count, 1, r.summary)
        XCTAssertTrue(r.stdout.hasPrefix("SEQ"), r.summary)
        let json = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(json.status, 0, json.summary)
        XCTAssertEqual(json.stdout, "")
    }

    func testListJSONOneObjectPerLine() throws {
        try importSix()
        let r = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdoutLines.count, 6)
        for (i, line) in r.stdoutLines.enumerated() {
            let object = try jsonObject(line)
            XCTAssertEqual(Set(object.keys), ["seq", "recordedAt", "leafHash", "record"], line)
            XCTAssertEqual(object["seq"] as? Int, i)
            let recordedAt = try XCTUnwrap(object["recordedAt"] as? String)
            XCTAssertTrue(recordedAt.hasPrefix("20") && recordedAt.contains("T")
                              && (recordedAt.hasSuffix("Z") || recordedAt.contains("+")),
                          "recordedAt is RFC 3339: \(recordedAt)")
            let leafHash = try XCTUnwrap(object["leafHash"] as? String)
            XCTAssertEqual(leafHash.count, 64)
            XCTAssertTrue(leafHash.allSatisfy(\.isHexDigit), leafHash)
            let record = try XCTUnwrap(object["record"] as? [String: Any])
            XCTAssertEqual(record["subject"] as? String, "Update \(i)")
            XCTAssertEqual(record["sourceId"] as? String, "src-\(i)")
        }
    }

    func testListFilters() throws {
        try importSix()
        XCTAssertEqual(try listedSeqs(["--matter", "M-2026-001"]), [0, 2, 4])
        XCTAssertEqual(try listedSeqs(["--matter", "M-2026-002"]), [1, 3, 5])
        // Dates: whole UTC days, inclusive.
        XCTAssertEqual(try listedSeqs(["--from", "2026-03-02", "--to", "2026-03-04"]), [1, 2, 3])
        // RFC 3339 bounds, inclusive, with offsets.
        XCTAssertEqual(try listedSeqs(["--from", "2026-03-05T10:00:00Z"]), [4, 5])
        XCTAssertEqual(try listedSeqs(["--to", "2026-03-02T11:00:00+01:00"]), [0, 1])
        XCTAssertEqual(try listedSeqs(["--to", "2026-03-02T10:59:59+01:00"]), [0])
        XCTAssertEqual(try listedSeqs(["--matter", "M-2026-002", "--from", "2026-03-03"]), [3, 5])
        XCTAssertEqual(try listedSeqs(["--from", "2027-01-01"]), [])
    }

    func testListUnknownMatter() throws {
        try importSix()
        let r = try ledgerWithKey(["list", "--matter", "M-9999"])
        XCTAssertEqual(r.status, 66, r.summary)
        XCTAssertTrue(r.stderr.contains("matter"), r.summary)
        XCTAssertFalse(r.stderr.contains("M-9999"), "matter numbers are not echoed: \(r.summary)")
    }

    func testListBadTimeIsAUsageError() throws {
        let r = try ledgerWithKey(["list", "--from", "yesterday"])
        XCTAssertEqual(r.status, 64, r.summary)
        XCTAssertTrue(r.stderr.contains("--from"), r.summary)
    }

    func testShowText() throws {
        try appendRecord(Sample.record(sourceId: "s-0"))
        try appendRecord(Sample.record(subject: "Multi\\nline", extra: #""tags":["a","b"],"durationMinutes":30"#))
        let r = try ledgerWithKey(["show", "1"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertNotNil(r.stdout.range(of: #"(?m)^seq: +1$"#, options: .regularExpression), r.summary)
        XCTAssertTrue(r.stdout.contains("recordedAt:"), r.summary)
        let leafLine = try XCTUnwrap(r.stdoutLines.first { $0.hasPrefix("leafHash:") })
        XCTAssertEqual(leafLine.split(separator: " ").last?.count, 64, leafLine)
        for value in ["M-2026-001", "Acme Holdings", "J. Rivera", "email", "outbound", "2026-03-01T14:30:00+01:00",
                      "Explained the landlord's offer", #"["a","b"]"#, "30"] {
            XCTAssertTrue(r.stdout.contains(value), "show lacks \(value): \(r.summary)")
        }
        XCTAssertNotNil(r.stdout.range(of: #"(?m)^subject: +Multi\nline$"#, options: .regularExpression), r.summary)
    }

    func testShowJSONMatchesList() throws {
        try importSix()
        let show = try ledgerWithKey(["show", "3", "--json"])
        XCTAssertEqual(show.status, 0, show.summary)
        XCTAssertEqual(show.stdoutLines.count, 1)
        let list = try ledgerWithKey(["list", "--json"])
        XCTAssertEqual(show.stdoutLines[0], list.stdoutLines[3], "show --json and list --json render an entry alike")
        let object = try jsonObject(show.stdoutLines[0])
        XCTAssertEqual(object["seq"] as? Int, 3)
        XCTAssertEqual((object["record"] as? [String: Any])?["matter"] as? String, "M-2026-002")
    }

    func testShowUnknownSeq() throws {
        let empty = try ledgerWithKey(["show", "0"])
        XCTAssertEqual(empty.status, 66, empty.summary)
        XCTAssertTrue(empty.stderr.contains("no entry 0: the ledger is empty"), empty.summary)
        try importSix()
        let r = try ledgerWithKey(["show", "42"])
        XCTAssertEqual(r.status, 66, r.summary)
        XCTAssertTrue(r.stderr.contains("no entry 42: the ledger has entries 0 to 5"), r.summary)
        XCTAssertTrue(r.stdout.isEmpty)
    }

    func testShowBadSeqIsAUsageError() throws {
        let r = try ledgerWithKey(["show", "-1"])
        XCTAssertEqual(r.status, 64, r.summary)
    }

    /// LMDB meets a damaged page while `show` reads an entry: an integrity failure (exit 1), not a storage error (74).
    func testShowOnADamagedPageIsAnIntegrityFailure() throws {
        // a leaf page of `entries` holding seq 150 as a key: one entry per row, so storage format 2
        try FileManager.default.removeItem(at: ledgerDir)
        try FileManager.default.removeItem(at: keyFile)
        _ = try initLedger(storageFormat: 2)
        let records = (0..<200).map { Sample.record(sourceId: "damage-\($0)", subject: "Update \($0)") }
        let r = try ledgerWithKey(["import", try write("many.jsonl", records.joined(separator: "\n") + "\n")])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(try ledgerWithKey(["show", "150"]).status, 0)

        // The entries leaf page holding seq 150 gets flags 0 (neither branch nor leaf): LMDB's lookup of that key
        // descends to it and answers MDB_CORRUPTED. The checks at open look only at the roots.
        let data = ledgerDir.appendingPathComponent("data.mdb")
        var bytes = [UInt8](try Data(contentsOf: data))
        let page = try XCTUnwrap(Self.entriesLeafPage(holding: 150, in: bytes))
        bytes[page * 4096 + 10] = 0
        bytes[page * 4096 + 11] = 0
        try Data(bytes).write(to: data)

        let damaged = try ledgerWithKey(["show", "150"])
        XCTAssertEqual(damaged.status, 1, damaged.summary)
        XCTAssertTrue(damaged.stderr.contains("ledger data is damaged"), damaged.summary)
        XCTAssertTrue(damaged.stderr.contains("ledger verify"), damaged.summary)  // the CLI's hint
        XCTAssertTrue(damaged.stdout.isEmpty)
    }

    /// The 4 KiB leaf page of the entries database whose node has key `seq` (u64 BE) and an entry-sized value.
    private static func entriesLeafPage(holding seq: UInt64, in bytes: [UInt8]) -> Int? {
        let key = withUnsafeBytes(of: seq.bigEndian) { Array($0) }
        for page in 2..<(bytes.count / 4096) {
            let p = page * 4096
            func u16(_ o: Int) -> Int { Int(bytes[p + o]) | Int(bytes[p + o + 1]) << 8 }
            guard u16(10) == 0x02 else { continue }  // P_LEAF only
            for slot in stride(from: p + 16, to: p + 16 + (u16(12) - 16), by: 2) {  // node offsets after the header
                let node = p + (Int(bytes[slot]) | Int(bytes[slot + 1]) << 8)
                guard node + 16 <= p + 4096 else { continue }
                let dataSize = Int(bytes[node]) | Int(bytes[node + 1]) << 8 | Int(bytes[node + 2]) << 16
                let keySize = Int(bytes[node + 6]) | Int(bytes[node + 7]) << 8
                if keySize == 8, dataSize > 200, Array(bytes[(node + 8)..<(node + 16)]) == key { return page }
            }
        }
        return nil
    }
}
