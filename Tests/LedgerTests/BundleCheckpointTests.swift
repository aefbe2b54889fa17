import Foundation
@testable import Ledger
import LedgerBundle
import LedgerFormat
import MerkleLog
import RecordFormats
import SignedNote
import Sodium
import XCTest

/// Every checkpoint of a bundle is opened with the verifier key (`Checkpoint.open`): proofs are checked only against
/// a checkpoint that opened, and one that does not open is still shown in the report.
final class BundleCheckpointTests: XCTestCase {
    private let origin = "test.invalid/ledger"

    private func checkpoint(_ fixture: BundleFixture) throws -> Checkpoint {
        try Checkpoint(body: SignedNoteText(parsing: String(decoding: fixture.files[BundleFormat.checkpoint]!,
                                                            as: UTF8.self)).text)
    }

    func testForgedCheckpointIsShownButNoProofIsCheckedAgainstIt() throws {
        let fixture = try BundleFixture()
        let real = try checkpoint(fixture)
        let attacker = try NoteSigner(name: origin, seed: SecretBytes(randomCount: 32))
        let fakeRoot = Hash.sha256(Array("another tree".utf8)).bytes
        let forged = try attacker.sign(Checkpoint(origin: origin, size: real.size, rootHash: fakeRoot).body)
        let bundle = try fixture.tampered { $0[BundleFormat.checkpoint] = Array(forged.utf8) }

        let report = try BundleVerifier.verify(path: bundle, options: fixture.pinned)
        let kinds = Set(report.violations.map(\.kind))
        XCTAssertTrue(kinds.contains(.checkpointSignature), "\(report.violations)")
        XCTAssertFalse(kinds.contains(.inclusionProof), "proofs were checked against a checkpoint that did not open")
        XCTAssertEqual(report.root, Base64.encode(fakeRoot))
        XCTAssertEqual(report.treeSize, real.size)
        XCTAssertEqual(report.origin, origin)
    }

    func testGoodSignatureOverAnotherOriginIsAnOriginViolation() throws {
        let fixture = try BundleFixture()
        let real = try checkpoint(fixture)
        let other = try NoteSigner(name: "other.invalid/log", seed: SecretBytes(randomCount: 32))
        let note = try other.sign(real.body)
        // The manifest signed by the same other key: only the origin check can tell.
        let bundle = try fixture.tampered(manifestSigner: other) { $0[BundleFormat.checkpoint] = Array(note.utf8) }

        let report = try BundleVerifier.verify(path: bundle,
                                               options: BundleVerifyOptions(pinnedVerifierKey: other.verifierKey.text))
        XCTAssertEqual(report.violations.map(\.kind), [.checkpointOrigin], "\(report.violations)")
        XCTAssertEqual(report.violations.first?.expected, "other.invalid/log")
        XCTAssertEqual(report.violations.first?.found, origin)
    }

    func testOldCheckpointOfTheConsistencyProofMustOpenWithTheKey() throws {
        let fixture = try BundleFixture(sinceCheckpoint: true)
        let attacker = try NoteSigner(name: origin, seed: SecretBytes(randomCount: 32))
        let bundle = try fixture.tampered { files in
            guard case .object(var object) = try JSONParser.parse(files[BundleFormat.consistency]!),
                  let old = object["oldCheckpoint"]?.stringValue else { return XCTFail("no consistency.json") }
            let resigned = try attacker.sign(try SignedNoteText(parsing: old).text)
            _ = object.updateValue(.string(resigned), forKey: "oldCheckpoint")
            files[BundleFormat.consistency] = Array(JSONWriter.string(.object(object)).utf8)
        }
        let report = try BundleVerifier.verify(path: bundle, options: fixture.pinned)
        XCTAssertEqual(report.violations.map(\.kind), [.consistency], "\(report.violations)")
        XCTAssertTrue(report.violations[0].detail.contains("the old checkpoint does not verify"))
    }

    /// `verify(data:)` (the fuzz target's entry point) reads the bytes with the path variant's reader: the same
    /// verdict on a valid bundle and on a tampered one, and the same error on bytes that are not a zip.
    func testVerifyFromBytesAgreesWithThePathVariant() throws {
        let fixture = try BundleFixture()
        let bundle = try fixture.tampered { $0[BundleFormat.checkpoint] = Array("not a checkpoint\n".utf8) }
        for path in [fixture.path, bundle] {
            let fromPath = try BundleVerifier.verify(path: path, options: fixture.pinned)
            let fromData = try BundleVerifier.verify(data: Data(contentsOf: URL(fileURLWithPath: path)),
                                                     options: fixture.pinned)
            XCTAssertEqual(fromData.isValid, fromPath.isValid)
            XCTAssertEqual(fromData.violations.map(\.kind), fromPath.violations.map(\.kind))
        }
        XCTAssertTrue(try BundleVerifier.verify(data: Data(contentsOf: URL(fileURLWithPath: fixture.path)),
                                                options: fixture.pinned).isValid)
        XCTAssertThrowsError(try BundleVerifier.verify(data: Data("PK not a zip".utf8))) { error in
            XCTAssertTrue("\(error)".contains("not a zip archive"), "\(error)")
        }
    }

    func testLibraryMessagesNameNoFlags() throws {
        let fixture = try BundleFixture()
        let unpinned = try BundleVerifier.verify(path: fixture.path)
        XCTAssertTrue(unpinned.isValid, "\(unpinned.violations)")
        XCTAssertEqual(unpinned.warnings, [BundleReport.unpinnedKeyWarning])
        XCTAssertFalse(BundleReport.unpinnedKeyWarning.contains("--"))

        // A trusted checkpoint the bundle has no consistency proof from.
        let older = try fixture.ledger.ledger.signCheckpoint()
        _ = try fixture.ledger.ledger.append([try validRecord()])
        let newer = fixture.ledger.temp.file("newer.zip")
        _ = try fixture.ledger.ledger.export(ExportOptions(matters: ["M-1"]), to: newer)
        var options = fixture.pinned
        options.trustedCheckpoint = older
        let report = try BundleVerifier.verify(path: newer, options: options)
        XCTAssertEqual(report.violations.map(\.kind), [.trustedCheckpoint])
        XCTAssertFalse(report.violations[0].detail.contains("--"), report.violations[0].detail)
        XCTAssertTrue(report.violations[0].detail.contains("ask the firm for an export with a consistency proof"))
    }

    func testTrustedCheckpointMustOpenWithTheKey() throws {
        let fixture = try BundleFixture()
        let attacker = try NoteSigner(name: origin, seed: SecretBytes(randomCount: 32))
        let trusted = try attacker.sign(try checkpoint(fixture).body)
        var options = fixture.pinned
        options.trustedCheckpoint = trusted
        let report = try BundleVerifier.verify(path: fixture.path, options: options)
        XCTAssertEqual(report.violations.map(\.kind), [.trustedCheckpoint], "\(report.violations)")

        options.trustedCheckpoint = String(decoding: fixture.files[BundleFormat.checkpoint]!, as: UTF8.self)
        XCTAssertTrue(try BundleVerifier.verify(path: fixture.path, options: options).isValid)
    }
}
