import CBLAKE2b

/// Keyed BLAKE2b (RFC 7693) for many short messages under one key: the padded key block is compressed once,
/// then each message of 1...128 bytes costs a single compression instead of two. Output is byte for byte
/// that of `KeyedHash.hash` (`crypto_generichash`) with the same key and length; tests check it.
///
/// Derives the per-field salts of every record (one key per record, a dozen fields). The midstate is as
/// secret as the key: it is zeroed when this object goes away.
// `@unchecked Sendable`: immutable after init (the midstate is only read, then zeroed in deinit).
public final class ShortKeyedHash: @unchecked Sendable {
    public static let maxMessageLength = 128

    /// Eight words, outside the object: threads hashing at once only read them through the pointer (an inout
    /// `withUnsafeBytes(of: &storedProperty)` is a modifying access, which TSan reports as a race between them).
    private let midstate = UnsafeMutablePointer<UInt64>.allocate(capacity: 8)
    public let outputLength: Int

    /// Preconditions: key 16...64 bytes, output length 16...64 (as `KeyedHash`).
    public init(key: UnsafeRawBufferPointer, outputLength: Int) {
        precondition((16...64).contains(key.count), "ShortKeyedHash key must be 16...64 bytes")
        precondition((16...64).contains(outputLength), "ShortKeyedHash length must be 16...64")
        self.outputLength = outputLength
        midstate.initialize(repeating: 0, count: 8)
        cblake2b_keyed_midstate(midstate, key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count,
                                outputLength)
    }

    deinit {
        zeroize(UnsafeMutableRawBufferPointer(start: midstate, count: 8 * MemoryLayout<UInt64>.size))
        midstate.deallocate()
    }

    /// Hashes `count` messages of `messageLength` (1...128) bytes each, packed one after another in `messages`,
    /// into `outputs` (`count × outputLength` bytes, in order). Four at a time (eight with AVX-512 and messages
    /// of at most 24 bytes): with AVX2, four hashes cost little more than one.
    public func hash(packed messages: UnsafeRawBufferPointer, messageLength: Int, count: Int,
                     into outputs: UnsafeMutableRawBufferPointer) {
        Self.hash(midstate: midstate, outputLength: outputLength, packed: messages, messageLength: messageLength,
                  count: count, into: outputs)
    }

    /// The same under `key` (16...64 bytes), for a key used once: its midstate lives on the stack, zeroed after
    /// use, and nothing is allocated.
    public static func hash(key: UnsafeRawBufferPointer, outputLength: Int, packed messages: UnsafeRawBufferPointer,
                            messageLength: Int, count: Int, into outputs: UnsafeMutableRawBufferPointer) {
        precondition((16...64).contains(key.count), "ShortKeyedHash key must be 16...64 bytes")
        precondition((16...64).contains(outputLength), "ShortKeyedHash length must be 16...64")
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 8) { midstate in
            cblake2b_keyed_midstate(midstate.baseAddress!, key.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    key.count, outputLength)
            hash(midstate: midstate.baseAddress!, outputLength: outputLength, packed: messages,
                 messageLength: messageLength, count: count, into: outputs)
            zeroize(UnsafeMutableRawBufferPointer(midstate))
        }
    }

    private static func hash(midstate: UnsafePointer<UInt64>, outputLength: Int, packed messages: UnsafeRawBufferPointer,
                             messageLength: Int, count: Int, into outputs: UnsafeMutableRawBufferPointer) {
        precondition((1...maxMessageLength).contains(messageLength),
                     "ShortKeyedHash message must be 1...128 bytes")
        precondition(messages.count >= count * messageLength && outputs.count >= count * outputLength,
                     "ShortKeyedHash buffers too small")
        guard count > 0 else { return }
        let input = messages.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let output = outputs.baseAddress!.assumingMemoryBound(to: UInt8.self)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { spare in
            withUnsafeTemporaryAllocation(of: UnsafePointer<UInt8>?.self, capacity: 8) { ins in
                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { outs in
                    var start = 0
                    while start < count {
                        // Eight lanes while more than four are left (one AVX-512 call for short messages).
                        let lanes = count - start > 4 ? 8 : 4
                        // A short last group repeats its last message and writes the unused lanes to `spare`.
                        for lane in 0..<lanes {
                            ins[lane] = UnsafePointer(input + min(start + lane, count - 1) * messageLength)
                            outs[lane] = start + lane < count
                                ? output + (start + lane) * outputLength : spare.baseAddress!
                        }
                        if lanes == 8 {
                            cblake2b_finish_short_x8(midstate, ins.baseAddress!, messageLength, outs.baseAddress!,
                                                     outputLength)
                        } else {
                            cblake2b_finish_short_x4(midstate, ins.baseAddress!, messageLength, outs.baseAddress!,
                                                     outputLength)
                        }
                        start += lanes
                    }
                }
            }
            zeroize(UnsafeMutableRawBufferPointer(spare))
        }
    }

    /// True if four hashes run at once in AVX2 or AVX-512VL lanes (else one after another).
    public static var usesAVX2: Bool { cblake2b_uses_avx2() != 0 }

    /// True if the four lanes use AVX-512VL (one-instruction rotations, no spills).
    public static var usesAVX512: Bool { cblake2b_uses_avx512() != 0 }

    /// Uses at most the AVX2 code (`true`, where the CPU has it) or the CPU's choice (`false`), so tests can run
    /// the AVX2 code on a CPU that would choose AVX-512VL.
    public static func limitToAVX2(_ limit: Bool) {
        cblake2b_limit_kernel(limit ? 1 : 2)
    }

    /// Forces the one-at-a-time code (`true`) or the CPU's choice (`false`), so tests can compare the two.
    public static func forcePortable(_ portable: Bool) {
        cblake2b_force_portable(portable ? 1 : 0)
    }

    /// Writes BLAKE2b(key, message) to `output` (`outputLength` bytes). Precondition: message 1...128 bytes.
    public func hash(_ message: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        precondition((1...Self.maxMessageLength).contains(message.count),
                     "ShortKeyedHash message must be 1...128 bytes")
        precondition(output.count >= outputLength, "ShortKeyedHash output buffer too small")
        cblake2b_finish_short(midstate, message.baseAddress!.assumingMemoryBound(to: UInt8.self), message.count,
                              output.baseAddress!.assumingMemoryBound(to: UInt8.self), outputLength)
    }
}
