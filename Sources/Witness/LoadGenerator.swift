import Foundation
import MerkleLog
import NIOCore
import NIOHTTP1
import NIOPosix
import SignedNote
import Sodium
import Transparency

/// `ledger witness load`: a bounded add-checkpoint load against a witness on loopback, for the README's
/// performance table. Every log's key is derived from its index (print them with `logKeys` and start the server
/// with `--log-file`); each connection (HTTP/1.1 keep-alive) owns one log and submits its checkpoints in order —
/// size k with `old k-1` and a real consistency proof — and every `repeatEvery`-th request submits the latest
/// checkpoint again (`old` = its size, an idempotent cosign). All requests are signed before the clock starts.
/// Needs a fresh `--state` directory: a log the witness already follows answers 409.
public enum LoadGenerator {
    public struct Report: Sendable {
        public var requests = 0
        public var seconds = 0.0
        public var statuses: [Int: Int] = [:]
        public var errors = 0
        public var perSecond: Double { seconds > 0 ? Double(requests) / seconds : 0 }
    }

    static let repeatEvery = 5

    /// The signer of load log `index` (its origin is its key name).
    static func signer(_ index: Int) throws -> NoteSigner {
        let seed = Hash.sha256(Array("ledger witness load v1 log \(index)".utf8)).bytes
        return try NoteSigner(name: "load.example/log\(index)", seed: SecretBytes(copying: seed))
    }

    /// The verifier keys of logs 0..<count, one per line (for `witness serve --log-file`).
    public static func logKeys(count: Int) throws -> [String] {
        try (0..<count).map { try signer($0).verifierKey.text }
    }

    /// The request bodies of one log: `count` submissions over a deterministic tree.
    static func bodies(log index: Int, count: Int) throws -> [[UInt8]] {
        let signer = try signer(index)
        let sizes = (0..<count).map { i -> (old: Int64, size: Int64) in
            let grown = Int64(i - i / repeatEvery) + 1
            return i % repeatEvery == repeatEvery - 1 ? (grown - 1, grown - 1) : (grown - 1, grown)
        }
        var stored = [Hash]()
        let reader = HashReaderFunc { indexes in indexes.map { stored[Int($0)] } }
        let maxSize = sizes.map(\.size).max() ?? 0
        var roots = [Hash]()
        for n in 0..<maxSize {
            let leaf = recordHash(Array("load log \(index) leaf \(n)".utf8))
            stored += try storedHashes(forRecord: n, recordHash: leaf, reader: reader)
            roots.append(try treeHash(size: n + 1, reader: reader))
        }
        return try sizes.map { step in
            let checkpoint = Checkpoint(origin: signer.name, size: UInt64(step.size),
                                        rootHash: roots[Int(step.size) - 1].bytes)
            let proof = step.old == 0 || step.old == step.size
                ? [] : try proveTree(newSize: step.size, oldSize: step.old, reader: reader)
            return AddCheckpointRequest(oldSize: UInt64(step.old), proof: proof,
                                        checkpointNote: try signer.sign(checkpoint.body)).body
        }
    }

    /// Runs `requests` add-checkpoint requests (split over `connections` logs) against `host:port`, stopping early
    /// after `timeLimit` seconds.
    public static func run(host: String, port: Int, requests: Int, connections: Int,
                           timeLimit: Double) async throws -> Report {
        let perLog = max(1, requests / max(1, connections))
        let work = try (0..<connections).map { try bodies(log: $0, count: perLog) }
        let started = Date()
        let deadline = started.addingTimeInterval(timeLimit)
        var report = Report()
        try await withThrowingTaskGroup(of: Report.self) { group in
            for bodies in work {
                group.addTask { try await drive(host: host, port: port, bodies: bodies, deadline: deadline) }
            }
            for try await part in group {
                report.requests += part.requests
                report.errors += part.errors
                report.statuses.merge(part.statuses, uniquingKeysWith: +)
            }
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// One keep-alive connection sending `bodies` in order, one at a time.
    private static func drive(host: String, port: Int, bodies: [[UInt8]], deadline: Date) async throws -> Report {
        var report = Report()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            for body in bodies where Date() < deadline {
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/add-checkpoint")
                head.headers.add(name: "Host", value: "\(host):\(port)")
                head.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
                head.headers.add(name: "Content-Length", value: String(body.count))
                try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(bytes: body))),
                                                      .end(nil)])
                var status = 0
                reading: while let part = try await responses.next() {
                    switch part {
                    case .head(let response): status = Int(response.status.code)
                    case .body: continue
                    case .end: break reading
                    }
                }
                report.requests += 1
                if status == 0 { report.errors += 1 } else { report.statuses[status, default: 0] += 1 }
            }
        }
        return report
    }
}
