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
            // Items are octet strings separated by runs of spaces and tabs; "#" starts a comment line.
            let items = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map { Array($0) }
            guard let keyword = items.first, keyword.first != UInt8(ascii: "#") else { continue }
            do {
                try builder.add(keyword: keyword, arguments: Array(items.dropFirst()))
            } catch let PolicyBuilder.Refusal.because(why) {
                throw TransparencyError.policy(line: index + 1, why)
            }
        }
        guard let quorum = builder.quorum else { throw TransparencyError.policy(line: 0, "no quorum line") }
        try builder.refuseLogKeysAsWitnesses()
        self.init(logs: builder.logs, witnesses: builder.witnesses, groups: builder.groups, quorumBytes: quorum)
    }
}

/// A name or other octet string for an error message: at most 64 bytes, shown as UTF-8 (invalid bytes as U+FFFD).
private func shown(_ octets: [UInt8]) -> String {
    String(decoding: octets.prefix(64), as: UTF8.self)
}

/// Accumulates policy lines in order, checking each against the ones before it.
private struct PolicyBuilder {
    enum Refusal: Error { case because(String) }

    var logs: [TlogPolicy.Log] = []
    var witnesses: [TlogPolicy.Witness] = []
    var groups: [TlogPolicy.Group] = []
    var quorum: [UInt8]?
    var usedMembers: Set<[UInt8]> = []

    mutating func add(keyword: [UInt8], arguments: [[UInt8]]) throws {
        switch String(decoding: keyword, as: UTF8.self) {
        case "log": try addLog(arguments)
        case "witness": try addWitness(arguments)
        case "group": try addGroup(arguments)
        case "quorum": try setQuorum(arguments)
        default: throw Refusal.because("unknown keyword \"\(shown(Array(keyword.prefix(32))))\"")
        }
    }

    /// A vkey or URL item: keys and URLs are ASCII in practice; they are handled as text.
    private func text(_ item: [UInt8]) -> String { String(decoding: item, as: UTF8.self) }

    private mutating func addLog(_ arguments: [[UInt8]]) throws {
        guard (1...2).contains(arguments.count) else { throw Refusal.because("expected: log <vkey> [<url>]") }
        let key: NoteVerifierKey
        do { key = try NoteVerifierKey(text: text(arguments[0])) } catch {
            throw Refusal.because("log key: \(error) (a log key is an Ed25519 note vkey, type 0x01)")
        }
        guard !logs.contains(where: { $0.key.publicKey == key.publicKey }) else {
            throw Refusal.because("duplicate log key")
        }
        guard logs.count < TlogPolicy.maxLogs else { throw Refusal.because("more than \(TlogPolicy.maxLogs) logs") }
        logs.append(TlogPolicy.Log(key: key, url: arguments.count == 2 ? text(arguments[1]) : nil))
    }

    private mutating func addWitness(_ arguments: [[UInt8]]) throws {
        guard (2...3).contains(arguments.count) else {
            throw Refusal.because("expected: witness <name> <vkey> [<url>]")
        }
        let name = arguments[0]
        try requireNewName(name)
        let vkey: VerifierKeyText
        do { vkey = try VerifierKeyText(text: text(arguments[1])) } catch {
            throw Refusal.because("witness \(shown(name)): \(error)")
        }
        guard !witnesses.contains(where: { $0.vkey.keyMaterial == vkey.keyMaterial }) else {
            throw Refusal.because("duplicate witness key (witness \(shown(name)))")
        }
        guard witnesses.count < TlogPolicy.maxWitnesses else {
            throw Refusal.because("more than \(TlogPolicy.maxWitnesses) witnesses")
        }
        let cosigner = try cosignerKey(vkey, witness: name)
        witnesses.append(TlogPolicy.Witness(nameBytes: name, vkey: vkey, cosigner: cosigner,
                                            url: arguments.count == 3 ? text(arguments[2]) : nil))
    }

    /// The cosignature/v1 key of a type-0x04 vkey. An ML-DSA-44 key (0x06) or a type this verifier does not know
    /// (a future cosignature format) gives nil: the witness is kept and never counted. A note signing key (0x01) is
    /// not a cosigner key, and wrong key lengths are refused.
    private func cosignerKey(_ vkey: VerifierKeyText, witness name: [UInt8]) throws -> CosignerKey? {
        switch vkey.algorithm {
        case cosignatureV1Algorithm:
            guard let key = try? CosignerKey(parsed: vkey) else {
                throw Refusal.because("witness \(shown(name)): an Ed25519 cosigner key must be 32 bytes")
            }
            return key
        case cosignatureMLDSA44Algorithm:
            guard vkey.keyMaterial.count == 1312 else {
                throw Refusal.because("witness \(shown(name)): an ML-DSA-44 cosigner key must be 1312 bytes")
            }
            return nil
        case 0x01:
            throw Refusal.because("witness \(shown(name)): a note signing key (type 0x01) is not a cosigner key "
                                  + "(0x04 Ed25519 cosignature/v1)")
        default:
            return nil
        }
    }

    private mutating func addGroup(_ arguments: [[UInt8]]) throws {
        guard arguments.count >= 3 else { throw Refusal.because("expected: group <name> <k|all|any> <name>...") }
        let name = arguments[0], members = Array(arguments.dropFirst(2))
        try requireNewName(name)
        for member in members {
            guard member != Array("none".utf8) else { throw Refusal.because("none cannot be a group member") }
            guard isDefined(member) else { throw Refusal.because("group member \(shown(member)) is not defined above") }
        }
        // "Each defined name can be listed as a group member at most once", in the whole file: the groups form a
        // tree, so each witness counts towards the quorum in only one way (and evaluating it is linear).
        for member in members where usedMembers.contains(member) {
            throw Refusal.because("\(shown(member)) is already a member of a group")
        }
        guard Set(members).count == members.count else { throw Refusal.because("a group lists a member twice") }
        usedMembers.formUnion(members)
        let threshold = try parseThreshold(text(arguments[1]), memberCount: members.count)
        guard groups.count < TlogPolicy.maxGroups else { throw Refusal.because("more than \(TlogPolicy.maxGroups) groups") }
        groups.append(TlogPolicy.Group(nameBytes: name, threshold: threshold, memberBytes: members))
    }

    private func parseThreshold(_ text: String, memberCount: Int) throws -> Int {
        switch text {
        case "all": return memberCount
        case "any": return 1
        default:
            let digits = text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard digits, text.utf8.count <= 4, !(text.hasPrefix("0")), let k = Int(text), (1...memberCount).contains(k) else {
                throw Refusal.because("threshold must be all, any or a decimal k with 1 <= k <= \(memberCount)")
            }
            return k
        }
    }

    private mutating func setQuorum(_ arguments: [[UInt8]]) throws {
        guard quorum == nil else { throw Refusal.because("a second quorum line") }
        guard arguments.count == 1 else { throw Refusal.because("expected: quorum <name>") }
        guard arguments[0] == Array("none".utf8) || isDefined(arguments[0]) else {
            throw Refusal.because("quorum \(shown(arguments[0])) is not defined above")
        }
        quorum = arguments[0]
    }

    /// A log's own key listed as a witness would let the log cosign its own checkpoints: refused, whichever line
    /// comes first.
    func refuseLogKeysAsWitnesses() throws {
        for witness in witnesses where logs.contains(where: { $0.key.publicKey == witness.vkey.keyMaterial }) {
            throw TransparencyError.policy(line: 0, "witness \(shown(witness.nameBytes)) has a log's key: a log "
                                           + "cannot witness its own checkpoints")
        }
    }

    private func requireNewName(_ name: [UInt8]) throws {
        guard name != Array("none".utf8) else { throw Refusal.because("none is a reserved name") }
        guard !isDefined(name) else { throw Refusal.because("name \(shown(name)) is defined twice") }
    }

    /// Names are opaque octet strings: compared byte-wise.
    private func isDefined(_ name: [UInt8]) -> Bool {
        witnesses.contains { $0.nameBytes == name } || groups.contains { $0.nameBytes == name }
    }
}
