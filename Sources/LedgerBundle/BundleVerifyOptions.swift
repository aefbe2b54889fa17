public struct BundleVerifyOptions: Sendable {
    /// Verifier key text kept outside the bundle; without it the bundle's own verifier.key is used (weaker).
    public var pinnedVerifierKey: String?
    /// A checkpoint (signed note) the recipient already holds: the bundle's tree must extend it.
    public var trustedCheckpoint: String?

    public init(pinnedVerifierKey: String? = nil, trustedCheckpoint: String? = nil) {
        self.pinnedVerifierKey = pinnedVerifierKey
        self.trustedCheckpoint = trustedCheckpoint
    }
}
