/// What the witness server, its state store and the add-checkpoint client report. Never carries key material or
/// request bodies; hostile text (an origin, a response body) appears only truncated and escaped.
public enum WitnessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The state directory or its file is unusable (unreadable, malformed, locked by another server).
    case state(path: String, detail: String)
    /// The witness key file is missing, malformed or readable by others.
    case keyFile(path: String, detail: String)
    /// A `--log` verifier key or a `--log-file` line does not parse.
    case logKey(String)
    /// An address or URL that cannot be used.
    case address(String)
    /// An HTTP exchange failed (connection refused, timeout, oversize or malformed response).
    case http(String)

    public var description: String {
        switch self {
        case .state(let path, let detail): return "witness state \(path): \(detail)"
        case .keyFile(let path, let detail): return "witness key file \(path): \(detail)"
        case .logKey(let detail): return "log verifier key: \(detail)"
        case .address(let detail): return detail
        case .http(let detail): return detail
        }
    }
}

/// Hostile text shown in a message: at most 120 characters, control characters escaped.
func printable<S: StringProtocol>(_ text: S) -> String {
    let clipped = text.unicodeScalars.prefix(120).map { scalar -> String in
        scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
    }.joined()
    return text.unicodeScalars.count > 120 ? clipped + "…" : clipped
}
