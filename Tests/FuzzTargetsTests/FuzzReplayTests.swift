import Foundation
@testable import FuzzTargets
import MerkleLog
import SignedNote
import Transparency
import XCTest

/// Replays every committed seed (Fuzz/corpus/TARGET) and every input a fuzzer once crashed on
/// (Fuzz/regressions/TARGET) through its target: a target that traps or crashes fails the suite.
final class FuzzReplayTests: XCTestCase {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    private func files(_ kind: String, _ target: String) -> [URL] {
        let directory = Self.fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }
    }

    func testEveryTargetHasASeedCorpusAndReplaysIt() throws {
        XCTAssertEqual(Set(FuzzTargets.all.map(\.name)).count, FuzzTargets.all.count, "target names are unique")
        for target in FuzzTargets.all {
            let seeds = files("corpus", target.name)
            XCTAssertFalse(seeds.isEmpty, "Fuzz/corpus/\(target.name) holds no seed")
            for url in seeds + files("regressions", target.name) {
                let data = try Data(contentsOf: url)
                data.withUnsafeBytes { target.run($0) }
            }
        }
    }

    /// The signed-note seeds are signed by the target's fixed key, so mutations start from notes that verify.
    func testTheSignedNoteSeedsOpenWithTheTargetsKey() throws {
        let seed = Self.fuzzDirectory.appendingPathComponent("corpus/signed-note/fuzz-checkpoint.txt")
        let note = try String(contentsOf: seed, encoding: .utf8)
        let checkpoint = try Checkpoint.open(note: note, verifier: FuzzTargets.noteVerifier)
        XCTAssertEqual(checkpoint.size, 42)
        let key = try String(contentsOf: Self.fuzzDirectory.appendingPathComponent("corpus/verifier-key/fuzz.key"),
                             encoding: .utf8)
        XCTAssertEqual(key, FuzzTargets.noteVerifier.text)
    }

    /// The transparency seeds were made by an independent Python script (`cryptography`'s Ed25519, the specs'
    /// formulas for key ids and the cosignature/v1 message): a receipt seed verifies against the fuzz policy with its
    /// witness's cosignature counted, the add-checkpoint seeds are cosigned, the policies parse, so the targets start
    /// from inputs that reach the deep code, and our code agrees with an implementation that is not ours.
    func testTheTransparencySeedsAreValidInputs() throws {
        let corpus = Self.fuzzDirectory.appendingPathComponent("corpus")
        let receipt = try TlogProof(parsing: Array(Data(contentsOf: corpus.appendingPathComponent("tlog-proof/index4.tlog-proof"))))
        let leaf4 = recordHash(Array("entry 4".utf8))
        let witnessed = try receipt.verify(recordHash: leaf4, policy: FuzzTargets.fuzzPolicy)
        XCTAssertTrue(witnessed.quorumMet)
        XCTAssertEqual(witnessed.cosignedBy["W"], 1_700_000_000)
        XCTAssertEqual(receipt.extra, [1, 2, 3])
        // The witness last cosigned the seed log's 5-entry tree ("same" holds that checkpoint).
        let same = Array(try Data(contentsOf: corpus.appendingPathComponent("add-checkpoint/same.txt")))
        let five = try Checkpoint(body: SignedNoteText(parsing: try AddCheckpointRequest(parsing: same).checkpointNote).text)
        let head = WitnessedHead(size: 5, root: try XCTUnwrap(Hash(bytes: five.rootHash)))
        for name in ["grow", "cosigned", "same"] {
            let body = Array(try Data(contentsOf: corpus.appendingPathComponent("add-checkpoint/\(name).txt")))
            let trusted: (String) -> [NoteVerifierKey] = { _ in [FuzzTargets.noteVerifier] }
            XCTAssertEqual(witnessVerdict(body: body, trustedKeys: trusted, latest: { _ in head }).httpStatus, 200, name)
            XCTAssertEqual(witnessVerdict(body: body, trustedKeys: trusted, latest: { _ in nil }).httpStatus, 409, name)
        }
        let first = Array(try Data(contentsOf: corpus.appendingPathComponent("add-checkpoint/first.txt")))
        let verdict = witnessVerdict(body: first, trustedKeys: { _ in [FuzzTargets.noteVerifier] }, latest: { _ in nil })
        XCTAssertEqual(verdict.httpStatus, 200)
        for name in ["single", "groups", "none"] {
            XCTAssertNoThrow(try TlogPolicy(parsing: Array(Data(contentsOf: corpus.appendingPathComponent("tlog-policy/\(name).txt")))))
        }
        let keyFile = Array(try Data(contentsOf: corpus.appendingPathComponent("cosigner-key/keyfile.txt")))
        let vkey = try String(contentsOf: corpus.appendingPathComponent("cosigner-key/vkey.txt"), encoding: .utf8)
        XCTAssertEqual(try Cosigner(keyFile: keyFile).publicKey, try CosignerKey(text: vkey))
    }
}
