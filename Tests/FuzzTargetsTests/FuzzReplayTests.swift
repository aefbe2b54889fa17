import Foundation
@testable import FuzzTargets
import SignedNote
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
}
