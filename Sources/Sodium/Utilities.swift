import CSodium

/// libsodium's CSPRNG (`randombytes_buf`).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "count must not be negative")
        Sodium.ensureInitialized()
        var result = [UInt8](repeating: 0, count: count)
        result.withUnsafeMutableBytes { fill($0) }
        return result
    }

    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        Sodium.ensureInitialized()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard buffer.count > expansionThreshold else { return randombytes_buf(base, buffer.count) }
        // A large draw (an import batch's salt seeds and nonces, ~300 KB) is ChaCha20 keyed with 32 bytes from the
        // system: libsodium's own generator reads the system 256 bytes per getrandom call (~1,200 calls a batch).
        var seed = [UInt8](repeating: 0, count: Int(randombytes_SEEDBYTES))
        defer { zeroize(&seed) }
        seed.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        seed.withUnsafeBytes { randombytes_buf_deterministic(base, buffer.count, $0.bindMemory(to: UInt8.self).baseAddress!) }
    }

    /// Draws larger than this expand a 32-byte system seed (`randombytes_buf_deterministic`, ChaCha20).
    static let expansionThreshold = 4096
}

/// Constant-time comparison (`sodium_memcmp`). `false` if the lengths differ (lengths are public).
public func constantTimeEquals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    Sodium.ensureInitialized()
    guard a.count == b.count else { return false }
    if a.count == 0 { return true }
    return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
}

/// Constant-time comparison (`sodium_memcmp`). `false` if the lengths differ (lengths are public).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in constantTimeEquals(pa, pb) } }
}

/// Overwrites the buffer with zeros in a way the compiler cannot elide (`sodium_memzero`).
public func zeroize(_ buffer: UnsafeMutableRawBufferPointer) {
    Sodium.ensureInitialized()
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    sodium_memzero(base, buffer.count)
}

/// Zeroes the array's current storage in place (`sodium_memzero`). Copies the array made
/// earlier (copy-on-write) are not reached; keep secrets in `SecretBytes` where possible.
public func zeroize(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { zeroize($0) }
}
