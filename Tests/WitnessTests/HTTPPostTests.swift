import Foundation
import XCTest
@testable import Witness

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP client against canned answers from a one-connection server on 127.0.0.1, started and stopped inside each
/// test: limits (body size, time), no redirects, and the words a failure is reported in.
final class HTTPPostTests: XCTestCase {
    /// A listening socket on 127.0.0.1 (port 0) that answers one connection with `reply` (nil: reads and never
    /// answers) on a thread of its own, then closes.
    final class OneShotServer: @unchecked Sendable {
        let port: UInt16
        private let listener: Int32
        private let done = DispatchSemaphore(value: 0)

        init(reply: [UInt8]?, holdFor seconds: Double = 0) throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.listener = listener
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(listener, pointer, length) == 0 && listen(listener, 1) == 0
                        && getsockname(listener, pointer, &length) == 0
                }
            }
            guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
            port = UInt16(bigEndian: address.sin_port)
            let done = done
            Thread.detachNewThread {
                defer { done.signal() }
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                defer { close(connection) }
                var request = [UInt8](repeating: 0, count: 65536)
                _ = request.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
                if let reply {
                    _ = reply.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                } else {
                    Thread.sleep(forTimeInterval: seconds)
                }
            }
        }

        var url: URL { URL(string: "http://127.0.0.1:\(port)/add-checkpoint")! }

        func stop() {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
            done.wait()
        }
    }

    private func response(_ status: String, headers: [String] = [], body: [UInt8]) -> [UInt8] {
        Array(("HTTP/1.1 \(status)\r\n" + (headers + ["Content-Length: \(body.count)", "Connection: close"])
            .map { $0 + "\r\n" }.joined() + "\r\n").utf8) + body
    }

    private func failure(_ post: () async throws -> HTTPPost.Response) async -> String? {
        do {
            _ = try await post()
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testStatusContentTypeAndBodyAreReturned() async throws {
        let server = try OneShotServer(reply: response("409 Conflict", headers: ["Content-Type: text/x.tlog.size"],
                                                       body: Array("8\n".utf8)))
        defer { server.stop() }
        let answer = try await HTTPPost(timeout: 10).post(server.url, body: Array("checkpoint".utf8))
        XCTAssertEqual(answer.status, 409)
        XCTAssertEqual(answer.contentType, "text/x.tlog.size")
        XCTAssertEqual(answer.body, Array("8\n".utf8))
    }

    func testARedirectIsReturnedNotFollowed() async throws {
        let server = try OneShotServer(reply: response("302 Found", headers: ["Location: http://127.0.0.1:1/elsewhere"],
                                                       body: []))
        defer { server.stop() }
        let answer = try await HTTPPost(timeout: 10).post(server.url, body: [1])
        XCTAssertEqual(answer.status, 302)
    }

    func testABodyOverTheLimitIsRefused() async throws {
        let server = try OneShotServer(reply: response("200 OK", body: [UInt8](repeating: 0x41,
                                                                               count: HTTPPost.maxResponseBytes + 1)))
        defer { server.stop() }
        let error = await failure { try await HTTPPost(timeout: 10).post(server.url, body: [1]) }
        XCTAssertEqual(error, "response larger than \(HTTPPost.maxResponseBytes) bytes")
    }

    func testASilentServerTimesOut() async throws {
        let server = try OneShotServer(reply: nil, holdFor: 3)
        defer { server.stop() }
        let error = await failure { try await HTTPPost(timeout: 0.5).post(server.url, body: [1]) }
        XCTAssertEqual(error, "timed out", "the server holds the connection 3 s: the 0.5 s limit ends the exchange")
    }

    func testNothingListeningIsAConnectionFailure() async throws {
        let server = try OneShotServer(reply: nil)
        let url = server.url
        server.stop()  // the port is closed now
        let error = await failure { try await HTTPPost(timeout: 5).post(url, body: [1]) }
        XCTAssertEqual(error, "connection refused or lost")
    }
}
