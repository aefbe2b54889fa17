import Foundation
import LedgerSupport
import MerkleLog
import Transparency
import XCTest
@testable import Witness

/// The witness's own parsers of hostile input (state lines, 409 bodies, policy files), fed random bytes and
/// single-byte mutations of valid input: they must answer without crashing, and what parses must print back.
final class HostileInputTests: XCTestCase {
    var generator = SplitMix64(seed: 0x5717_2026)  // seeded: the same inputs every run

    func mutations(of valid: [UInt8], count: Int) -> [[UInt8]] {
        (0..<count).map { i in
            var bytes = valid
            switch i % 3 {
            case 0 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count, using: &generator)] = .random(in: 0...255, using: &generator)
            case 1 where !bytes.isEmpty: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &generator))
            default: bytes.insert(.random(in: 0...255, using: &generator), at: Int.random(in: 0...bytes.count, using: &generator))
            }
            return bytes
        } + (0..<count).map { _ in (0..<Int.random(in: 0..<80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) } }
    }

    func testStateLines() {
        let valid = StateStore.line(origin: "example.com/log", head: WitnessedHead(size: 42, root: .sha256([1])))
        XCTAssertNotNil(StateStore.parse(String(decoding: valid.dropLast(), as: UTF8.self)))
        for bytes in mutations(of: Array(valid.dropLast()), count: 2000) {
            let text = String(decoding: bytes, as: UTF8.self)
            if let (origin, head) = StateStore.parse(text) {
                XCTAssertEqual(Array(StateStore.line(origin: origin, head: head).dropLast()), Array(text.utf8))
            }
        }
    }

    func testConflictBodies() {
        for bytes in mutations(of: Array("1234\n".utf8), count: 2000) {
            let response = HTTPPost.Response(status: 409, contentType: "text/x.tlog.size", body: bytes)
            if let size = WitnessClient.parseSize(response) { XCTAssertEqual(Array("\(size)\n".utf8), bytes) }
        }
    }

    func testPolicyFiles() throws {
        let log = try TestLog(size: 1)
        var file = PolicyFile(logKey: log.vkey)
        try file.add(name: "a.example", vkey: try testCosigner("a.example").publicKey.text, url: "https://a.example")
        for bytes in mutations(of: Array(file.text.utf8), count: 1000) {
            if let parsed = try? PolicyFile(parsing: bytes) { XCTAssertNoThrow(try parsed.policy()) }
        }
    }
}
