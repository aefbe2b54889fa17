import SignedNote

/// A transparency-log trust policy (https://c2sp.org/tlog-policy): the logs whose checkpoints are accepted, the
/// witnesses, their groups, and the quorum a checkpoint's cosignatures must meet.
public struct TlogPolicy: Sendable, Equatable {
    /// Files larger than this are refused before parsing.
    public static let maxFileSize = 1 << 20
    /// Limits on policy complexity (the spec recommends supporting at least 32 of each).
    public static let maxLogs = 256, maxWitnesses = 256, maxGroups = 256

    public struct Log: Sendable, Equatable {
        public let key: NoteVerifierKey
        public let url: String?
    }

    public struct Witness: Sendable, Equatable {
        public let name: String
        /// The vkey as written, whatever its signature type.
        public let vkey: VerifierKeyText
        /// The cosignature/v1 key when the vkey is one (type 0x04); nil for types this verifier cannot check
        /// (e.g. ML-DSA-44, 0x06): such a witness is kept but never counts towards the quorum.
        public let cosigner: CosignerKey?
        public let url: String?
    }

    public struct Group: Sendable, Equatable {
        public let name: String
        /// At least this many members must have witnessed (1 ≤ threshold ≤ members.count).
        public let threshold: Int
        public let members: [String]
    }

    public let logs: [Log]
    public let witnesses: [Witness]
    public let groups: [Group]
    /// A witness or group name, or `none`.
    public let quorum: String

    public init(logs: [Log], witnesses: [Witness], groups: [Group], quorum: String) {
        self.logs = logs
        self.witnesses = witnesses
        self.groups = groups
        self.quorum = quorum
    }

    /// Whether the witnesses named in `witnessed` (those with a valid cosignature) satisfy the quorum. Names are
    /// compared as octet strings, as the spec requires (never Unicode-canonically).
    public func quorumMet(by witnessed: Set<String>) -> Bool {
        satisfies(Array(quorum.utf8), Set(witnessed.map { Array($0.utf8) }))
    }

    private func satisfies(_ name: [UInt8], _ witnessed: Set<[UInt8]>) -> Bool {
        if name == Array("none".utf8) { return true }
        if witnesses.contains(where: { $0.name.utf8.elementsEqual(name) }) { return witnessed.contains(name) }
        guard let group = groups.first(where: { $0.name.utf8.elementsEqual(name) }) else { return false }
        return group.members.filter { satisfies(Array($0.utf8), witnessed) }.count >= group.threshold
    }

    /// The witness whose cosignature/v1 key claims `signature` (same name and key id), if any.
    public func witness(claiming signature: NoteSignature) -> Witness? {
        witnesses.first { $0.vkey.claims(signature) }
    }

    /// The log whose key name is `origin` (tlog-policy: a log key's name is its origin line).
    public func log(origin: String) -> Log? {
        logs.first { $0.key.name.utf8.elementsEqual(origin.utf8) }
    }

    /// The policy in canonical text form, parseable by `init(parsing:)`.
    public var text: String {
        var lines = logs.map { "log \($0.key.text)" + ($0.url.map { " \($0)" } ?? "") }
        lines += witnesses.map { w in
            let vkey = w.cosigner?.text ?? w.vkey.text
            return "witness \(w.name) \(vkey)" + (w.url.map { " \($0)" } ?? "")
        }
        lines += groups.map { g in
            let k = g.threshold == g.members.count ? "all" : g.threshold == 1 ? "any" : String(g.threshold)
            return "group \(g.name) \(k) " + g.members.joined(separator: " ")
        }
        lines.append("quorum \(quorum)")
        return lines.joined(separator: "\n") + "\n"
    }
}
