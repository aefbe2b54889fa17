import Foundation
import MerkleLog
import RecordFormats
import XCTest
@testable import Ledger
import LedgerFormat
import LedgerSupport

final class ImportTests: XCTestCase {
    /// `count` valid JSON lines with sourceIds src-<offset+i>.
    func lines(_ count: Int, offset: Int = 0, matter: String = "M-1") -> [String] {
        (0..<count).map { i in
            jsonLine(recordJSON(["sourceSystem": "pms", "sourceId": .string("src-\(offset + i)"),
                                 "summary": .string("record \(offset + i)")], matter: matter))
        }
    }

    func snapshot(_ t: TestLedger) throws -> (size: UInt64, root: Hash, data: [UInt8]) {
        (try t.ledger.size(), try t.ledger.rootHash(), try fileDigest(t.directory + "/data.mdb"))
    }

    func testImportJSONL() throws {
        let t = try TestLedger()
        let path = try t.temp.write("in.jsonl", lines(25).joined(separator: "\n") + "\n")
        let summary = try t.ledger.importRecords(from: path)
        XCTAssertEqual(summary.imported, 25)
        XCTAssertEqual(summary.duplicates, 0)
        XCTAssertEqual(summary.rejected, [])
        XCTAssertEqual(summary.firstSeq, 0)
        XCTAssertEqual(summary.lastSeq, 24)
        XCTAssertEqual(summary.line, "imported 25, skipped 0 duplicates, rejected 0")
        XCTAssertEqual(try t.ledger.size(), 25)
        let entries = try allEntries(t.ledger)
        XCTAssertEqual(entries.map { $0.string("summary") }, (0..<25).map { "record \($0)" }, "file order is seq order")
    }

    func testReimportAddsNothing() throws {
        let t = try TestLedger()
        let path = try t.temp.write("in.jsonl", lines(10).joined(separator: "\n"))
        _ = try t.ledger.importRecords(from: path)
        let before = try snapshot(t)
        let again = try t.ledger.importRecords(from: path)
        XCTAssertEqual(again.imported, 0)
        XCTAssertEqual(again.duplicates, 10)
        XCTAssertNil(again.firstSeq)
        XCTAssertEqual(again.line, "imported 0, skipped 10 duplicates, rejected 0")
        XCTAssertEqual(try t.ledger.size(), before.size)
        XCTAssertEqual(try t.ledger.rootHash(), before.root)
        // A file overlapping the first appends only the new records.
        let overlap = try t.temp.write("more.jsonl", (lines(5, offset: 8)).joined(separator: "\n"))
        let more = try t.ledger.importRecords(from: overlap)
        XCTAssertEqual(more.imported, 3)
        XCTAssertEqual(more.duplicates, 2)
        XCTAssertEqual(more.firstSeq, 10)
        XCTAssertEqual(more.lastSeq, 12)
    }

    func testBadLinesRefuseTheWholeFileAndLeaveTheLedgerUntouched() throws {
        let t = try TestLedger()
        _ = try t.ledger.importRecords(from: try t.temp.write("seed.jsonl",
                                                              lines(3, offset: 100).joined(separator: "\n")))
        let before = try snapshot(t)
        var input = lines(6)
        input[1] = jsonLine(recordJSON(["channel": "fax"]))                       // line 2
        input[3] = #"{"matter":"M-1","author":"a","channel":"email","direction":"inbound","#
            + #""occurredAt":"2026-03-01T14:30:00Z","durationMinutes":2.5}"#      // line 4
        input.insert("", at: 4)                                                    // line 5 blank
        input[5] = jsonLine(recordJSON(["occurredAt": nil]))                      // line 6
        input.append("{not json")                                                  // line 8
        let path = try t.temp.write("bad.jsonl", input.joined(separator: "\n"))
        for batchSize in [4096, 2] {
            guard let errors = invalidRecords(try t.ledger.importRecords(from: path,
                options: ImportOptions(batchSize: batchSize))) else { continue }
            XCTAssertEqual(errors.map(\.line), [2, 4, 6, 8])
            XCTAssertEqual(errors.map(\.field), ["channel", "durationMinutes", "occurredAt", nil])
            XCTAssertTrue(errors[0].description.hasPrefix("line 2: field 'channel'"), errors[0].description)
            let after = try snapshot(t)
            XCTAssertEqual(after.size, before.size)
            XCTAssertEqual(after.root, before.root)
            XCTAssertEqual(after.data, before.data, "data.mdb is byte-identical")
        }
    }

    /// An input over the retain limit is checked in a first pass that keeps nothing (the fast twin's facts, or the
    /// strict path's record) and parsed again batch by batch: the same records, errors and refusals as a kept one.
    func testInputsTooLargeToKeepGiveTheSameAnswers() throws {
        var input = lines(6)
        input[2] = "  " + input[2].replacingOccurrences(of: ",", with: ", ")      // whitespace: the strict path
        input.append(jsonLine(recordJSON(["sourceSystem": "pms", "sourceId": "c", "corrects": 3])))
        let good = input.joined(separator: "\n")
        var bad = input
        bad[1] = jsonLine(recordJSON(["channel": "fax"]))                          // line 2
        bad.append(jsonLine(recordJSON(["sourceSystem": "pms", "sourceId": "d", "corrects": 99])))  // line 8
        bad.append("{not json")                                                     // line 9
        for retainLimit in [Int.max, 0] {
            let t = try TestLedger()
            var options = ImportOptions(batchSize: 3)
            options.retainLimit = retainLimit
            let summary = try t.ledger.importRecords(from: try t.temp.write("good.jsonl", good), options: options)
            XCTAssertEqual(summary.imported, 7, "retain limit \(retainLimit)")
            let entries = try allEntries(t.ledger)
            XCTAssertEqual(entries.prefix(6).map { $0.string("summary") }, (0..<6).map { "record \($0)" })
            XCTAssertEqual(entries.count, 7)
            let path = try t.temp.write("bad.jsonl", bad.joined(separator: "\n"))
            let errors = invalidRecords(try t.ledger.importRecords(from: path, options: options))
            XCTAssertEqual(errors?.map(\.line), [2, 8, 9], "retain limit \(retainLimit)")
            XCTAssertEqual(errors?.map(\.field), ["channel", "corrects", nil])
            options.skipInvalid = true
            let skipped = try t.ledger.importRecords(from: path, options: options)
            XCTAssertEqual(skipped.rejected.map(\.line), [2, 8, 9])
            XCTAssertEqual(skipped.imported, 0, "the rest are duplicates")
            XCTAssertEqual(skipped.duplicates, 6)
        }
    }

    func testSkipInvalidImportsTheGoodLines() throws {
        let t = try TestLedger()
        var input = lines(5)
        input[2] = jsonLine(recordJSON(["direction": "sideways"]))
        input[4] = "[]"
        let path = try t.temp.write("mixed.jsonl", input.joined(separator: "\n"))
        let summary = try t.ledger.importRecords(from: path, options: ImportOptions(skipInvalid: true))
        XCTAssertEqual(summary.imported, 3)
        XCTAssertEqual(summary.rejected.map(\.line), [3, 5])
        XCTAssertEqual(summary.rejected.first?.field, "direction")
        XCTAssertEqual(summary.line, "imported 3, skipped 0 duplicates, rejected 2")
        XCTAssertEqual(try allEntries(t.ledger).map { $0.string("sourceId") }, ["src-0", "src-1", "src-3"])
    }

    func testBlankLinesAndCRLF() throws {
        let t = try TestLedger()
        let input = "\r\n" + lines(2).joined(separator: "\r\n") + "\r\n   \r\n\t\n\n" + lines(1, offset: 2)[0] + "\r\n"
        let path = try t.temp.write("crlf.jsonl", input)
        let summary = try t.ledger.importRecords(from: path)
        XCTAssertEqual(summary.imported, 3)
        XCTAssertEqual(try t.ledger.entry(2).string("sourceId"), "src-2")
        // Line numbers count blank lines: a bad record after them is reported at its physical line.
        let bad = try t.temp.write("crlf-bad.jsonl", "\r\n\r\n" + jsonLine(recordJSON(["kind": "gossip"])) + "\r\n")
        XCTAssertEqual(invalidRecords(try t.ledger.importRecords(from: bad))?.map(\.line), [3])
        // An empty file imports nothing.
        let empty = try t.temp.write("empty.jsonl", "")
        XCTAssertEqual(try t.ledger.importRecords(from: empty).line, "imported 0, skipped 0 duplicates, rejected 0")
    }

    func testSmallBatchesGiveTheSameResult() throws {
        let input = lines(10).joined(separator: "\n") + "\n"
            + lines(4).joined(separator: "\n")  // 4 duplicates at the end
        var results = [[JSONObject]]()
        var progress = [[Int]]()
        for batchSize in [4096, 3, 1] {
            let t = try TestLedger()
            let path = try t.temp.write("in.jsonl", input)
            let seen = ProgressLog()
            let summary = try t.ledger.importRecords(from: path,
                options: ImportOptions(batchSize: batchSize, progress: { done, total in seen.add(done, total) }))
            XCTAssertEqual(summary.line, "imported 10, skipped 4 duplicates, rejected 0", "batch \(batchSize)")
            XCTAssertEqual(summary.firstSeq, 0)
            XCTAssertEqual(summary.lastSeq, 9)
            results.append(try allEntries(t.ledger).map(\.record))
            progress.append(seen.done)
            XCTAssertEqual(seen.totals, Set([14]))
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
        XCTAssertEqual(progress[0], [14])
        XCTAssertEqual(progress[1], [3, 6, 9, 12, 14])
        XCTAssertEqual(progress[2], Array(1...14))
    }

    func testMissingFileIsNotFound() throws {
        let t = try TestLedger()
        assertLedgerError(try t.ledger.importRecords(from: t.temp.file("absent.jsonl"))) {
            if case .inputNotFound = $0 { return true } else { return false }
        }
    }

    func testCorrectsIsCheckedAcrossTheFile() throws {
        let t = try TestLedger()
        var input = lines(3)
        // line 4 corrects line 2's entry: fine
        input.append(jsonLine(recordJSON(["corrects": 1, "kind": "correction"])))
        let ok = try t.temp.write("ok.jsonl", input.joined(separator: "\n"))
        XCTAssertEqual(try t.ledger.importRecords(from: ok).imported, 4)
        XCTAssertEqual(try t.ledger.entry(3).record["corrects"], 1)
        // A correction of an entry that does not exist yet is refused, naming line and field, and nothing is written.
        let before = try snapshot(t)
        let bad = try t.temp.write("bad.jsonl", [lines(1, offset: 50)[0],
                                                 jsonLine(recordJSON(["corrects": 99]))].joined(separator: "\n"))
        let errors = invalidRecords(try t.ledger.importRecords(from: bad))
        XCTAssertEqual(errors?.map(\.line), [2])
        XCTAssertEqual(errors?.map(\.field), ["corrects"])
        XCTAssertEqual(try snapshot(t).data, before.data)
    }

    func testBadCorrectsInALaterBatchWritesNothing() throws {
        // The import promises: unless skipInvalid, one bad record means nothing is written.
        let t = try TestLedger()
        var input = lines(5)
        input.append(jsonLine(recordJSON(["corrects": 500])))  // line 6, in the second batch of 3
        let path = try t.temp.write("late.jsonl", input.joined(separator: "\n"))
        let errors = invalidRecords(try t.ledger.importRecords(from: path, options: ImportOptions(batchSize: 3)))
        XCTAssertEqual(errors?.map(\.line), [6])
        XCTAssertEqual(try t.ledger.size(), 0, "nothing written")
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _done = [Int]()
    private var _totals = Set<Int>()
    func add(_ done: Int, _ total: Int) { lock.withLock { _done.append(done); _totals.insert(total) } }
    var done: [Int] { lock.withLock { _done } }
    var totals: Set<Int> { lock.withLock { _totals } }
}

final class CSVImportTests: XCTestCase {
    let digestA = String(repeating: "a1", count: 32)
    let digestB = String(repeating: "b2", count: 32)

    func testCSVImport() throws {
        let t = try TestLedger()
        let csv = """
        matter,author,channel,direction,occurredAt,summary,recipients,tags,attachments,durationMinutes,privileged,sourceId,client\r
        M-1,a.okafor,phone,outbound,2026-03-01T14:30:00+01:00,"Spoke about the offer, in detail.\r
        Second line with ""quotes"".",a@example.com; b@example.com,litigation;urgent-ish,"draft.pdf=\(digestA);notes=v2.txt=\(digestB)",25,true,c-1,\r
        M-2,b.lindqvist,email,inbound,2026-03-02T09:00:00Z,,,,,,,c-2,"Client, Ltd"\r

        """
        let path = try t.temp.write("in.csv", csv)
        let summary = try t.ledger.importRecords(from: path)
        XCTAssertEqual(summary.line, "imported 2, skipped 0 duplicates, rejected 0")
        let first = try t.ledger.entry(0)
        XCTAssertEqual(first.string("summary"), "Spoke about the offer, in detail.\r\nSecond line with \"quotes\".")
        XCTAssertEqual(first.record["recipients"], ["a@example.com", "b@example.com"])
        XCTAssertEqual(first.record["tags"], ["litigation", "urgent-ish"])
        XCTAssertEqual(first.record["attachments"], [["name": "draft.pdf", "sha256": .string(digestA)],
                                                     ["name": "notes=v2.txt", "sha256": .string(digestB)]])
        XCTAssertEqual(first.record["durationMinutes"], 25)
        XCTAssertEqual(first.record["privileged"], true)
        XCTAssertNil(first.record["client"], "empty cell = absent")
        let second = try t.ledger.entry(1)
        XCTAssertEqual(second.record.keys,
                       ["author", "channel", "client", "direction", "matter", "occurredAt", "sourceId"])
        XCTAssertEqual(second.string("client"), "Client, Ltd")
        // Idempotent like JSONL.
        XCTAssertEqual(try t.ledger.importRecords(from: path).line, "imported 0, skipped 2 duplicates, rejected 0")
        // The format can be forced regardless of the extension.
        let renamed = try t.temp.write("in.txt", csv)
        XCTAssertEqual(try t.ledger.importRecords(from: renamed, format: .csv).duplicates, 2)
    }

    func testCSVUnknownHeaderColumnIsRefused() throws {
        let t = try TestLedger()
        let path = try t.temp.write("bad-header.csv", "matter,author,channel,direction,occurredAt,colour\n"
                                                      + "M-1,a,email,inbound,2026-03-01T14:30:00Z,red\n")
        let errors = invalidRecords(try t.ledger.importRecords(from: path))
        XCTAssertEqual(errors?.count, 1)
        XCTAssertEqual(errors?.first?.line, 1)
        XCTAssertEqual(errors?.first?.field, "colour")
        let repeated = try t.temp.write("dup-header.csv", "matter,author,channel,direction,occurredAt,matter\n")
        XCTAssertEqual(invalidRecords(try t.ledger.importRecords(from: repeated))?.first?.field, "matter")
        XCTAssertEqual(try t.ledger.size(), 0)
    }

    func testCSVWrongColumnCountAndBadCellsNameTheLine() throws {
        let t = try TestLedger()
        let csv = """
        matter,author,channel,direction,occurredAt,durationMinutes,privileged,attachments
        M-1,a,email,inbound,2026-03-01T14:30:00Z,,,
        M-1,a,email,inbound,2026-03-01T14:30:00Z,,
        M-1,a,email,inbound,2026-03-01T14:30:00Z,,,,
        M-1,a,phone,inbound,2026-03-01T14:30:00Z,1.5,,
        M-1,a,phone,inbound,2026-03-01T14:30:00Z,,yes,
        M-1,a,phone,inbound,2026-03-01T14:30:00Z,,,nodigest
        M-1,a,phone,inbound,2026-03-01T14:30:00Z,,,a.pdf=XYZ
        ,a,phone,inbound,2026-03-01T14:30:00Z,,,

        """
        let path = try t.temp.write("rows.csv", csv)
        let errors = invalidRecords(try t.ledger.importRecords(from: path))
        XCTAssertEqual(errors?.map(\.line), [3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(errors?.map(\.field),
                       [nil, nil, "durationMinutes", "privileged", "attachments", "attachments[0].sha256", "matter"])
        XCTAssertTrue(errors?[0].reason.contains("columns") ?? false)
        XCTAssertEqual(try t.ledger.size(), 0)
        let skipped = try t.ledger.importRecords(from: path, options: ImportOptions(skipInvalid: true))
        XCTAssertEqual(skipped.imported, 1)
        XCTAssertEqual(skipped.rejected.count, 7)
    }

    func testCSVSyntaxErrorNamesTheLine() throws {
        let t = try TestLedger()
        let path = try t.temp.write("syntax.csv", "matter,author,channel,direction,occurredAt\n"
                                                  + "M-1,a,email,inbound,\"2026-03-01T14:30:00Z\n"
                                                  + "M-2,a,email,inbound,2026\n")
        let errors = invalidRecords(try t.ledger.importRecords(from: path))
        XCTAssertEqual(errors?.first?.line, 2)
        let stray = try t.temp.write("stray.csv", "matter,author,channel,direction,occurredAt\n"
                                                  + "M-1,a,em\"ail,inbound,2026-03-01T14:30:00Z\n")
        XCTAssertEqual(invalidRecords(try t.ledger.importRecords(from: stray))?.first?.line, 2)
        XCTAssertEqual(try t.ledger.size(), 0)
    }

    func testCSVSmallBatchesGiveTheSameResult() throws {
        var csv = "matter,author,channel,direction,occurredAt,sourceId,tags\n"
        for i in 0..<8 { csv += "M-\(i % 3),a,email,inbound,2026-03-0\(1 + i % 5)T10:00:00Z,s-\(i),t\(i);x\n" }
        csv += "M-0,a,email,inbound,2026-03-01T10:00:00Z,s-3,\n"
        var results = [[JSONObject]]()
        for batchSize in [4096, 3] {
            let t = try TestLedger()
            let path = try t.temp.write("in.csv", csv)
            XCTAssertEqual(try t.ledger.importRecords(from: path, options: ImportOptions(batchSize: batchSize)).line,
                           "imported 8, skipped 1 duplicates, rejected 0")
            results.append(try allEntries(t.ledger).map(\.record))
        }
        XCTAssertEqual(results[0], results[1])
    }

    func testHeaderOnlyAndEmptyCSV() throws {
        let t = try TestLedger()
        XCTAssertEqual(try t.ledger.importRecords(from: t.temp.write("h.csv",
            "matter,author,channel,direction,occurredAt\n")).imported, 0)
        XCTAssertEqual(try t.ledger.importRecords(from: t.temp.write("e.csv", "")).imported, 0)
    }
}

final class ImportCorrectionsTests: XCTestCase {
    func testSkipInvalidSkipsABadCorrection() throws {
        let t = try TestLedger()
        let lines = [
            jsonLine(recordJSON(["sourceId": "a"])),
            jsonLine(recordJSON(["sourceId": "b", "corrects": 7])),   // line 2: forward reference
            jsonLine(recordJSON(["sourceId": "c", "corrects": 0])),   // line 3: fine
            jsonLine(recordJSON(["sourceId": "d"])),
        ]
        let path = try t.temp.write("c.jsonl", lines.joined(separator: "\n"))
        let summary = try t.ledger.importRecords(from: path, options: ImportOptions(skipInvalid: true, batchSize: 1))
        XCTAssertEqual(summary.line, "imported 3, skipped 0 duplicates, rejected 1")
        XCTAssertEqual(summary.rejected.map(\.line), [2])
        XCTAssertEqual(summary.rejected.map(\.field), ["corrects"])
        XCTAssertEqual(try allEntries(t.ledger).map { $0.string("sourceId") }, ["a", "c", "d"])
    }
}

extension ImportTests {
    /// Another writer's append between two batches makes the batches sealed ahead stale: they are sealed again from
    /// the same records (the import asks for a batch more than once), and no record is lost or doubled, whether the
    /// input is kept between the passes or parsed again.
    func testAnotherWriterMidImportLosesNoRecord() throws {
        for retainLimit in [Int.max, 0] {
            let t = try TestLedger()
            let path = try t.temp.write("in.jsonl", lines(40).joined(separator: "\n") + "\n")
            var options = ImportOptions(batchSize: 4)
            options.retainLimit = retainLimit
            let ledger = t.ledger
            let interloper = try RecordSchema.validate(JSONParser.parse(Array(jsonLine(recordJSON(
                ["sourceSystem": "other", "sourceId": "x", "summary": "interloper"])).utf8)))
            let interloped = Locked(false)
            options.progress = { done, _ in
                guard done == 4, !interloped.withLock({ $0 }) else { return }
                interloped.withLock { $0 = true }
                _ = try? ledger.append(interloper)
            }
            let summary = try t.ledger.importRecords(from: path, options: options)
            XCTAssertTrue(interloped.withLock { $0 })
            XCTAssertEqual(summary.imported, 40, "retain limit \(retainLimit)")
            let summaries = try allEntries(t.ledger).map { $0.string("summary") }
            XCTAssertEqual(summaries.count, 41)
            XCTAssertEqual(summaries.filter { $0 != "interloper" }, (0..<40).map { "record \($0)" })
            XCTAssertEqual(summaries[4], "interloper")
        }
    }
}
