public struct BundleVerifyOptions: Sendable {
    /// Verifier key text kept outside the bundle; without it the bundle's own verifier.key is used (weaker).
    public var pinnedVerifierKey: String?
    /// A checkpoint (signed note) the recipient already holds: the bundle's tree must extend it.
    public var trustedCheckpoint: String?

    /// Refuse a bundle whose manifest is not signed (format 1): anyone handling a v1 bundle can change its reasons,
    /// profile, privilege log and report and re-hash them, and a v2 bundle can be turned into a v1 one.
    public var requireSignedManifest = false

    /// A c2sp.org/tlog-policy file's bytes: checkpoint.txt must be signed by the policy's log for its origin (which
    /// pins the key, and must agree with `pinnedVerifierKey` when both are given) and carry a quorum of valid
    /// witness cosignatures.
    public var policy: [UInt8]?

    public init(pinnedVerifierKey: String? = nil, trustedCheckpoint: String? = nil) {
        self.pinnedVerifierKey = pinnedVerifierKey
        self.trustedCheckpoint = trustedCheckpoint
    }
}
