import CSodium

/// Heap bytes holding secret material (keys, seeds, passphrases, plaintext).
///
/// The storage is zeroed with `sodium_memzero` before it is freed. The bytes never appear in
/// `description`/`debugDescription`. There is deliberately no `Equatable`: compare with
/// `constantTimeEquals(_:)`.
///
/// `@unchecked Sendable`: the buffer is only mutated through `withUnsafeMutableBytes`;
/// callers must not mutate one instance from several threads at once (reads are safe).
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let storage: UnsafeMutableRawPointer
    public let count: Int

    /// `count` zero bytes.
    public init(count: Int) {
        precondition(count >= 0, "SecretBytes count must not be negative")
        self.count = count
        storage = SecretBytes.allocateZeroed(count)
    }

    /// `randomCount` bytes from libsodium's CSPRNG.
    public convenience init(randomCount: Int) {
        self.init(count: randomCount)
        randombytes_buf(storage, count)
    }

    /// A copy of `bytes`. The caller remains responsible for zeroing its own copy.
    public init(copying bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        storage = SecretBytes.allocateZeroed(bytes.count)
        if let base = bytes.baseAddress, bytes.count > 0 {
            storage.copyMemory(from: base, byteCount: bytes.count)
        }
    }

    /// A copy of `bytes`. The caller remains responsible for zeroing the array (see `zeroize(_:)`).
    public init(copying bytes: [UInt8]) {
        count = bytes.count
        storage = SecretBytes.allocateZeroed(bytes.count)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress, source.count > 0 {
                storage.copyMemory(from: base, byteCount: source.count)
            }
        }
    }

    /// At least one byte, so the pointer is always a real allocation.
    private static func allocateZeroed(_ count: Int) -> UnsafeMutableRawPointer {
        Sodium.ensureInitialized()
        let size = Swift.max(count, 1)
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return pointer
    }

    deinit {
        sodium_memzero(storage, Swift.max(count, 1))
        storage.deallocate()
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }

    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: storage, count: count))
    }

    /// Constant-time comparison of the contents (`sodium_memcmp`); `false` if the lengths differ
    /// (lengths are not treated as secret).
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        if count == 0 { return true }
        return sodium_memcmp(storage, other.storage, count) == 0
    }

    public var description: String { "SecretBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
}
