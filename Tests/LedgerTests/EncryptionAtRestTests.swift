import Foundation
import RecordFormats
import XCTest
@testable import Ledger

final class EncryptionAtRestTests: XCTestCase {
    /// Every form in which `text` could leak: raw UTF-8, UTF-16LE, base64 and base64url of it at the three
    /// alignments (a base64 substring depends on where the text starts modulo 3).
    func leakForms(_ text: String) -> [(String, [UInt8])] {
        let raw = Array(text.utf8)
        var forms: [(String, [UInt8])] = [
            ("raw", raw), ("utf16le", Array(text.utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }))
        ]
        for shift in 0..<3 {
            let padded = Array(repeating: UInt8(0x20), count: shift) + raw
            let b64 = Data(padded).base64EncodedString()
            // Drop the characters that depend on the padding bytes and on what follows.
            let skip = shift == 0 ? 0 : shift + 1
            let core = String(b64.dropFirst(skip).dropLast(4))
            forms.append(("base64/\(shift)", Array(core.utf8)))
            let url = core.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            forms.append(("base64url/\(shift)", Array(url.utf8)))
        }
        return forms
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    func testNoSecretAppearsInAnyLedgerFile() throws {
        let t = try TestLedger()
        let secrets = [
            "client": "Zebulon-Quartermaine-Holdings-Client",
            "summary": "Discussed-the-Vandermeer-settlement-figure-of-4711337",
            "subject": "Subject-Xylophone-Ultramarine-Privilege",
            "decisions": "Decided-to-accept-the-Okonkwo-proposal-quietly",
            "x-internal-note": "Extension-Secret-Wolframite-Ocelot",
        ]
        let matter = "MATTER-Kingfisher-20260042"
        let sourceId = "SOURCE-Pomegranate-998877"
        var lines = [String]()
        for i in 0..<20 {
            var overrides: [String: JSONValue?] = ["sourceSystem": "pms-Lanthanum",
                                                   "sourceId": .string(i == 0 ? sourceId : "\(sourceId)-\(i)")]
            for (field, secret) in secrets {
                overrides[field] = field == "x-internal-note" ? .object(["note": .string(secret)]) : .string(secret)
            }
            lines.append(jsonLine(recordJSON(overrides, matter: matter)))
        }
        let input = try t.temp.write("secrets.jsonl", lines.joined(separator: "\n"))
        XCTAssertEqual(try t.ledger.importRecords(from: input).imported, 20)
        _ = try t.ledger.signCheckpoint()
        // Read back once so any read-side caching has happened too.
        XCTAssertEqual(try t.ledger.entry(0).string("client"), secrets["client"])
        XCTAssertEqual(try allEntries(t.ledger, EntryFilter(matter: matter)).count, 20)
        t.ledger.close()

        let files = try FileManager.default.contentsOfDirectory(atPath: t.directory).sorted()
        XCTAssertEqual(files, ["data.mdb", "ledger.lock", "lock.mdb", "verifier.key"])
        var needles = Array(secrets.values) + [matter, sourceId, "pms-Lanthanum"]
        needles += ["Vandermeer", "Kingfisher", "Pomegranate", "Wolframite"]  // fragments too
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: t.directory + "/" + file)))
            for needle in needles {
                for (form, pattern) in leakForms(needle) {
                    XCTAssertFalse(contains(bytes, pattern), "\(file) contains \(form) of \(needle)")
                }
            }
        }
        // Sanity check of the scanner itself: the plaintext input file does contain them.
        let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: input)))
        XCTAssertTrue(contains(plain, Array(matter.utf8)))
        let b64 = Data(Array(("xx" + matter + "yy").utf8)).base64EncodedString()
        XCTAssertTrue(leakForms(matter).contains { contains(Array(b64.utf8), $0.1) }, "base64 forms are detectable")
    }

    func testFieldNamesAreTheOnlyPlaintextOfARecord() throws {
        // Field names are public by design (the schema); check they are there, so the scan above is meaningful.
        let t = try TestLedger()
        _ = try t.ledger.append(validRecord(["x-distinctive-name": 1]))
        t.ledger.close()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: t.directory + "/data.mdb")))
        XCTAssertTrue(contains(bytes, Array("x-distinctive-name".utf8)))
    }
}
