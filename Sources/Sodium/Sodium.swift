import CSodium

/// An error from libsodium (or from argument validation in front of it).
///
/// `operation` names the wrapper operation (for example `"aead.open"`), `code` is the C
/// result code (`-1` when libsodium reports failure, or when the wrapper refused the
/// arguments before calling libsodium). Errors never carry secret material.
public struct SodiumError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "libsodium \(operation) failed (code \(code))" }
}

/// libsodium initialisation.
public enum Sodium {
    /// Runs `sodium_init` exactly once (Swift lazy statics are initialised with `swift_once`).
    private static let initialized: Bool = {
        // 0 = initialised now, 1 = already initialised, -1 = failure.
        sodium_init() >= 0
    }()

    /// Idempotent and thread-safe. Every API of this module calls it first.
    /// Terminates the process if libsodium cannot initialise (no safe way to continue).
    public static func ensureInitialized() {
        guard initialized else { fatalError("sodium_init failed: libsodium is unusable") }
    }

    /// The libsodium version string, e.g. "1.0.18".
    public static var versionString: String {
        ensureInitialized()
        return String(cString: sodium_version_string())
    }
}

/// A non-null pointer for a possibly empty buffer (libsodium may dereference nothing,
/// but some entry points reject or assert on NULL).
@inline(__always)
func nonNullBase(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
    if let base = buffer.baseAddress { return base.assumingMemoryBound(to: UInt8.self) }
    return UnsafePointer(emptyByte)
}

@inline(__always)
func nonNullBase(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8> {
    if let base = buffer.baseAddress { return base.assumingMemoryBound(to: UInt8.self) }
    return emptyByte
}

/// One byte of storage used only as a non-null pointer for zero-length buffers; never read or written.
nonisolated(unsafe) private let emptyByte: UnsafeMutablePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    p.initialize(to: 0)
    return p
}()
