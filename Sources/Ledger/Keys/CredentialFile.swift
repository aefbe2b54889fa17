import LedgerFormat
import Sodium

/// A credential: one line `ledger-credential:v1:<name>:<base64(ledger id (16) || X25519 secret key (32))>`, mode
/// 0600 (docs/FORMAT.md, "Credentials"). The name is public (it appears in grant and access entries); the secret key
/// opens only what the ledger has sealed to its public key for this credential's grant.
struct CredentialFile {
    static let prefix = "ledger-credential:v1:"

    let name: String
    let ledgerID: [UInt8]
    let pair: BoxKeyPair

    static func create(at path: String, name: String, ledgerID: [UInt8], pair: BoxKeyPair) throws {
        var secret = ledgerID
        pair.secretKey.withUnsafeBytes { secret.append(contentsOf: $0) }
        defer { zeroize(&secret) }
        var line = Array((prefix + name + ":").utf8) + Array(Base64.encode(secret).utf8)
        defer { zeroize(&line) }
        try SecretFile.create(at: path, line: line)
    }

    static func load(from path: String) throws -> CredentialFile {
        var line = try SecretFile.readLine(from: path)
        defer { zeroize(&line) }
        let prefixBytes = Array(prefix.utf8)
        guard line.count > prefixBytes.count, Array(line[0..<prefixBytes.count]) == prefixBytes,
              let colon = line[prefixBytes.count...].firstIndex(of: UInt8(ascii: ":")) else {
            throw LedgerError.keyFileMalformed(path: path, reason: "missing the `\(prefix)NAME:` header of a credential")
        }
        let name = String(decoding: line[prefixBytes.count..<colon], as: UTF8.self)
        guard AccessEvent.isValidCredentialName(name) else {
            throw LedgerError.keyFileMalformed(path: path, reason: "the credential name is not valid")
        }
        guard var raw = Base64.decode(String(decoding: line[(colon + 1)...], as: UTF8.self)),
              raw.count == Leaf.ledgerIDByteCount + BoxKeyPair.secretKeyByteCount else {
            throw LedgerError.keyFileMalformed(path: path, reason: "the credential secret is not 48 bytes of base64")
        }
        defer { zeroize(&raw) }
        let secret = raw.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[16...])) }
        return CredentialFile(name: name, ledgerID: Array(raw[0..<16]), pair: try BoxKeyPair(secretKey: secret))
    }
}
