import Foundation
@testable import Ledger
import LedgerFormat
import MerkleLog
import RecordFormats
import XCTest
import ZIPFoundation

/// Every export is recorded after its bundle is written: who, which matters, the manifest's digest, the recipient
/// (docs/EXPORT.md, "Every export is recorded").
final class ExportRecordTests: XCTestCase {
    func testAnExportAppendsItsEntryWithTheManifestDigest() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([try validRecord(matter: "A"), try validRecord(matter: "B"), try validRecord(matter: "A")])
        let out = t.temp.file("a.zip")
        var options = ExportOptions(matters: ["A"])
        options.recipientFingerprint = String(repeating: "c", count: 64)
        let summary = try t.ledger.export(options, to: out)
        let log = try t.ledger.exportLog()
        XCTAssertEqual(log.count, 1)
        let export = try XCTUnwrap(log.first?.export)
        XCTAssertEqual(export.credential, "master")
        XCTAssertEqual(log.first?.matterNames, ["A"])
        XCTAssertEqual(export.entries, 2)
        XCTAssertEqual(export.treeSize, summary.treeSize)
        XCTAssertEqual(export.profile, "insurer")
        XCTAssertEqual(export.recipient, String(repeating: "c", count: 64))
        XCTAssertEqual(export.manifest, Hash.sha256(try member(out, BundleFormat.manifestNote)).hex,
                       "the entry names the bundle by its manifest's SHA-256")
        XCTAssertEqual(try t.ledger.exportLog(matter: "B").count, 0)
        XCTAssertTrue(try t.ledger.verify().isIntact)
    }

    func testAReadersExportIsRecordedUnderItsNameAndChecked() throws {
        let t = try TestLedger()
        _ = try t.ledger.append([try validRecord(matter: "A"), try validRecord(matter: "B")])
        _ = try t.ledger.grant("p.jones", role: .reader, matters: ["A"], credentialPath: t.temp.file("p.cred"))
        _ = try t.ledger.signCheckpoint()
        t.ledger.close()
        let reader = try Ledger.open(at: t.directory)
        try reader.unlock(credentialFile: t.temp.file("p.cred"))
        _ = try reader.export(ExportOptions(matters: ["A"]), to: t.temp.file("p.zip"))
        reader.close()
        let master = try t.reopen()
        defer { master.close() }
        XCTAssertEqual(try master.exportLog().map(\.export.credential), ["p.jones"])
        XCTAssertTrue(try master.verify().isIntact)
        // An export entry naming a matter outside the grant is a read without a grant.
        let tagB = try master.requireKeys().matterTag("B")
        try master.commitEvents(operation: "test") { _ in
            [.export(.init(credential: "p.jones", matters: [tagB], manifest: String(repeating: "a", count: 64),
                           recipient: nil, entries: 1, treeSize: 3, profile: "insurer"))]
        }
        XCTAssertTrue(try master.verify().violations.contains { $0.kind == .accessWithoutGrant })
    }

    func testExportEventBodiesAreStrict() throws {
        let event = AccessEvent.export(.init(credential: "master", matters: [], manifest: String(repeating: "0", count: 64),
                                             recipient: nil, entries: 0, treeSize: 0, profile: "metadata"))
        XCTAssertEqual(try AccessEvent.decode(event.encoded()), event)
        let hex = String(repeating: "0", count: 64)
        for body in [
            #"{"credential":"master","entries":1,"event":"export","manifest":"xyz","matters":[],"profile":"p","treeSize":1}"#,
            #"{"credential":"master","entries":1,"event":"export","manifest":"\#(hex)","matters":[],"profile":"","treeSize":1}"#,
            #"{"credential":"master","event":"export","manifest":"\#(hex)","matters":[],"profile":"p","treeSize":1}"#,
            #"{"credential":"master","entries":1,"event":"export","manifest":"\#(hex)","matters":[],"profile":"p","recipient":"A","treeSize":1}"#,
        ] {
            XCTAssertThrowsError(try AccessEvent.decode(Array(body.utf8)), body)
        }
    }

    private func member(_ zip: String, _ name: String) throws -> [UInt8] {
        let archive = try Archive(url: URL(fileURLWithPath: zip), accessMode: .read)
        let entry = try XCTUnwrap(archive[name])
        var bytes = [UInt8]()
        _ = try archive.extract(entry) { bytes.append(contentsOf: $0) }
        return bytes
    }
}
