import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One bounded HTTP POST (URLSession, i.e. libcurl on Linux): http and https URLs only, no redirects (a 3xx is
/// returned as is), a total time limit, and a response body limit (the transfer is cancelled past it).
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
        let exchange = Exchange(limit: Self.maxResponseBytes)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.httpShouldSetCookies = false
        let session = URLSession(configuration: configuration, delegate: exchange, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type")
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                exchange.start(continuation)
                session.dataTask(with: request).resume()
            }
        } onCancel: {
            session.invalidateAndCancel()
        }
    }
}

/// The delegate of one request: collects the response up to the limit, refuses redirects.
private final class Exchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // @unchecked: every field is used under `lock`.
    private let lock = NSLock()
    private let limit: Int
    private var continuation: CheckedContinuation<HTTPPost.Response, any Error>?
    private var response: HTTPURLResponse?
    private var body = [UInt8]()
    private var oversize = false

    init(limit: Int) { self.limit = limit }

    func start(_ continuation: CheckedContinuation<HTTPPost.Response, any Error>) {
        lock.withLock { self.continuation = continuation }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)  // never follow: the 3xx itself is the answer
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.withLock { self.response = response as? HTTPURLResponse }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let over = lock.withLock { () -> Bool in
            if body.count + data.count > limit { oversize = true; return true }
            body += data
            return false
        }
        if over { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (continuation, outcome) = lock.withLock { () -> (CheckedContinuation<HTTPPost.Response, any Error>?,
                                                            Result<HTTPPost.Response, any Error>) in
            defer { self.continuation = nil }
            if oversize {
                return (self.continuation, .failure(WitnessError.http("response larger than \(limit) bytes")))
            }
            if let error { return (self.continuation, .failure(WitnessError.http(Self.describe(error)))) }
            guard let response else { return (self.continuation, .failure(WitnessError.http("no HTTP response"))) }
            return (self.continuation, .success(HTTPPost.Response(
                status: response.statusCode, contentType: response.value(forHTTPHeaderField: "Content-Type"),
                body: body)))
        }
        continuation?.resume(with: outcome)
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? URLError else { return "request failed" }
        switch error.code {
        case .timedOut: return "timed out"
        case .cannotConnectToHost, .networkConnectionLost: return "connection refused or lost"
        case .cannotFindHost, .dnsLookupFailed: return "host not found"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot: return "TLS failed"
        case .cancelled: return "cancelled"
        default: return "request failed (URLError \(error.code.rawValue))"
        }
    }
}
