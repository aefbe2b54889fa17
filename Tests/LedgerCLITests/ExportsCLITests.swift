import Foundation
import XCTest

/// `ledger exports` and the report's EXPORTS section: what went to whom, as the ledger recorded it.
final class ExportsCLITests: CLITestCase {
    func testEveryExportIsListedWithItsManifestDigest() throws {
        try initLedger()
        _ = try appendRecord(Sample.record(matter: "M-1"))
        _ = try appendRecord(Sample.record(matter: "M-2"))
        let bundle = temp.appendingPathComponent("m1.zip").path
        XCTAssertEqual(try ledgerWithKey(["export", "--matter", "M-1", "-o", bundle]).status, 0)
        let listed = try ledgerWithKey(["exports", "--json"])
        XCTAssertEqual(listed.status, 0, listed.summary)
        let rows = try listed.stdout.split(separator: "\n").map { try jsonObject(String($0)) }
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["matters"] as? [String], ["M-1"])
        XCTAssertEqual(rows[0]["credential"] as? String, "master")
        XCTAssertTrue(rows[0]["recipient"] is NSNull)
        let manifest = try XCTUnwrap(try unzipWithPython(bundle)["manifest.note"])
        let digest = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["sha256sum"], environment: baseEnvironment(),
                                    stdin: manifest, scratch: temp).stdout.prefix(64)
        XCTAssertEqual(rows[0]["manifestSHA256"] as? String, String(digest))
        XCTAssertEqual(try ledgerWithKey(["exports", "--matter", "M-2", "--json"]).stdout, "")
        let report = try ledgerWithKey(["report", "--matter", "M-1"])
        XCTAssertTrue(report.stdout.contains("EXPORTS (bundles given away"), report.summary)
        XCTAssertEqual(try ledger(["verify", "--ledger", ledgerDir.path]).status, 0)
    }

    func testASealedExportNamesItsRecipientByKeyFingerprint() throws {
        try initLedger()
        _ = try appendRecord(Sample.record(matter: "M-1"))
        var fingerprints = [String]()
        for (index, key) in ["insurer", "insurer", "counsel"].enumerated() {
            let keyFile = temp.appendingPathComponent("\(key).key").path
            if !FileManager.default.fileExists(atPath: keyFile) {
                XCTAssertEqual(try ledger(["recipient", "new", "-o", keyFile]).status, 0)
            }
            let out = temp.appendingPathComponent("b\(index).zip.age").path
            let export = try ledgerWithKey(["export", "--matter", "M-1", "--to-recipient", keyFile, "-o", out])
            XCTAssertEqual(export.status, 0, export.summary)
            let rows = try ledgerWithKey(["exports", "--json"]).stdout.split(separator: "\n")
            fingerprints.append(try XCTUnwrap(try jsonObject(String(rows.last!))["recipient"] as? String))
        }
        XCTAssertEqual(fingerprints[0].count, 64)
        XCTAssertEqual(fingerprints[0], fingerprints[1], "one recipient, one fingerprint")
        XCTAssertNotEqual(fingerprints[0], fingerprints[2])
    }
}
