import SignedNote

/// Why a policy file, an add-checkpoint request or a tlog-proof was refused. Messages name the line and never
/// echo long hostile input.
public enum TransparencyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A tlog-policy file breaks the format; `line` is 1-based (0: the file as a whole).
    case policy(line: Int, String)
    /// A tlog-witness add-checkpoint request body breaks the format.
    case request(String)
    /// A c2sp.org/tlog-proof receipt breaks the format (`line` 1-based, 0: the whole).
    case proof(line: Int, String)

    public var description: String {
        switch self {
        case .policy(let line, let why): return line > 0 ? "policy line \(line): \(why)" : "policy: \(why)"
        case .request(let why): return "add-checkpoint request: \(why)"
        case .proof(let line, let why): return line > 0 ? "tlog-proof line \(line): \(why)" : "tlog-proof: \(why)"
        }
    }
}

extension TlogPolicy {
    /// Parses a tlog-policy file strictly (c2sp.org/tlog-policy): octets 0x09, 0x0A, 0x20–0x7E and ≥ 0x80 only;
    /// items separated by spaces and tabs; `#` comments and blank lines ignored; names defined before use, shared
    /// by witnesses and groups, `none` reserved; no duplicate keys; exactly one quorum line.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxFileSize else {
            throw TransparencyError.policy(line: 0, "larger than \(Self.maxFileSize) bytes")
        }
        if let bad = bytes.firstIndex(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0a || $0 == 0x7f }) {
            let line = bytes[..<bad].filter { $0 == 0x0a }.count + 1
            throw TransparencyError.policy(line: line, "control character 0x\(String(bad, radix: 16))")
        }
        var builder = PolicyBuilder()
        let lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let items = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map { String(decoding: $0, as: UTF8.self) }
            guard let keyword = items.first, !keyword.hasPrefix("#") else { continue }
            do {
                try builder.add(keyword: keyword, arguments: Array(items.dropFirst()))
            } catch let PolicyBuilder.Refusal.because(why) {
                throw TransparencyError.policy(line: index + 1, why)
            }
        }
        guard let quorum = builder.quorum else { throw TransparencyError.policy(line: 0, "no quorum line") }
        self.init(logs: builder.logs, witnesses: builder.witnesses, groups: builder.groups, quorum: quorum)
    }
}

/// Accumulates policy lines in order, checking each against the ones before it.
private struct PolicyBuilder {
    enum Refusal: Error { case because(String) }

    var logs: [TlogPolicy.Log] = []
    var witnesses: [TlogPolicy.Witness] = []
    var groups: [TlogPolicy.Group] = []
    var quorum: String?
    var usedMembers: Set<[UInt8]> = []

    mutating func add(keyword: String, arguments: [String]) throws {
        switch keyword {
        case "log": try addLog(arguments)
        case "witness": try addWitness(arguments)
        case "group": try addGroup(arguments)
        case "quorum": try setQuorum(arguments)
        default: throw Refusal.because("unknown keyword \"\(keyword.prefix(32))\"")
        }
    }

    private mutating func addLog(_ arguments: [String]) throws {
        guard (1...2).contains(arguments.count) else { throw Refusal.because("expected: log <vkey> [<url>]") }
        let key: NoteVerifierKey
        do { key = try NoteVerifierKey(text: arguments[0]) } catch {
            throw Refusal.because("log key: \(error) (a log key is an Ed25519 note vkey, type 0x01)")
        }
        guard !logs.contains(where: { $0.key.publicKey == key.publicKey }) else {
            throw Refusal.because("duplicate log key")
        }
        guard logs.count < TlogPolicy.maxLogs else { throw Refusal.because("more than \(TlogPolicy.maxLogs) logs") }
        logs.append(TlogPolicy.Log(key: key, url: arguments.count == 2 ? arguments[1] : nil))
    }

    private mutating func addWitness(_ arguments: [String]) throws {
        guard (2...3).contains(arguments.count) else {
            throw Refusal.because("expected: witness <name> <vkey> [<url>]")
        }
        let name = arguments[0]
        try requireNewName(name)
        let vkey: VerifierKeyText
        do { vkey = try VerifierKeyText(text: arguments[1]) } catch {
            throw Refusal.because("witness \(name.prefix(64)): \(error)")
        }
        guard !witnesses.contains(where: { $0.vkey.keyMaterial == vkey.keyMaterial }) else {
            throw Refusal.because("duplicate witness key (witness \(name.prefix(64)))")
        }
        guard witnesses.count < TlogPolicy.maxWitnesses else {
            throw Refusal.because("more than \(TlogPolicy.maxWitnesses) witnesses")
        }
        let cosigner = vkey.algorithm == cosignatureV1Algorithm ? try? CosignerKey(parsed: vkey) : nil
        if vkey.algorithm == cosignatureV1Algorithm && cosigner == nil {
            throw Refusal.because("witness \(name.prefix(64)): an Ed25519 cosigner key must be 32 bytes")
        }
        witnesses.append(TlogPolicy.Witness(name: name, vkey: vkey, cosigner: cosigner,
                                            url: arguments.count == 3 ? arguments[2] : nil))
    }

    private mutating func addGroup(_ arguments: [String]) throws {
        guard arguments.count >= 3 else { throw Refusal.because("expected: group <name> <k|all|any> <name>...") }
        let name = arguments[0], members = Array(arguments.dropFirst(2))
        try requireNewName(name)
        for member in members {
            guard member != "none" else { throw Refusal.because("none cannot be a group member") }
            guard isDefined(member) else { throw Refusal.because("group member \(member.prefix(64)) is not defined above") }
        }
        // "Each defined name can be listed as a group member at most once", in the whole file: the groups form a
        // tree, so each witness counts towards the quorum in only one way (and evaluating it is linear).
        for member in members where usedMembers.contains(Array(member.utf8)) {
            throw Refusal.because("\(member.prefix(64)) is already a member of a group")
        }
        guard Set(members.map { Array($0.utf8) }).count == members.count else {
            throw Refusal.because("a group lists a member twice")
        }
        usedMembers.formUnion(members.map { Array($0.utf8) })
        let threshold = try parseThreshold(arguments[1], memberCount: members.count)
        guard groups.count < TlogPolicy.maxGroups else { throw Refusal.because("more than \(TlogPolicy.maxGroups) groups") }
        groups.append(TlogPolicy.Group(name: name, threshold: threshold, members: members))
    }

    private func parseThreshold(_ text: String, memberCount: Int) throws -> Int {
        switch text {
        case "all": return memberCount
        case "any": return 1
        default:
            let digits = text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard digits, text.count <= 4, !(text.hasPrefix("0")), let k = Int(text), (1...memberCount).contains(k) else {
                throw Refusal.because("threshold must be all, any or a decimal k with 1 <= k <= \(memberCount)")
            }
            return k
        }
    }

    private mutating func setQuorum(_ arguments: [String]) throws {
        guard quorum == nil else { throw Refusal.because("a second quorum line") }
        guard arguments.count == 1 else { throw Refusal.because("expected: quorum <name>") }
        guard arguments[0] == "none" || isDefined(arguments[0]) else {
            throw Refusal.because("quorum \(arguments[0].prefix(64)) is not defined above")
        }
        quorum = arguments[0]
    }

    private func requireNewName(_ name: String) throws {
        guard name != "none" else { throw Refusal.because("none is a reserved name") }
        guard !isDefined(name) else { throw Refusal.because("name \(name.prefix(64)) is defined twice") }
    }

    /// Names are opaque octet strings: compared byte-wise.
    private func isDefined(_ name: String) -> Bool {
        witnesses.contains { $0.name.utf8.elementsEqual(name.utf8) }
            || groups.contains { $0.name.utf8.elementsEqual(name.utf8) }
    }
}
