import Foundation
@testable import Ledger
import LedgerBundle
import LedgerFormat
import MerkleLog
import RecordFormats
import SignedNote
import Sodium
import XCTest

/// A bundle exported from a small test ledger, and tampered copies of it written with the bundle's own zip writer.
/// Shared by the Bundle*Tests.
final class BundleFixture {
    let ledger: TestLedger
    let path: String
    let files: [String: [UInt8]]
    var verifierKey: String { ledger.ledger.storedVerifierKey }
    var pinned: BundleVerifyOptions { BundleVerifyOptions(pinnedVerifierKey: verifierKey) }

    /// M-1 gets two entries (one with withheld client and summary), M-2 one; the bundle is M-1's.
    init(sinceCheckpoint: Bool = false) throws {
        ledger = try TestLedger()
        _ = try ledger.ledger.append([try validRecord(["client": "Secret Client", "summary": "SECRET SUMMARY"])])
        let old = sinceCheckpoint ? try ledger.ledger.signCheckpoint() : nil
        _ = try ledger.ledger.append([
            try validRecord(["summary": "other matter"], matter: "M-2"),
            try validRecord(["channel": "phone", "kind": "advice"]),
        ])
        path = ledger.temp.file("bundle.zip")
        _ = try ledger.ledger.export(ExportOptions(matters: ["M-1"], sinceCheckpoint: old), to: path)
        files = try BundleReader.read(path)
    }

    /// A copy of the bundle with `edit` applied to its files; the manifest's digests are recomputed and the manifest
    /// signed again with the firm's key (isolating the check under test) unless `fixManifest` is false; with
    /// `resign` false the recomputed manifest keeps its old signature (an attacker's re-hash); `manifestSigner` signs
    /// it with another key instead of the firm's.
    func tampered(_ name: String = "tampered-\(UUID().uuidString).zip", fixManifest: Bool = true, resign: Bool = true,
                  manifestSigner: NoteSigner? = nil,
                  editManifest: (inout JSONObject) throws -> Void = { _ in },
                  _ edit: (inout [String: [UInt8]]) throws -> Void) throws -> String {
        var files = self.files
        try edit(&files)
        if fixManifest {
            let sign = manifestSigner?.manifestSigner ?? (resign ? ledger.ledger.manifestSigner : nil)
            try BundleManifestSupport.rewrite(&files, sign: sign, editManifest)
        }
        let out = ledger.temp.file(name)
        let members = try files.keys.sorted().map { try ZipMember.make($0, files[$0]!, method: .deflate) }
        var bytes = [UInt8]()
        try ZipWriter.write(members, date: Date(), to: { bytes.append(contentsOf: $0) })
        try Data(bytes).write(to: URL(fileURLWithPath: out))
        return out
    }

    /// entries.jsonl as JSON objects.
    func entries(_ files: [String: [UInt8]]) throws -> [JSONObject] {
        try files[BundleFormat.entries]!.split(separator: 0x0a).map { line in
            guard case .object(let object) = try JSONParser.parse(Array(line)) else {
                throw FixtureError.notAnObject
            }
            return object
        }
    }

    func entriesFile(_ entries: [JSONObject]) -> [UInt8] {
        Array(entries.map { JSONWriter.string(.object($0)) + "\n" }.joined().utf8)
    }

    enum FixtureError: Error { case notAnObject }
}

/// Each tampering is named by its kind, with what was expected against what was found where the check compares.
final class BundleViolationTests: XCTestCase {
    private func violations(_ path: String, _ fixture: BundleFixture,
                            options: BundleVerifyOptions? = nil) throws -> [BundleViolation] {
        let report = try BundleVerifier.verify(path: path, options: options ?? fixture.pinned)
        XCTAssertFalse(report.isValid)
        return report.violations
    }

    func testKindsAreTheCheckNamesOfTheJSON() throws {
        let names = BundleViolation.Kind.allCases.map(\.rawValue)
        XCTAssertEqual(Set(names).count, names.count)
        for name in ["manifest", "verifier-key", "checkpoint-signature", "checkpoint-origin", "entry-malformed",
                     "leaf-malformed", "entry-index", "entry-order", "entries", "inclusion-proof",
                     "disclosure-malformed", "disclosure-name", "redaction", "redaction-reason", "field-coverage",
                     "fields-digest", "privilege-log", "consistency", "trusted-checkpoint", "access-entry-malformed",
                     "access-leaf-malformed", "access-index", "access-order", "access-ledger", "access-inclusion-proof",
                     "access-matter"] {
            XCTAssertNotNil(BundleViolation.Kind(rawValue: name), name)
        }
        let v = BundleViolation(kind: .fieldsDigest, entry: 3, line: 2, detail: "d", expected: "e", found: "f")
        XCTAssertEqual(v.check, "fields-digest")
        XCTAssertEqual(JSONWriter.string(v.json),
                       #"{"check":"fields-digest","detail":"d","entry":3,"expected":"e","found":"f","line":2}"#)
        let plain = BundleViolation(kind: .noEntries, detail: "none")
        XCTAssertEqual(JSONWriter.string(plain.json), #"{"check":"entries","detail":"none"}"#)
    }

    /// Every check name is in docs/EXPORT.md's table of checks, and so is every name tools/verify_bundle.py uses.
    func testEveryKindIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/EXPORT.md"), encoding: .utf8)
        let python = try String(contentsOf: root.appendingPathComponent("tools/verify_bundle.py"), encoding: .utf8)
        for kind in BundleViolation.Kind.allCases {
            XCTAssertTrue(doc.contains("| `\(kind.rawValue)`") || doc.contains(", `\(kind.rawValue)` |"),
                          "docs/EXPORT.md does not document [\(kind.rawValue)]")
            XCTAssertTrue(python.contains("\"\(kind.rawValue)\""),
                          "tools/verify_bundle.py never reports [\(kind.rawValue)]")
        }
    }

    func testManifestDigestMismatchExpectsTheManifestsDigest() throws {
        let fixture = try BundleFixture()
        var html = fixture.files[BundleFormat.report]!
        html += Array("<!-- edited -->".utf8)
        let bundle = try fixture.tampered(fixManifest: false) { $0[BundleFormat.report] = html }
        let v = try XCTUnwrap(try violations(bundle, fixture).first { $0.kind == .manifest })
        XCTAssertEqual(v.expected, Hash.sha256(fixture.files[BundleFormat.report]!).hex)
        XCTAssertEqual(v.found, Hash.sha256(html).hex)
    }

    func testChangedRevealedValueIsAFieldsDigestMismatch() throws {
        let fixture = try BundleFixture()
        var leafDigest = ""
        let bundle = try fixture.tampered { files in
            // The second entry (seq 2) withholds nothing, so the privilege log does not show it.
            var entries = try fixture.entries(files)
            guard case .array(var disclosures)? = entries[1]["disclosures"] else { return XCTFail("no disclosures") }
            for (i, item) in disclosures.enumerated() {
                let json = String(decoding: Base64.decodeURL(item.stringValue!)!, as: UTF8.self)
                guard json.contains(#""kind""#) else { continue }
                let edited = json.replacingOccurrences(of: "advice", with: "update")
                disclosures[i] = .string(Base64.encodeURL(Array(edited.utf8)))
            }
            _ = entries[1].updateValue(.array(disclosures), forKey: "disclosures")
            let leaf = try Leaf.decode(Base64.decode(entries[1]["leaf"]!.stringValue!)!)
            leafDigest = leaf.fieldsDigest.hex
            files[BundleFormat.entries] = fixture.entriesFile(entries)
        }
        let all = try violations(bundle, fixture)
        XCTAssertEqual(all.map(\.kind), [.fieldsDigest])
        XCTAssertEqual(all[0].entry, 2)
        XCTAssertEqual(all[0].line, 2)
        XCTAssertEqual(all[0].expected, leafDigest)
        XCTAssertNotEqual(all[0].found, leafDigest)
        XCTAssertEqual(all[0].found?.count, 64)
    }

    func testPrivilegeLogRowMismatchNamesBothRows() throws {
        let fixture = try BundleFixture()
        var original = [String]()
        let bundle = try fixture.tampered { files in
            var rows = String(decoding: files[BundleFormat.privilegeLog]!, as: UTF8.self)
                .components(separatedBy: "\r\n")
            original = rows[1].components(separatedBy: ",")
            var cells = original
            cells[6] = "tags"
            rows[1] = cells.joined(separator: ",")
            files[BundleFormat.privilegeLog] = Array(rows.joined(separator: "\r\n").utf8)
        }
        let v = try XCTUnwrap(try violations(bundle, fixture).first { $0.kind == .privilegeLog })
        XCTAssertEqual(v.expected, "seq \(original[0]) field \(original[6]) (\(original[7]))")
        XCTAssertEqual(v.found, "seq \(original[0]) field tags (\(original[7]))")
        XCTAssertEqual(v.line, 2)
    }

    func testPrivilegeLogMissingRowCountsRows() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.tampered { files in
            var rows = String(decoding: files[BundleFormat.privilegeLog]!, as: UTF8.self)
                .components(separatedBy: "\r\n")
            rows.remove(at: rows.count - 2)  // the last row (the file ends in CRLF)
            files[BundleFormat.privilegeLog] = Array(rows.joined(separator: "\r\n").utf8)
        }
        let count = try violations(bundle, fixture).first { $0.kind == .privilegeLog && $0.line == nil }
        let expected = try XCTUnwrap(Int(try XCTUnwrap(count?.expected)))
        XCTAssertEqual(count?.found, String(expected - 1))
    }

    func testConsistencyProofOfAnotherSizeNamesBothSizes() throws {
        let fixture = try BundleFixture(sinceCheckpoint: true)
        let bundle = try fixture.tampered { files in
            guard case .object(var object) = try JSONParser.parse(files[BundleFormat.consistency]!) else { return }
            _ = object.updateValue(.integer(7), forKey: "newSize")
            files[BundleFormat.consistency] = Array(JSONWriter.string(.object(object)).utf8)
        }
        let v = try XCTUnwrap(try violations(bundle, fixture).first)
        XCTAssertEqual(v.kind, .consistency)
        XCTAssertEqual(v.expected, "3")
        XCTAssertEqual(v.found, "7")
    }

    func testCountsMismatchNamesTheManifestsCount() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.tampered(editManifest: { manifest in
            guard case .object(var counts)? = manifest["counts"] else { return XCTFail("no counts") }
            _ = counts.updateValue(.integer(5), forKey: "entries")
            _ = manifest.updateValue(.object(counts), forKey: "counts")
        }) { _ in }
        let all = try violations(bundle, fixture)
        XCTAssertEqual(all.map(\.kind), [.manifest])
        XCTAssertEqual(all[0].expected, "5")
        XCTAssertEqual(all[0].found, "2")
    }
}
