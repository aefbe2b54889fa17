/// Failures of `export` and `verify-bundle` that are not integrity violations. Never carries a field value.
public enum ExportError: Error, CustomStringConvertible, Sendable {
    /// A `--matter` that has no entries in the ledger.
    case unknownMatter(String)
    /// The selection (matters and time range) matched no entry.
    case emptySelection
    /// A bad profile, profile file, field name or reason.
    case invalidProfile(String)
    /// `full` (or a profile revealing content) without the acknowledgement flag.
    case acknowledgementRequired(String)
    /// The output exists already.
    case outputExists(String)
    case inputNotFound(String)
    /// A bad command-line value (e.g. a malformed pinned verifier key).
    case invalidArgument(String)
    case io(path: String, detail: String)
    /// The bundle is not a readable bundle (not a zip, hostile names, oversize, duplicates, missing files, bad manifest).
    case malformedBundle(String)

    public var description: String {
        switch self {
        case .unknownMatter(let matter): return "no entries for matter '\(matter)'"
        case .emptySelection: return "the selection matches no entries; nothing to export"
        case .invalidProfile(let what): return what
        case .acknowledgementRequired(let what): return what
        case .outputExists(let path): return "\(path) already exists; refusing to overwrite it"
        case .inputNotFound(let path): return "\(path): no such file"
        case .invalidArgument(let what): return what
        case .io(let path, let detail): return "\(path): \(detail)"
        case .malformedBundle(let what): return "not a readable export bundle: \(what)"
        }
    }

    /// The documented exit code (Sources/LedgerCLI/Support/Failure.swift uses the same table).
    public var exitCode: Int32 {
        switch self {
        case .unknownMatter, .emptySelection, .inputNotFound: return 66
        case .invalidProfile, .acknowledgementRequired, .invalidArgument: return 64
        case .outputExists: return 73
        case .io: return 74
        case .malformedBundle: return 65
        }
    }
}
