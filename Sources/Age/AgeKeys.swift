import Sodium

/// An age X25519 recipient: a 32-byte public key, written `age1…` (lowercase bech32, HRP `age`).
public struct AgeRecipient: Sendable, Equatable, CustomStringConvertible {
    public let publicKey: [UInt8]

    public init(publicKey: [UInt8]) throws {
        guard publicKey.count == X25519.keyByteCount else { throw AgeError.invalidRecipient("not 32 bytes") }
        self.publicKey = publicKey
    }

    /// Parses `age1…`. Strict: lowercase only, valid checksum, exactly 32 bytes.
    public init(parsing text: String) throws {
        guard text.hasPrefix("age1"), let (hrp, data) = Bech32.decode(text), hrp == "age" else {
            throw AgeError.invalidRecipient("not an age1… bech32 string")
        }
        try self.init(publicKey: data)
    }

    /// The `age1…` encoding.
    public var description: String { Bech32.encode(hrp: "age", data: publicKey) }
}

/// An age X25519 identity: a 32-byte secret scalar, written `AGE-SECRET-KEY-1…` (uppercase bech32).
/// The secret stays in `SecretBytes`; `description` is redacted.
public struct AgeIdentity: Sendable, CustomStringConvertible {
    public static let hrp = "age-secret-key-"
    let secret: SecretBytes
    /// The matching recipient.
    public let recipient: AgeRecipient

    /// A fresh identity from libsodium's CSPRNG.
    public static func generate() throws -> AgeIdentity {
        try AgeIdentity(secret: SecretBytes(randomCount: X25519.keyByteCount))
    }

    init(secret: SecretBytes) throws {
        guard secret.count == X25519.keyByteCount else { throw AgeError.invalidIdentity("not 32 bytes") }
        self.secret = secret
        self.recipient = try AgeRecipient(publicKey: X25519.publicKey(secret: secret))
    }

    /// Parses `AGE-SECRET-KEY-1…` (uppercase, as age-keygen writes it).
    public init(parsing text: String) throws {
        guard text.hasPrefix("AGE-SECRET-KEY-1"), text == text.uppercased(),
              let decoded = Bech32.decode(text), decoded.hrp == Self.hrp else {
            throw AgeError.invalidIdentity("not an AGE-SECRET-KEY-1… bech32 string")
        }
        var data = decoded.data
        defer { zeroize(&data) }
        try self.init(secret: SecretBytes(copying: data))
    }

    /// The `AGE-SECRET-KEY-1…` encoding, for writing a key file. Secret: never log it.
    public func encoded() -> String {
        var bytes = secret.withUnsafeBytes { Array($0) }
        defer { zeroize(&bytes) }
        return Bech32.encode(hrp: Self.hrp, data: bytes, uppercase: true)
    }

    public var description: String { "AgeIdentity(\(recipient), secret redacted)" }
}


/// Key files in age-keygen's format: `#` comments, blank lines, one key per line.
public enum AgeKeyFile {
    /// Every `AGE-SECRET-KEY-1…` line of an identity file (at least one). Other non-comment lines are refused.
    public static func identities(in text: String) throws -> [AgeIdentity] {
        var found = [AgeIdentity]()
        for (number, line) in lines(text).enumerated() where !line.isEmpty && !line.hasPrefix("#") {
            do { found.append(try AgeIdentity(parsing: line)) } catch {
                throw AgeError.invalidIdentity("line \(number + 1) is not an identity")
            }
        }
        guard !found.isEmpty else { throw AgeError.invalidIdentity("no AGE-SECRET-KEY-1… line in the file") }
        return found
    }

    /// The recipients of a recipients file (`age1…` lines; every `#` line is a comment, as for age) or of an
    /// identity file (the recipients its secret keys derive: a `# public key:` comment is never trusted, since an
    /// edited comment would seal to a key nobody holds). Unique, in file order; at least one.
    public static func recipients(in text: String) throws -> [AgeRecipient] {
        let all = lines(text)
        if all.contains(where: { $0.hasPrefix("AGE-SECRET-KEY-") }) {
            return unique(try identities(in: text).map(\.recipient))
        }
        var found = [AgeRecipient]()
        for (number, line) in all.enumerated() where !line.isEmpty && !line.hasPrefix("#") {
            do { found.append(try AgeRecipient(parsing: line)) } catch {
                throw AgeError.invalidRecipient("line \(number + 1) is not an age1… recipient")
            }
        }
        guard !found.isEmpty else { throw AgeError.invalidRecipient("no age1… recipient in the file") }
        return unique(found)
    }

    private static func unique(_ recipients: [AgeRecipient]) -> [AgeRecipient] {
        var seen = Set<[UInt8]>()
        return recipients.filter { seen.insert($0.publicKey).inserted }
    }

    /// An identity file as age-keygen writes it.
    public static func render(_ identity: AgeIdentity, created: String) -> String {
        "# created: \(created)\n# public key: \(identity.recipient)\n\(identity.encoded())\n"
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0).trimmingTrailingSpaces()
        }
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
