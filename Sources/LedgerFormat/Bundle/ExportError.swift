/// Failures of `export` that are not integrity violations. Never carries a field value.
public enum ExportError: Error, CustomStringConvertible, Sendable {
    /// No matter was named: an export selects at least one.
    case noMatter
    /// The older checkpoint to prove consistency from does not verify with the ledger's key.
    case olderCheckpointInvalid(String)
    /// A matter that has no entries in the ledger.
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

    public var description: String {
        switch self {
        case .noMatter: return "name at least one matter"
        case .olderCheckpointInvalid(let why):
            return "the older checkpoint does not verify with this ledger's key: \(why)"
        case .unknownMatter(let matter): return "no entries for matter '\(matter)'"
        case .emptySelection: return "the selection matches no entries; nothing to export"
        case .invalidProfile(let what): return what
        case .acknowledgementRequired(let what): return what
        case .outputExists(let path): return "\(path) already exists; refusing to overwrite it"
        case .inputNotFound(let path): return "\(path): no such file"
        case .invalidArgument(let what): return what
        case .io(let path, let detail): return "\(path): \(detail)"
        }
    }
}
