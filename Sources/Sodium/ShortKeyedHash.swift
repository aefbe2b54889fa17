import CBLAKE2b

/// Keyed BLAKE2b (RFC 7693) for many short messages under one key: the padded key block is compressed once,
/// then each message of 1...128 bytes costs a single compression instead of two. Output is byte for byte
/// that of `KeyedHash.hash` (`crypto_generichash`) with the same key and length; tests check it.
///
/// Derives the per-field salts of every record (one key per record, a dozen fields). The midstate is as
/// secret as the key: it is zeroed when this object goes away.
public final class ShortKeyedHash {
    public static let maxMessageLength = 128

    private var midstate: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    public let outputLength: Int

    /// Preconditions: key 16...64 bytes, output length 16...64 (as `KeyedHash`).
    public init(key: UnsafeRawBufferPointer, outputLength: Int) {
        precondition((16...64).contains(key.count), "ShortKeyedHash key must be 16...64 bytes")
        precondition((16...64).contains(outputLength), "ShortKeyedHash length must be 16...64")
        self.outputLength = outputLength
        withUnsafeMutableBytes(of: &midstate) { state in
            cblake2b_keyed_midstate(state.baseAddress!.assumingMemoryBound(to: UInt64.self),
                                    key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count, outputLength)
        }
    }

    deinit {
        withUnsafeMutableBytes(of: &midstate) { zeroize($0) }
    }

    /// Writes BLAKE2b(key, message) to `output` (`outputLength` bytes). Precondition: message 1...128 bytes.
    public func hash(_ message: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        precondition((1...Self.maxMessageLength).contains(message.count), "ShortKeyedHash message must be 1...128 bytes")
        precondition(output.count >= outputLength, "ShortKeyedHash output buffer too small")
        withUnsafeBytes(of: &midstate) { state in
            cblake2b_finish_short(state.baseAddress!.assumingMemoryBound(to: UInt64.self),
                                  message.baseAddress!.assumingMemoryBound(to: UInt8.self), message.count,
                                  output.baseAddress!.assumingMemoryBound(to: UInt8.self), outputLength)
        }
    }
}
