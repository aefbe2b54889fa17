import MerkleLog
import Sodium

/// One field's commitment, the RFC 9901 (SD-JWT) construction:
/// disclosure = base64url(JSON array [salt, name, value]); digest = SHA-256(ASCII(disclosure)).
///
/// The JSON array is produced by one fixed template from its three parts, so the stored parts
/// (salt, name, canonical value bytes) always give back the same disclosure byte for byte:
///     ["<base64url(salt)>","<name>",<canonical JSON value>]
/// Names are ASCII schema words (no escaping needed); values are canonical JSON (RecordFormats.JSONWriter).
public struct Disclosure: Sendable, Equatable {
    public static let saltByteCount = 16

    public let salt: [UInt8]
    public let name: String
    /// Canonical JSON bytes of the value.
    public let value: [UInt8]

    public init(salt: [UInt8], name: String, value: [UInt8]) {
        self.salt = salt
        self.name = name
        self.value = value
    }

    /// The JSON array bytes (before base64url).
    public var jsonBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(value.count + name.utf8.count + 32)
        out.append(contentsOf: Array(#"[""#.utf8))
        Base64.encodeURL(salt.withUnsafeBytes { $0 }, into: &out)
        out.append(contentsOf: Array(#"",""#.utf8))
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: Array(#"","#.utf8))
        out.append(contentsOf: value)
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The disclosure string exactly as exported: base64url without padding.
    public var encoded: String { Base64.encodeURL(jsonBytes) }

    /// SHA-256 over the ASCII of the disclosure string (RFC 9901 §4.2.3).
    public var digest: Hash {
        var ascii = [UInt8]()
        let json = jsonBytes
        ascii.reserveCapacity(json.count * 4 / 3 + 4)
        json.withUnsafeBytes { Base64.encodeURL($0, into: &ascii) }
        return Hash.sha256(ascii)
    }

    static let saltLabel = Array("client-ledger/salt/v1".utf8)

    /// The salt of field `index`: BLAKE2b-128 keyed with the entry's 16-byte seed over `label || u16 BE index`.
    /// A keyed PRF, so revealing one field's salt reveals nothing about the seed or the other salts.
    static func salt(seed: [UInt8], index: Int) -> [UInt8] {
        let key = SecretBytes(copying: seed)
        var message = saltLabel
        message.append(UInt8(index >> 8))
        message.append(UInt8(index & 0xff))
        return KeyedHash.hash(message, key: key, length: saltByteCount)
    }
}
