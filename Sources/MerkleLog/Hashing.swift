// RFC 6962 / RFC 9162 §2.1 hashing: leaves and interior nodes are domain-separated by a one-byte prefix.
//
// Each call hashes straight from the caller's buffer or a stack buffer with `SHA256Hasher`,
// whose context lives on the stack: nothing here allocates.

/// The hash of the tree of size zero (RFC 6962 MTH({}) = SHA-256 of the empty string).
/// Note: Go's tlog defines the size-zero tree hash as all zeros instead.
extension Hash {
    public static let emptyTree = Hash.sha256([])
}

/// The hash of one record (a tree leaf).
public func recordHash(_ leaf: UnsafeRawBufferPointer) -> Hash {
    // SHA-256(0x00 || leaf), RFC 6962 §2.1
    var h = SHA256Hasher()
    h.update(byte: 0x00)
    h.update(leaf)
    return h.finalize()
}

/// The record hashes of two leaves at once (`SHA256Hasher.finalize(_:_:_:_:)`: their blocks interleaved).
public func recordHashes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> (Hash, Hash) {
    // SHA-256(0x00 || leaf) for each, RFC 6962 §2.1
    var hasherA = SHA256Hasher(), hasherB = SHA256Hasher()
    hasherA.update(byte: 0x00)
    hasherB.update(byte: 0x00)
    return SHA256Hasher.finalize(&hasherA, a, &hasherB, b)
}

@inlinable
public func recordHash(_ leaf: [UInt8]) -> Hash {
    leaf.withUnsafeBytes { recordHash($0) }
}

/// The hash of an interior node with the given children.
public func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
    // SHA-256(0x01 || left || right), RFC 6962 §2.1
    // The 65-byte input is assembled in a stack buffer (nine words) and hashed in one update.
    var buf: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    return withUnsafeMutableBytes(of: &buf) { b in
        b[0] = 0x01
        b.storeBytes(of: left.words.0, toByteOffset: 1, as: UInt64.self)
        b.storeBytes(of: left.words.1, toByteOffset: 9, as: UInt64.self)
        b.storeBytes(of: left.words.2, toByteOffset: 17, as: UInt64.self)
        b.storeBytes(of: left.words.3, toByteOffset: 25, as: UInt64.self)
        b.storeBytes(of: right.words.0, toByteOffset: 33, as: UInt64.self)
        b.storeBytes(of: right.words.1, toByteOffset: 41, as: UInt64.self)
        b.storeBytes(of: right.words.2, toByteOffset: 49, as: UInt64.self)
        b.storeBytes(of: right.words.3, toByteOffset: 57, as: UInt64.self)
        return SHA256Hasher.hash(UnsafeRawBufferPointer(rebasing: b[0..<65]))
    }
}

/// Two interior nodes' hashes at once (`nodeHash` of each pair, their SHA-256 blocks interleaved).
public func nodeHashes(_ a: (left: Hash, right: Hash), _ b: (left: Hash, right: Hash)) -> (Hash, Hash) {
    // SHA-256(0x01 || left || right) for each, RFC 6962 §2.1
    withNodeMessage(a.left, a.right) { first in
        withNodeMessage(b.left, b.right) { second in
            var hasherA = SHA256Hasher(), hasherB = SHA256Hasher()
            return SHA256Hasher.finalize(&hasherA, first, &hasherB, second)
        }
    }
}

/// 0x01 || left || right (65 bytes), on the stack.
private func withNodeMessage<R>(_ left: Hash, _ right: Hash, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    var buf: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    return withUnsafeMutableBytes(of: &buf) { b in
        b[0] = 0x01
        withUnsafeBytes(of: left.words) { (b.baseAddress! + 1).copyMemory(from: $0.baseAddress!, byteCount: 32) }
        withUnsafeBytes(of: right.words) { (b.baseAddress! + 33).copyMemory(from: $0.baseAddress!, byteCount: 32) }
        return body(UnsafeRawBufferPointer(rebasing: b[0..<65]))
    }
}

/// k, the largest power of two smaller than n (n >= 2): the size of the left subtree of a tree of n leaves.
@inlinable
internal func maxpow2(_ n: Int64) -> Int64 {
    Int64(1) << (63 - (n - 1).leadingZeroBitCount)
}

/// SHA-256 of messages that all begin with the same 64-byte prefix (one block), which is absorbed once:
/// hashing a message then costs only its own blocks. `hash(_:)` equals `Hash.sha256(prefix + message)`.
/// The absorbed state is a value (`SHA256Hasher`): each hash copies it, on the stack. `@unchecked Sendable`:
/// that state is plain bytes (a C struct), never shared mutably.
public struct PrefixedSHA256: @unchecked Sendable {
    public static let prefixByteCount = 64

    private let absorbed: SHA256Hasher

    public init(prefix: UnsafeRawBufferPointer) {
        precondition(prefix.count == Self.prefixByteCount, "PrefixedSHA256 needs a 64-byte prefix")
        var h = SHA256Hasher()
        h.update(prefix)
        absorbed = h
    }

    public func hash(_ message: UnsafeRawBufferPointer) -> Hash {
        var h = absorbed
        h.update(message)
        return h.finalize()
    }

    /// The hashes of two messages at once (their blocks interleaved).
    public func hash(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> (Hash, Hash) {
        var hasherA = absorbed, hasherB = absorbed
        return SHA256Hasher.finalize(&hasherA, a, &hasherB, b)
    }
}
