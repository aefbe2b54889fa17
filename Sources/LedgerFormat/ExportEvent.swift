import MerkleLog
import RecordFormats

/// A bundle given away (`ledger export`): recorded after the bundle is written, so the ledger says what went to whom
/// (docs/EXPORT.md, "Every export is recorded"). Public like every event: tags, digests and counts, no content.
extension AccessEvent {
    public struct Export: Sendable, Equatable {
        /// Who exported: `master` or a reader credential.
        public var credential: String
        /// The exported matters' tags (sorted, unique).
        public var matters: [Hash]
        /// SHA-256 (hex) of the bundle's manifest member as written: what the bundle is, byte for byte.
        public var manifest: String
        /// When the bundle was sealed: SHA-256 (hex) of its recipients' X25519 public keys, unique, sorted by bytes and
        /// concatenated (one recipient: the SHA-256 of its key); nil when in clear.
        public var recipient: String?
        /// Entries in the bundle (readable and destroyed), and the checkpoint size its proofs are against.
        public var entries: UInt64
        public var treeSize: UInt64
        /// The export profile's name.
        public var profile: String

        public init(credential: String, matters: [Hash], manifest: String, recipient: String?, entries: UInt64,
                    treeSize: UInt64, profile: String) {
            self.credential = credential
            self.matters = matters
            self.manifest = manifest
            self.recipient = recipient
            self.entries = entries
            self.treeSize = treeSize
            self.profile = profile
        }
    }

    var exportMembers: [(String, JSONValue)] {
        guard case .export(let e) = self else { return [] }
        var m: [(String, JSONValue)] = [("event", "export"), ("credential", .string(e.credential)),
                                         ("matters", Self.tagArray(e.matters)), ("manifest", .string(e.manifest)),
                                         ("entries", .integer(Int64(e.entries))),
                                         ("treeSize", .integer(Int64(e.treeSize))), ("profile", .string(e.profile))]
        if let recipient = e.recipient { m.append(("recipient", .string(recipient))) }
        return m
    }

    static func decodeExport(_ fields: inout FieldReader) throws -> AccessEvent {
        let credential = try fields.string("credential")
        guard credential == masterName || isValidCredentialName(credential) else {
            throw AccessEventError(field: "credential", reason: "not a valid credential name")
        }
        let manifest = try fields.string("manifest")
        guard isHexDigest(manifest) else { throw AccessEventError(field: "manifest", reason: "not a SHA-256 in hex") }
        let recipient = try fields.optionalString("recipient")
        if let recipient, !isHexDigest(recipient) {
            throw AccessEventError(field: "recipient", reason: "not a SHA-256 in hex")
        }
        let profile = try fields.string("profile")
        guard (1...64).contains(profile.utf8.count), !profile.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw AccessEventError(field: "profile", reason: "must be 1 to 64 bytes without control characters")
        }
        guard let entries = try fields.optionalSeq("entries"), let size = try fields.optionalSeq("treeSize") else {
            throw AccessEventError(field: "entries", reason: "entries and treeSize are required")
        }
        return .export(Export(credential: credential, matters: try fields.tags("matters"), manifest: manifest,
                              recipient: recipient, entries: entries, treeSize: size, profile: profile))
    }

    /// 64 lowercase hex digits.
    static func isHexDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
