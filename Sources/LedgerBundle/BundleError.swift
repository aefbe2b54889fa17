/// Why a file could not be checked as a bundle at all. Every failed check of a readable bundle is a
/// `BundleViolation` in the report instead. Never carries a field value.
public enum BundleError: Error, CustomStringConvertible, Sendable {
    case notFound(path: String)
    case unreadable(path: String, detail: String)
    /// Not a zip, hostile or duplicate names, oversize, missing files, an unreadable manifest.
    case malformed(String)
    /// The verifier key given to check the bundle with is not a verifier key.
    case invalidVerifierKey(String)
    /// The policy given (--policy) is not a tlog-policy file, or contradicts the pinned verifier key.
    case invalidPolicy(String)

    public var description: String {
        switch self {
        case .notFound(let path): return "\(path): no such file"
        case .unreadable(let path, let detail): return "\(path): \(detail)"
        case .malformed(let what): return "not a readable export bundle: \(what)"
        case .invalidVerifierKey(let why): return "the pinned verifier key is not a verifier key (\(why))"
        case .invalidPolicy(let why): return "the policy cannot be used: \(why)"
        }
    }
}
