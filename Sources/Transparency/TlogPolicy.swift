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
        /// The name as written: an opaque octet string (c2sp.org/tlog-policy, "Character set").
        public let nameBytes: [UInt8]
        /// The vkey as written, whatever its signature type.
        public let vkey: VerifierKeyText
        /// The cosignature/v1 key when the vkey is one (type 0x04); nil for types this verifier cannot check
        /// (e.g. ML-DSA-44, 0x06): such a witness is kept but never counts towards the quorum.
        public let cosigner: CosignerKey?
        public let url: String?

        /// The name for display only (invalid UTF-8 shown as U+FFFD); never compare it: compare `nameBytes`.
        public var name: String { String(decoding: nameBytes, as: UTF8.self) }
    }

    public struct Group: Sendable, Equatable {
        public let nameBytes: [UInt8]
        /// At least this many members must have witnessed (1 ≤ threshold ≤ members.count).
        public let threshold: Int
        public let memberBytes: [[UInt8]]

        public var name: String { String(decoding: nameBytes, as: UTF8.self) }
        public var members: [String] { memberBytes.map { String(decoding: $0, as: UTF8.self) } }
    }

    public let logs: [Log]
    public let witnesses: [Witness]
    public let groups: [Group]
    /// A witness or group name, or `none`, as octets.
    public let quorumBytes: [UInt8]

    /// The quorum's name for display.
    public var quorum: String { String(decoding: quorumBytes, as: UTF8.self) }

    public init(logs: [Log], witnesses: [Witness], groups: [Group], quorumBytes: [UInt8]) {
        self.logs = logs
        self.witnesses = witnesses
        self.groups = groups
        self.quorumBytes = quorumBytes
    }

    /// Whether the witnesses named in `witnessed` (valid UTF-8 names with a valid cosignature) meet the quorum.
    public func quorumMet(by witnessed: Set<String>) -> Bool {
        quorumMet(byNames: Set(witnessed.map { Array($0.utf8) }))
    }

    /// Whether the witnesses named in `witnessed` (names as octets) satisfy the quorum. Names are compared as
    /// octet strings, as the spec requires, never Unicode-canonically. Linear: each name is a member at most once.
    public func quorumMet(byNames witnessed: Set<[UInt8]>) -> Bool {
        satisfies(quorumBytes, witnessed)
    }

    private func satisfies(_ name: [UInt8], _ witnessed: Set<[UInt8]>) -> Bool {
        if name == Array("none".utf8) { return true }
        if witnesses.contains(where: { $0.nameBytes == name }) { return witnessed.contains(name) }
        guard let group = groups.first(where: { $0.nameBytes == name }) else { return false }
        return group.memberBytes.filter { satisfies($0, witnessed) }.count >= group.threshold
    }

    /// The witness whose cosignature/v1 key claims `signature` (same name and key id), if any.
    public func witness(claiming signature: NoteSignature) -> Witness? {
        witnesses.first { $0.vkey.claims(signature) }
    }

    /// The logs whose key name is `origin` (tlog-policy: a log key's name is its origin line); a checkpoint signed
    /// by any of them is accepted.
    public func logs(origin: String) -> [Log] {
        logs.filter { $0.key.name.utf8.elementsEqual(origin.utf8) }
    }

    /// The policy in canonical form, parseable by `init(parsing:)`: names and URLs byte for byte.
    public var textBytes: [UInt8] {
        var lines: [[UInt8]] = logs.map { Array(("log \($0.key.text)" + ($0.url.map { " \($0)" } ?? "")).utf8) }
        lines += witnesses.map { w in
            Array("witness ".utf8) + w.nameBytes + Array((" \(w.cosigner?.text ?? w.vkey.text)"
                                                         + (w.url.map { " \($0)" } ?? "")).utf8)
        }
        lines += groups.map { g in
            let k = g.threshold == g.memberBytes.count ? "all" : g.threshold == 1 ? "any" : String(g.threshold)
            return Array("group ".utf8) + g.nameBytes + Array(" \(k)".utf8)
                + g.memberBytes.flatMap { [0x20] + $0 }
        }
        lines.append(Array("quorum ".utf8) + quorumBytes)
        return lines.flatMap { $0 + [0x0a] }
    }

    /// `textBytes` as text (for display and for policies whose names are valid UTF-8).
    public var text: String { String(decoding: textBytes, as: UTF8.self) }
}
