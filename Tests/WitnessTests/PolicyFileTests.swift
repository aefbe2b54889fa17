import SignedNote
import Transparency
import XCTest
@testable import Witness

final class PolicyFileTests: XCTestCase {
    func testCanonicalTextRoundTripsAndEdits() throws {
        let log = try TestLog(size: 1)
        let (a, b) = (try testCosigner("a.example"), try testCosigner("b.example"))
        var file = PolicyFile(logKey: log.vkey)
        XCTAssertEqual(file.text, "log \(log.vkey)\nquorum none\n")
        try file.add(name: "a.example", vkey: a.publicKey.text, url: "https://a.example/witness")
        try file.add(name: "b.example", vkey: b.publicKey.text, url: "http://127.0.0.1:9")
        try file.setQuorum(.count(2))
        XCTAssertEqual(file.text, """
            log \(log.vkey)
            witness a.example \(a.publicKey.text) https://a.example/witness
            witness b.example \(b.publicKey.text) http://127.0.0.1:9
            group witnesses 2 a.example b.example
            quorum witnesses

            """)
        XCTAssertEqual(try PolicyFile(parsing: Array(file.text.utf8)), file)
        let policy = try file.policy()
        XCTAssertFalse(policy.quorumMet(by: ["a.example"]))
        XCTAssertTrue(policy.quorumMet(by: ["a.example", "b.example"]))

        XCTAssertThrowsError(try file.add(name: "a.example", vkey: a.publicKey.text, url: "https://x.example"))
        XCTAssertThrowsError(try file.add(name: "c.example", vkey: b.publicKey.text, url: "https://x.example"),
                             "the vkey's name must be the witness name")
        XCTAssertThrowsError(try file.add(name: "c.example", vkey: try testCosigner("c.example").publicKey.text,
                                          url: "file:///etc/passwd"))
        XCTAssertThrowsError(try file.remove(name: "a.example"), "quorum 2 needs two witnesses")
        XCTAssertThrowsError(try file.setQuorum(.count(3)))
        try file.setQuorum(.any)
        try file.remove(name: "a.example")
        try file.remove(name: "b.example")
        XCTAssertEqual(file.text, "log \(log.vkey)\nquorum none\n")
    }
}
