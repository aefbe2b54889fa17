/// Errors of signed-note and checkpoint handling. Messages never contain key material and
/// never echo (possibly huge, hostile) input.
public enum NoteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A verifier key text ("<name>+<hash>+<base64>") is malformed.
    case malformedVerifierKey(String)
    /// A signer key ("PRIVATE+KEY+…"), signer name or seed is malformed.
    case malformedSignerKey(String)
    /// A note (or a text to sign) breaks the signed-note format.
    case malformedNote(String)
    /// No signature in the note has the key's name and key hash.
    case unknownKey
    /// A signature by the key (name and hash match) does not verify.
    case invalidSignature
    /// A checkpoint body breaks the tlog-checkpoint format.
    case malformedCheckpoint(String)
    /// A verified checkpoint names another origin than the verifier key's name (C2SP tlog-checkpoint: the key
    /// name is the log's origin).
    case originMismatch(origin: String, keyName: String)

    public var description: String {
        switch self {
        case .malformedVerifierKey(let why): return "malformed verifier key: \(why)"
        case .malformedSignerKey(let why): return "malformed signer key: \(why)"
        case .malformedNote(let why): return "malformed note: \(why)"
        case .unknownKey: return "note has no signature by the given key"
        case .invalidSignature: return "invalid signature by the given key"
        case .malformedCheckpoint(let why): return "malformed checkpoint: \(why)"
        case .originMismatch(let origin, let keyName):
            return "the checkpoint's origin \(origin) is not the key's name \(keyName)"
        }
    }
}
