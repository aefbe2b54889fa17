import Foundation
@testable import Ledger
import LedgerBundle
import LedgerFormat
import RecordFormats
import SignedNote
import Sodium
import XCTest

/// Bundle v2: the manifest is signed by the firm, so whoever handles a bundle can no longer change its metadata and
/// re-hash the manifest.
final class BundleManifestSignatureTests: XCTestCase {
    private func details(_ path: String, _ fixture: BundleFixture) throws -> [String] {
        let report = try BundleVerifier.verify(path: path, options: fixture.pinned)
        XCTAssertFalse(report.isValid)
        return report.violations.filter { $0.kind == .manifest }.map(\.detail)
    }

    func testExportWritesASignedV2Manifest() throws {
        let fixture = try BundleFixture()
        XCTAssertNil(fixture.files[BundleFormat.manifest])
        let note = String(decoding: try XCTUnwrap(fixture.files[BundleFormat.manifestNote]), as: UTF8.self)
        XCTAssertTrue(note.hasPrefix(BundleFormat.manifestHeader + "\n{\"checkpoint\":"), note)
        let report = try BundleVerifier.verify(path: fixture.path, options: fixture.pinned)
        XCTAssertTrue(report.isValid, "\(report.violations)")
        XCTAssertEqual(report.formatVersion, 2)
        XCTAssertEqual(report.notices, [])
    }

    /// docs/FORMAT.md's worked manifest.note verifies with the verifier key printed beside it.
    func testFormatDocWorkedExampleVerifies() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/FORMAT.md"), encoding: .utf8)
        let section = try XCTUnwrap(doc.range(of: "## Bundle v2")).upperBound
        let keyStart = try XCTUnwrap(doc.range(of: "verifier key `", range: section..<doc.endIndex)).upperBound
        let key = String(doc[keyStart...].prefix { $0 != "`" })
        let start = try XCTUnwrap(doc.range(of: "```\n" + BundleFormat.manifestHeader, range: keyStart..<doc.endIndex))
        let end = try XCTUnwrap(doc.range(of: "```", range: start.upperBound..<doc.endIndex)).lowerBound
        let note = String(doc[doc.index(start.lowerBound, offsetBy: 4)..<end])
        let signed = try SignedNoteText(parsing: note)
        XCTAssertNoThrow(try signed.verify(with: try NoteVerifierKey(text: key)))
        XCTAssertTrue(signed.text.hasPrefix(BundleFormat.manifestHeader + "\n{"))
    }

    func testChangedReasonIsRejected() throws {
        let fixture = try BundleFixture()
        let change: (inout [String: [UInt8]]) throws -> Void = { files in
            let text = String(decoding: files[BundleFormat.entries]!, as: UTF8.self)
            let changed = text.replacingOccurrences(of: "attorney-client privilege", with: "not requested")
            XCTAssertNotEqual(changed, text)
            files[BundleFormat.entries] = Array(changed.utf8)
        }
        let plain = try fixture.tampered(fixManifest: false, change)
        XCTAssertTrue(try details(plain, fixture).contains("entries.jsonl does not match the signed manifest's digest"))
        let rehashed = try fixture.tampered(resign: false, change)
        XCTAssertTrue(try details(rehashed, fixture).contains("the signature does not verify"))
    }

    func testChangedProfileIsRejected() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.tampered(resign: false, editManifest: { manifest in
            guard case .object(var profile)? = manifest["profile"] else { return XCTFail("no profile") }
            _ = profile.updateValue(.string("not requested"), forKey: "defaultReason")
            _ = manifest.updateValue(.object(profile), forKey: "profile")
        }) { _ in }
        XCTAssertEqual(try details(bundle, fixture), ["the signature does not verify"])
    }

    func testChangedReportIsRejected() throws {
        let fixture = try BundleFixture()
        let edit: (inout [String: [UInt8]]) throws -> Void = { $0[BundleFormat.report]! += Array("<p>x</p>".utf8) }
        XCTAssertEqual(try details(try fixture.tampered(fixManifest: false, edit), fixture),
                       ["report.html does not match the signed manifest's digest"])
        XCTAssertEqual(try details(try fixture.tampered(resign: false, edit), fixture),
                       ["the signature does not verify"])
    }

    func testASignatureByAnotherKeyIsRejected() throws {
        let fixture = try BundleFixture()
        let attacker = try NoteSigner(name: fixture.ledger.ledger.origin, seed: SecretBytes(randomCount: 32))
        let bundle = try fixture.tampered(manifestSigner: attacker) { _ in }
        let found = try details(bundle, fixture)
        XCTAssertTrue(found.contains { $0.hasPrefix("the signature is not by the verifier key") }, "\(found)")
    }

    func testHeaderAndCanonicalFormAreChecked() throws {
        let fixture = try BundleFixture()
        let json = Array(String(decoding: fixture.files[BundleFormat.manifestNote]!, as: UTF8.self)
            .split(separator: "\n")[1].utf8)
        let spaced = Array(String(decoding: json, as: UTF8.self).replacingOccurrences(of: "\":", with: "\": ").utf8)
        let loose = try fixture.tampered(fixManifest: false) { files in
            files[BundleFormat.manifestNote] = Array(try fixture.ledger.ledger.signManifest(json: spaced).utf8)
        }
        XCTAssertEqual(try details(loose, fixture), ["manifest.note's JSON is not canonical (keys sorted, no whitespace)"])
        let header = try fixture.tampered(fixManifest: false) { files in
            let text = "client-ledger export manifest v3\n" + String(decoding: json, as: UTF8.self) + "\n"
            files[BundleFormat.manifestNote] = Array(try fixture.ledger.ledger.signNoteForTests(text).utf8)
        }
        XCTAssertEqual(try details(header, fixture), ["manifest.note's header is not the bundle v2 manifest header"])
    }

    func testUnknownManifestMemberIsRejectedEvenWhenSigned() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.tampered(editManifest: { _ = $0.updateValue(.bool(true), forKey: "extra") }) { _ in }
        XCTAssertEqual(try details(bundle, fixture), ["the manifest has an unknown member 'extra'"])
    }

    func testAV2BundleHasExactlyOneManifest() throws {
        let fixture = try BundleFixture()
        let both = try fixture.tampered(fixManifest: false) { $0[BundleFormat.manifest] = Array("{}\n".utf8) }
        XCTAssertThrowsError(try BundleVerifier.verify(path: both, options: fixture.pinned))
        let none = try fixture.tampered(fixManifest: false) { $0[BundleFormat.manifestNote] = nil }
        XCTAssertThrowsError(try BundleVerifier.verify(path: none, options: fixture.pinned)) { error in
            XCTAssertTrue("\(error)".contains("missing file 'manifest.note'"), "\(error)")
        }
    }
}
