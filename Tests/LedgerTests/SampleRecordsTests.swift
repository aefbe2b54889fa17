@testable import Ledger
import LedgerBench
import LedgerFormat
import RecordFormats
import XCTest

final class SampleRecordsTests: XCTestCase {
    func testSamplesValidate() throws {
        var samples = SampleRecords()
        for i in 0..<500 {
            let value = samples.next(index: i)
            XCTAssertNoThrow(try RecordSchema.validate(value), "sample \(i)")
        }
    }

    func testSamplesAreAboutOneKiB() {
        var samples = SampleRecords()
        let bytes = samples.jsonLines(count: 1000)
        let average = Double(bytes.count) / 1000
        XCTAssertGreaterThan(average, 800)
        XCTAssertLessThan(average, 1300)
        XCTAssertEqual(bytes.filter { $0 == 0x0a }.count, 1000)
    }

    func testSamplesAreDeterministicPerSeed() {
        var a = SampleRecords(seed: 42), b = SampleRecords(seed: 42), c = SampleRecords(seed: 43)
        let la = a.jsonLines(count: 50), lb = b.jsonLines(count: 50), lc = c.jsonLines(count: 50)
        XCTAssertEqual(la, lb)
        XCTAssertNotEqual(la, lc)
        var d = SampleRecords()
        var e = SampleRecords()
        XCTAssertEqual(d.next(index: 0), e.next(index: 0))
    }

    func testSampleLinesImportIntoALedger() throws {
        let t = try TestLedger()
        var samples = SampleRecords(seed: 5, matterCount: 7)
        let path = try t.temp.write("samples.jsonl", bytes: samples.jsonLines(count: 200))
        let summary = try t.ledger.importRecords(from: path)
        XCTAssertEqual(summary.imported, 200)
        var matters = Set<String>()
        try t.ledger.entries(matching: EntryFilter()) { matters.insert($0.string("matter")!) }
        XCTAssertLessThanOrEqual(matters.count, 7)
        XCTAssertGreaterThan(matters.count, 1)
        XCTAssertEqual(try t.ledger.importRecords(from: path).duplicates, 200, "sourceIds are unique and stable")
    }
}
