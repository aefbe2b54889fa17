import Foundation
import Logging
import MerkleLog
import SignedNote
import Transparency
import XCTest
@testable import Witness

/// The server on 127.0.0.1 (port 0), started and stopped inside each test, and the client against it.
final class LoopbackTests: XCTestCase {
    /// Runs `body` with the base URL of a witness serving `service`; the server stops when `body` returns.
    func withServer(_ service: WitnessService, _ body: (String) async throws -> Void) async throws {
        let (addresses, continuation) = AsyncStream.makeStream(of: String.self)
        let server = Task {
            var quiet = Logger(label: "test.witness")
            quiet.logLevel = .critical  // cancelling the server task logs the cancelled child channels
            try await WitnessServer.run(service: service, logger: quiet) { continuation.yield($0) }
        }
        defer { server.cancel() }
        var iterator = addresses.makeAsyncIterator()
        let next = await iterator.next()
        let address = try XCTUnwrap(next)
        try await body("http://\(address)")
        server.cancel()
        _ = await server.result
    }

    func policy(log: TestLog, witnesses: [(Cosigner, String)], quorum: PolicyFile.Quorum) throws -> TlogPolicy {
        var file = PolicyFile(logKey: log.vkey)
        for (cosigner, url) in witnesses { try file.add(name: cosigner.name, vkey: cosigner.publicKey.text, url: url) }
        try file.setQuorum(quorum)
        return try file.policy()
    }

    func testServerAnswersOverHTTP() async throws {
        let log = try TestLog(size: 8)
        let service = try WitnessService(cosigner: testCosigner(), logs: TrustedLogs(vkeys: [log.vkey]),
                                         state: StateStore(directory: temporaryDirectory()))
        try await withServer(service) { base in
            let http = HTTPPost(timeout: 10)
            let url = try HTTPPost.addCheckpointURL(base)
            let ok = try await http.post(url, body: try log.body(old: 0, size: 8))
            XCTAssertEqual(ok.status, 200)
            let conflict = try await http.post(url, body: try log.body(old: 0, size: 4))
            XCTAssertEqual(conflict.status, 409)
            XCTAssertEqual(conflict.contentType, "text/x.tlog.size")
            XCTAssertEqual(WitnessClient.parseSize(conflict), 8)
            let huge = try await http.post(url, body: [UInt8](repeating: 0x41, count: AddCheckpointRequest.maxBodySize + 1))
            XCTAssertEqual(huge.status, 413)
        }
    }

    func testClientResendsAfter409AndCountsTheQuorum() async throws {
        let log = try TestLog(size: 30)
        let (a, b) = (try testCosigner("a.witness.example"), try testCosigner("b.witness.example"))
        let serviceA = try WitnessService(cosigner: a, logs: TrustedLogs(vkeys: [log.vkey]),
                                          state: StateStore(directory: temporaryDirectory()))
        // Witness A already cosigned size 10 (e.g. from an earlier run whose record the ledger lost).
        _ = await serviceA.addCheckpoint(body: try log.body(old: 0, size: 10))
        try await withServer(serviceA) { urlA in
            // B is down: nothing listens on its port.
            let downURL = "http://127.0.0.1:1"
            let any = try policy(log: log, witnesses: [(a, urlA), (b, downURL)], quorum: .any)
            let client = WitnessClient(policy: any, timeout: 5)
            let note = try log.note(30)
            let outcomes = await client.collect(note: note, size: 30, lastCosigned: { _ in 0 },
                                                proof: { try log.proof(Int64($0), 30) })
            XCTAssertEqual(outcomes.map(\.name), ["a.witness.example", "b.witness.example"])
            XCTAssertEqual(outcomes[0].result, .cosigned, "resent from the witness's size 10 after its 409")
            guard case .unavailable = outcomes[1].result else { return XCTFail("\(outcomes[1].result)") }
            let cosigned = try SignedNoteText(parsing: note).adding(outcomes.flatMap(\.signatures))
            XCTAssertTrue(try WitnessedCheckpoint(note: cosigned, policy: any).quorumMet)
            let all = try policy(log: log, witnesses: [(a, urlA), (b, downURL)], quorum: .all)
            XCTAssertFalse(try WitnessedCheckpoint(note: cosigned, policy: all).quorumMet)

            // A fork at the same size: the witness answers 409 with our own size.
            let fork = try TestLog(size: 30, variant: "fork", forkAt: 20)
            let forked = await client.collect(note: try fork.note(30), size: 30, lastCosigned: { _ in 30 },
                                              proof: { try fork.proof(Int64($0), 30) })
            XCTAssertEqual(forked[0].result, .fork(witnessSize: 30))
            // A rollback: the ledger holds 25 entries, the witness cosigned 30.
            let rolled = await client.collect(note: try log.note(25), size: 25, lastCosigned: { _ in 0 },
                                              proof: { try log.proof(Int64($0), 25) })
            XCTAssertEqual(rolled[0].result, .rollback(witnessSize: 30))
        }
    }

    func testStrict409Bodies() {
        func parse(_ body: String, _ type: String? = "text/x.tlog.size") -> UInt64? {
            WitnessClient.parseSize(HTTPPost.Response(status: 409, contentType: type, body: Array(body.utf8)))
        }
        XCTAssertEqual(parse("12\n"), 12)
        XCTAssertEqual(parse("0\n"), 0)
        XCTAssertNil(parse("012\n"))
        XCTAssertNil(parse("12"))
        XCTAssertNil(parse("12\n\n"))
        XCTAssertNil(parse("-1\n"))
        XCTAssertNil(parse("99999999999999999999\n"))
        XCTAssertNil(parse("12\n", "text/plain"))
    }
}
