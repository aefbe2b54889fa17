import Foundation
import MerkleLog
import SignedNote
import Transparency
import XCTest
@testable import Witness

final class WitnessServiceTests: XCTestCase {
    func makeService(_ log: TestLog, dir: String = temporaryDirectory()) throws -> WitnessService {
        try WitnessService(cosigner: testCosigner(), logs: TrustedLogs(vkeys: [log.vkey]),
                           state: StateStore(directory: dir), clock: { 1_700_000_000 })
    }

    func testCosignsGrowthAndRefusesRollbackAndFork() async throws {
        let log = try TestLog(size: 20)
        let service = try makeService(log)
        let first = await service.addCheckpoint(body: try log.body(old: 0, size: 10))
        XCTAssertEqual(first.status, 200)
        let cosignature = try XCTUnwrap(try SignedNoteText.signatureLines(Array(first.body.utf8),
            checkpointBody: SignedNoteText(parsing: log.note(10)).text).first)
        XCTAssertEqual(try testCosigner().publicKey.verify(cosignature,
            checkpointBody: SignedNoteText(parsing: log.note(10)).text), 1_700_000_000)
        let again = await service.addCheckpoint(body: try log.body(old: 10, size: 10))
        XCTAssertEqual(again.status, 200, "the same checkpoint again is cosigned again")
        let grown = await service.addCheckpoint(body: try log.body(old: 10, size: 15))
        XCTAssertEqual(grown.status, 200)

        // Rollback: a smaller checkpoint, sent from size 0, gets 409 with the witness's size.
        let rollback = await service.addCheckpoint(body: try log.body(old: 0, size: 12))
        XCTAssertEqual(rollback, WitnessResponse(status: 409, contentType: "text/x.tlog.size", body: "15\n"))
        // A stale old size: 409 too.
        let stale = await service.addCheckpoint(body: try log.body(old: 10, size: 20))
        XCTAssertEqual(stale.status, 409)
        XCTAssertEqual(stale.body, "15\n")

        // Fork: same key, same size, another root.
        let fork = try TestLog(size: 20, variant: "fork", forkAt: 12)
        let sameSize = await service.addCheckpoint(body: try fork.body(old: 15, size: 15))
        XCTAssertEqual(sameSize, WitnessResponse(status: 409, contentType: "text/x.tlog.size", body: "15\n"))
        // A larger forked tree: its proof from 15 does not reach the witness's root at 15.
        let forkProof = AddCheckpointRequest(oldSize: 15, proof: try fork.proof(15, 20),
                                             checkpointNote: try fork.note(20)).body
        let larger = await service.addCheckpoint(body: forkProof)
        XCTAssertEqual(larger.status, 422)
        XCTAssertEqual(service.state.snapshot(log.signer.name).head, WitnessedHead(size: 15, root: log.root(15)))

        // The two fork refusals kept the log-signed notes beside the witnessed head; the rollback and the stale old
        // size (routine 409s) kept nothing.
        let kept = try FileManager.default.contentsOfDirectory(atPath: service.evidence.directory).sorted()
        XCTAssertEqual(kept.count, 2, "\(kept)")
        let texts = try kept.map { try String(contentsOfFile: service.evidence.directory + "/" + $0, encoding: .utf8) }
        let note15 = try fork.note(15)
        let forkFile = try XCTUnwrap(texts.first { $0.contains(note15) })
        XCTAssertTrue(forkFile.hasPrefix("refused at 1700000000: fork: another root at the size already cosigned; "
                                         + "witnessed size 15 root \(log.root(15).base64)\n\n"), forkFile)
        let note20 = try fork.note(20)
        XCTAssertTrue(texts.contains { $0.contains(note20) })
    }

    func testRefusesUnknownLogsBadSignaturesAndMalformedBodies() async throws {
        let log = try TestLog(size: 3)
        let other = try TestLog(name: "example.com/log", seedByte: 8, size: 3)
        let stranger = try TestLog(name: "other.example/log", seedByte: 8, size: 3)
        let service = try makeService(log)
        let forbidden = await service.addCheckpoint(body: try other.body(old: 0, size: 3))
        XCTAssertEqual(forbidden.status, 403)
        let unknown = await service.addCheckpoint(body: try stranger.body(old: 0, size: 3))
        XCTAssertEqual(unknown.status, 404)
        let malformed = await service.addCheckpoint(body: Array("old x\n\nnot a note".utf8))
        XCTAssertEqual(malformed.status, 400)
        let tooOld = await service.addCheckpoint(body: try log.body(old: 0, size: 3).replacingFirstLine(with: "old 4"))
        XCTAssertEqual(tooOld.status, 400)
    }

    func testConcurrentRequestsForOneLogAreSerialised() async throws {
        let log = try TestLog(size: 40)
        let service = try makeService(log)
        // Every request claims old 0: exactly one may win; the rest see its head (409) once it is durable.
        let statuses = await withTaskGroup(of: Int.self) { group in
            for size in 1...40 { group.addTask { await service.addCheckpoint(body: try! log.body(old: 0, size: Int64(size))).status } }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        XCTAssertEqual(statuses.filter { $0 == 200 }.count, 1)
        XCTAssertEqual(statuses.filter { $0 == 409 }.count, 39)
    }
}

extension Array where Element == UInt8 {
    func replacingFirstLine(with line: String) -> [UInt8] {
        Array(line.utf8) + self[firstIndex(of: 0x0a)!...]
    }
}
