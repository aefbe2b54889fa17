/// Why an age file, recipient or identity was refused. Messages name the part at fault and never carry key
/// material or plaintext.
public enum AgeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not `age-encryption.org/v1` (another version or not an age file at all).
    case unsupportedVersion
    /// The header breaks the grammar: the detail says where.
    case malformedHeader(String)
    /// A base64 field is not the canonical, unpadded standard encoding.
    case nonCanonicalBase64(field: String)
    /// No stanza could be opened with the identities; `stanzaTypes` lists what the header held.
    case noMatchingIdentity(stanzaTypes: [String])
    /// The header MAC does not match: the header was altered (or the file key is wrong).
    case headerMACMismatch
    /// The payload ends before its last chunk (or before its nonce).
    case payloadTruncated
    /// Bytes follow the last chunk.
    case payloadExtended
    /// The last chunk is empty though the payload is not.
    case emptyLastChunk
    /// A chunk failed authentication (index from 0).
    case payloadAuthenticationFailed(chunk: Int)
    /// A recipient string that is not a valid `age1…` X25519 recipient.
    case invalidRecipient(String)
    /// An identity that is not a valid `AGE-SECRET-KEY-1…` (the key itself never appears in the detail).
    case invalidIdentity(String)

    public var description: String {
        switch self {
        case .unsupportedVersion: "not an age-encryption.org/v1 file"
        case .malformedHeader(let detail): "malformed age header: \(detail)"
        case .nonCanonicalBase64(let field): "age header: \(field) is not canonical unpadded base64"
        case .noMatchingIdentity(let types):
            "no identity matches the file's recipients (stanzas: \(types.joined(separator: ", ")))"
        case .headerMACMismatch: "age header MAC mismatch: the header was altered or the key is wrong"
        case .payloadTruncated: "age payload truncated: the last chunk is missing"
        case .payloadExtended: "age payload has data after its last chunk"
        case .emptyLastChunk: "age payload ends with an empty chunk after data"
        case .payloadAuthenticationFailed(let chunk): "age payload chunk \(chunk) failed authentication"
        case .invalidRecipient(let detail): "invalid age recipient: \(detail)"
        case .invalidIdentity(let detail): "invalid age identity: \(detail)"
        }
    }
}
