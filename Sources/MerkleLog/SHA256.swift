import CSHA256

/// Incremental SHA-256 (FIPS 180-4) on the CSHA256 C module, which uses the x86 SHA extensions when the
/// CPU has them and portable C otherwise.
///
/// The context lives inline in this value, so hashing allocates nothing. (swift-crypto's `SHA256` keeps its
/// context in a class and copies it to finalize: two allocations per hash, which cost more than the
/// compression itself for the 65-byte node hashes of RFC 6962 and the short disclosures of every record.)
public struct SHA256Hasher {
    private var context = csha256_ctx()

    public init() {
        csha256_init(&context)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        csha256_update(&context, base, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(byte: UInt8) {
        withUnsafeBytes(of: byte) { update($0) }
    }

    /// The digest; the context is wiped and must not be used again.
    public mutating func finalize() -> Hash {
        var digest = Hash.zero
        withUnsafeMutableBytes(of: &digest.words) { out in
            csha256_final(&context, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return digest
    }

    /// SHA-256 of `bytes` in one call.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Hash {
        var digest = Hash.zero
        withUnsafeMutableBytes(of: &digest.words) { out in
            csha256(bytes.baseAddress, bytes.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return digest
    }

    /// Finishes two hashes at once: the digests of `a.update(messageA); a.finalize()` and the same for `b`. With the
    /// SHA extensions the two messages' blocks are compressed interleaved, at about twice the throughput of one
    /// message after the other. Both contexts are wiped and must not be used again.
    public static func finalize(_ a: inout SHA256Hasher, _ messageA: UnsafeRawBufferPointer,
                                _ b: inout SHA256Hasher, _ messageB: UnsafeRawBufferPointer) -> (Hash, Hash) {
        var digests = (Hash.zero, Hash.zero)
        withUnsafeMutableBytes(of: &digests.0.words) { outA in
            withUnsafeMutableBytes(of: &digests.1.words) { outB in
                csha256_x2(&a.context, messageA.baseAddress, messageA.count,
                           outA.baseAddress!.assumingMemoryBound(to: UInt8.self),
                           &b.context, messageB.baseAddress, messageB.count,
                           outB.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return digests
    }

    /// SHA-256 of two messages at once (see `finalize(_:_:_:_:)`).
    public static func hash(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> (Hash, Hash) {
        var hasherA = SHA256Hasher(), hasherB = SHA256Hasher()
        return finalize(&hasherA, a, &hasherB, b)
    }

    /// "sha-extensions" or "portable": which compression function this process uses.
    public static var implementation: String {
        csha256_uses_sha_extensions() != 0 ? "sha-extensions" : "portable"
    }

    /// Switches between the portable code and the CPU's choice, so tests can check one against the other.
    static func forcePortable(_ portable: Bool) {
        csha256_force_portable(portable ? 1 : 0)
    }
}
