import Hummingbird
import Logging
import NIOCore
import Transparency

/// `ledger witness serve`: a c2sp.org/tlog-witness server on Hummingbird (HTTP/1.1 with keep-alive over SwiftNIO,
/// graceful shutdown on SIGTERM/SIGINT through swift-service-lifecycle).
///
/// Routes: `POST /add-checkpoint` (the spec's only endpoint) and `GET /healthz`. Bodies over
/// `AddCheckpointRequest.maxBodySize` are refused with 413 before they are read whole; keep-alive connections idle
/// for 60 s are closed.
public enum WitnessServer {
    static let idleTimeoutSeconds: Int64 = 60

    /// `host:port`; port 0 picks a free port (the bound address is passed to `onListening`).
    public static func parseListen(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw WitnessError.address("--listen must be HOST:PORT (e.g. 127.0.0.1:8443), not \(printable(text))")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw WitnessError.address("--listen needs a host (e.g. 127.0.0.1:\(port))") }
        return (host, port)
    }

    static func application(service: WitnessService, host: String, port: Int, logger: Logger,
                            onListening: @escaping @Sendable (String) async -> Void)
        -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        router.post("/add-checkpoint") { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: AddCheckpointRequest.maxBodySize)
            } catch {
                return plain(413, "request body larger than \(AddCheckpointRequest.maxBodySize) bytes\n")
            }
            let answer = await service.addCheckpoint(body: Array(buffer: body))
            var headers = HTTPFields()
            headers[.contentType] = answer.contentType
            return Response(status: .init(code: answer.status), headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        router.get("/healthz") { _, _ -> Response in plain(200, "ok\n") }
        return Application(
            router: router,
            // An idle keep-alive connection is closed after a minute, so idle clients cannot hold sockets forever.
            server: .http1(configuration: .init(idleTimeout: .seconds(Self.idleTimeoutSeconds))),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress.map { address -> String in
                    let ip = address.ipAddress ?? host
                    return (ip.contains(":") ? "[\(ip)]" : ip) + ":\(address.port ?? port)"
                } ?? "\(host):\(port)"
                await onListening(bound)
            },
            logger: logger)
    }

    private static func plain(_ status: Int, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight and returns.
    public static func serve(service: WitnessService, listen: String, logger: Logger,
                             onListening: @escaping @Sendable (String) async -> Void) async throws {
        let (host, port) = try parseListen(listen)
        let app = application(service: service, host: host, port: port, logger: logger, onListening: onListening)
        try await app.runService()
    }

    /// Serves until the calling task is cancelled (tests).
    public static func run(service: WitnessService, host: String = "127.0.0.1", port: Int = 0,
                           logger: Logger = Logger(label: "ledger.witness"),
                           onListening: @escaping @Sendable (String) async -> Void) async throws {
        try await application(service: service, host: host, port: port, logger: logger,
                              onListening: onListening).run()
    }
}
