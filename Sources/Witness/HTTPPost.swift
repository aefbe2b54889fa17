import CCurl
import Dispatch
import Foundation

/// One bounded HTTP POST (libcurl, loaded when first used: see CCurl): http and https URLs only, no redirects (a 3xx
/// is returned as is), a total time limit, and a response body limit (the transfer is stopped past it).
public struct HTTPPost: Sendable {
    public static let maxResponseBytes = 64 * 1024

    public struct Response: Sendable {
        public let status: Int
        public let contentType: String?
        public let body: [UInt8]
    }

    public let timeout: Double

    public init(timeout: Double) { self.timeout = timeout }

    /// Checks a witness URL: absolute http or https with a host, no credentials, no query or fragment.
    public static func validate(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.user == nil, url.password == nil, url.query == nil,
              url.fragment == nil else {
            throw WitnessError.address("witness URL \(printable(text)) is not an http(s)://host[:port][/path] URL")
        }
        return url
    }

    /// `<base>/add-checkpoint` (the spec's path under the witness's submission prefix).
    public static func addCheckpointURL(_ base: String) throws -> URL {
        let url = try validate(base)
        return url.path.hasSuffix("/add-checkpoint") ? url : url.appendingPathComponent("add-checkpoint")
    }

    public func post(_ url: URL, body: [UInt8]) async throws -> Response {
        let transfer = Transfer()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {  // libcurl's easy interface blocks: never on a task's thread
                    continuation.resume(with: Result { try transfer.run(url.absoluteString, body: body,
                                                                         timeout: timeout) })
                }
            }
        } onCancel: {
            transfer.cancel()
        }
    }
}

/// One transfer: the blocking libcurl call, and the flag that stops it when the task is cancelled.
private final class Transfer: @unchecked Sendable {
    // @unchecked: `cancelled` is a C int read by libcurl's progress callback and set once from the cancel handler.
    private let cancelled = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    init() { cancelled.initialize(to: 0) }

    deinit { cancelled.deallocate() }

    func cancel() { cancelled.pointee = 1 }

    func run(_ url: String, body: [UInt8], timeout: Double) throws -> HTTPPost.Response {
        var response = ccurl_response()
        defer { ccurl_response_free(&response) }
        let code = body.withUnsafeBufferPointer { bytes in
            ccurl_post(url, bytes.baseAddress, bytes.count, "text/plain; charset=utf-8",
                       max(1, Int(timeout * 1000)), HTTPPost.maxResponseBytes, cancelled, &response)
        }
        if response.oversize != 0 { throw WitnessError.http("response larger than \(HTTPPost.maxResponseBytes) bytes") }
        guard code == 0 else { throw WitnessError.http(Self.describe(code)) }
        guard response.status > 0 else { throw WitnessError.http("no HTTP response") }
        let contentType = withUnsafeBytes(of: response.content_type) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let bytes = response.body.map { Array(UnsafeBufferPointer(start: $0, count: response.body_length)) } ?? []
        return HTTPPost.Response(status: response.status, contentType: contentType.isEmpty ? nil : contentType,
                                 body: bytes)
    }

    /// libcurl's error codes (curl/curl.h, CURLcode) in the words the witness outcome reports.
    private static func describe(_ code: Int32) -> String {
        switch code {
        case CCURL_NOT_LOADED: return "libcurl is not installed (Debian: libcurl4)"
        case 28: return "timed out"  // CURLE_OPERATION_TIMEDOUT
        case 7, 52, 55, 56: return "connection refused or lost"  // COULDNT_CONNECT, GOT_NOTHING, SEND_ERROR, RECV_ERROR
        case 5, 6: return "host not found"  // COULDNT_RESOLVE_PROXY, COULDNT_RESOLVE_HOST
        case 35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91: return "TLS failed"  // SSL_* and PEER_FAILED_VERIFICATION
        case 1: return "unsupported protocol"  // UNSUPPORTED_PROTOCOL
        case 42: return "cancelled"  // ABORTED_BY_CALLBACK
        default: return "request failed (curl error \(code))"
        }
    }
}
