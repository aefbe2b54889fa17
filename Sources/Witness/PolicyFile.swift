import SignedNote
import Transparency

/// The ledger's witness configuration, `<ledger>/witnesses.policy` (docs/FORMAT.md, "witnesses.policy"): a
/// c2sp.org/tlog-policy file in one canonical form that `ledger witness add|remove|quorum` rewrite:
///
///     log <the ledger's verifier key>
///     witness <name> <vkey> <url>            (one per witness, in the order added)
///     group witnesses <any|all|K> <names…>   (only when there are witnesses)
///     quorum witnesses                       (or `quorum none` when there are none)
public struct PolicyFile: Sendable, Equatable {
    public static let fileName = "witnesses.policy"
    public static let groupName = "witnesses"

    public enum Quorum: Sendable, Equatable, CustomStringConvertible {
        case any, all, count(Int)

        public init(parsing text: String) throws {
            switch text {
            case "any": self = .any
            case "all": self = .all
            default:
                guard let k = Int(text), k >= 1, String(k) == text else {
                    throw WitnessError.address("quorum must be any, all or a number ≥ 1, not \(printable(text))")
                }
                self = .count(k)
            }
        }

        public var description: String {
            switch self {
            case .any: return "any"
            case .all: return "all"
            case .count(let k): return String(k)
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public let name: String
        public let vkey: String
        public let url: String
    }

    public var logKey: String
    public var witnesses: [Entry]
    public var quorum: Quorum

    public init(logKey: String, witnesses: [Entry] = [], quorum: Quorum = .all) {
        self.logKey = logKey
        self.witnesses = witnesses
        self.quorum = quorum
    }

    /// Reads a file this tool wrote (any valid tlog-policy parses; its group `witnesses`, if any, gives the quorum).
    public init(parsing bytes: [UInt8]) throws {
        let policy = try TlogPolicy(parsing: bytes)
        guard let log = policy.logs.first else { throw TransparencyError.policy(line: 0, "no log line") }
        logKey = log.key.text
        witnesses = policy.witnesses.map { Entry(name: $0.name, vkey: $0.vkey.text, url: $0.url ?? "") }
        quorum = .all
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let items = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if items.count >= 3, items[0] == "group", items[1] == Substring(Self.groupName) {
                quorum = try Quorum(parsing: String(items[2]))
            }
        }
    }

    /// Adds a witness; refuses a name or key already present, a reserved name, a bad vkey or URL.
    public mutating func add(name: String, vkey: String, url: String) throws {
        guard name != Self.groupName, name != "none" else {
            throw WitnessError.address("\"\(name)\" is reserved in a policy file: choose another witness name")
        }
        guard !witnesses.contains(where: { $0.name == name }) else {
            throw WitnessError.address("a witness named \(printable(name)) is already configured")
        }
        let key: VerifierKeyText
        do { key = try VerifierKeyText(text: vkey) } catch {
            throw WitnessError.address("the witness vkey does not parse: \(error)")
        }
        guard key.name == name else {
            throw WitnessError.address("the vkey is named \(printable(key.name)), not \(printable(name)): a witness's "
                                       + "policy name is its key name")
        }
        guard !witnesses.contains(where: { (try? VerifierKeyText(text: $0.vkey))?.keyMaterial == key.keyMaterial })
        else { throw WitnessError.address("that key is already configured") }
        _ = try HTTPPost.validate(url)
        var next = self
        next.witnesses.append(Entry(name: name, vkey: key.text, url: url))
        _ = try next.policy()  // a URL with a space, say, would not parse back
        self = next
    }

    public mutating func remove(name: String) throws {
        guard witnesses.contains(where: { $0.name == name }) else {
            throw WitnessError.address("no witness named \(printable(name)) is configured")
        }
        if case .count(let k) = quorum, k > witnesses.count - 1, witnesses.count > 1 {
            throw WitnessError.address("quorum \(k) needs more witnesses than would be left: lower it first "
                                       + "(`ledger witness quorum any|all|K`)")
        }
        witnesses.removeAll { $0.name == name }
    }

    public mutating func setQuorum(_ new: Quorum) throws {
        if case .count(let k) = new, k > witnesses.count {
            throw WitnessError.address("quorum \(k) needs \(k) witnesses; \(witnesses.count) configured")
        }
        quorum = new
    }

    /// The canonical file text.
    public var text: String {
        var lines = ["log \(logKey)"]
        lines += witnesses.map { "witness \($0.name) \($0.vkey) \($0.url)" }
        if witnesses.isEmpty {
            lines.append("quorum none")
        } else {
            lines.append("group \(Self.groupName) \(quorum) " + witnesses.map(\.name).joined(separator: " "))
            lines.append("quorum \(Self.groupName)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The parsed policy (checks that the canonical text is a valid tlog-policy).
    public func policy() throws -> TlogPolicy { try TlogPolicy(parsing: Array(text.utf8)) }
}
