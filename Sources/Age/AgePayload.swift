import Dispatch
import Foundation
import Sodium
import Synchronization

/// The payload's STREAM: 64 KiB plaintext chunks, ChaCha20-Poly1305 under the payload key, nonce =
/// 11-byte big-endian chunk counter || last-chunk flag.
enum AgePayload {
    static let chunkSize = 64 * 1024
    static let sealedChunkSize = chunkSize + ChaCha20Poly1305.tagByteCount
    static let nonceSize = 16

    /// The 32-byte payload key: HKDF-SHA256(ikm: file key, salt: payload nonce, info: "payload").
    static func key(fileKey: SecretBytes, nonce: [UInt8]) -> SecretBytes {
        HKDFSHA256.derive(ikm: fileKey, salt: nonce, info: Array("payload".utf8), length: 32)
    }

    static func chunkNonce(_ counter: Int, last: Bool) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: 12)
        var c = UInt64(counter)
        for i in stride(from: 10, through: 3, by: -1) {
            nonce[i] = UInt8(c & 0xff)
            c >>= 8
        }
        nonce[11] = last ? 1 : 0
        return nonce
    }

    /// Seals `plaintext` chunk by chunk, handing each sealed chunk to `write`.
    static func seal(_ plaintext: UnsafeRawBufferPointer, key: SecretBytes,
                     write: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var sealed = [UInt8](repeating: 0, count: sealedChunkSize)
        var start = 0, counter = 0
        repeat {
            let end = min(start + chunkSize, plaintext.count)
            let last = end == plaintext.count
            let chunk = UnsafeRawBufferPointer(rebasing: plaintext[start..<end])
            try sealed.withUnsafeMutableBytes { out in
                let target = UnsafeMutableRawBufferPointer(rebasing: out[0..<(chunk.count + 16)])
                chunkNonce(counter, last: last).withUnsafeBytes { n in
                    ChaCha20Poly1305.seal(chunk, associatedData: UnsafeRawBufferPointer(start: nil, count: 0),
                                          nonce: n, key: key, into: target)
                }
                try write(UnsafeRawBufferPointer(target))
            }
            start = end
            counter += 1
        } while start < plaintext.count
    }

    /// Opens the chunks in `sealed` (the bytes after the payload nonce) into secret bytes. Chunks are independent,
    /// so runs of them are opened on all cores; the error reported is that of the first failing chunk.
    static func open(_ sealed: UnsafeRawBufferPointer, key: SecretBytes) throws -> SecretBytes {
        let plaintext = SecretBytes(count: try plaintextSize(sealed))
        try plaintext.withUnsafeMutableBytes { try open(sealed, key: key, into: $0) }
        return plaintext
    }

    /// The plaintext size of a well-formed chunk sequence; throws for a truncated tail or an empty last chunk.
    static func plaintextSize(_ sealed: UnsafeRawBufferPointer) throws -> Int {
        guard sealed.count >= ChaCha20Poly1305.tagByteCount else { throw AgeError.payloadTruncated }
        let chunks = (sealed.count + sealedChunkSize - 1) / sealedChunkSize
        let tail = sealed.count - (chunks - 1) * sealedChunkSize
        guard tail >= ChaCha20Poly1305.tagByteCount else { throw AgeError.payloadTruncated }
        if chunks > 1 && tail == ChaCha20Poly1305.tagByteCount { throw AgeError.emptyLastChunk }
        return sealed.count - chunks * ChaCha20Poly1305.tagByteCount
    }

    /// Opens the chunks into `output` (exactly `plaintextSize` bytes), zeroing it on failure.
    static func open(_ sealed: UnsafeRawBufferPointer, key: SecretBytes,
                     into output: UnsafeMutableRawBufferPointer) throws {
        let chunks = (sealed.count + sealedChunkSize - 1) / sealedChunkSize
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, chunks / 16))
        let failures = FirstFailure()
        // Each worker writes a disjoint run of chunks; the buffers outlive concurrentPerform.
        nonisolated(unsafe) let base = output.baseAddress, input = sealed
        let count = output.count
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let target = UnsafeMutableRawBufferPointer(start: base, count: count)
            for index in stride(from: worker * chunks / workers, to: (worker + 1) * chunks / workers, by: 1) {
                do { try openChunk(input, index: index, chunks: chunks, key: key, into: target) } catch {
                    failures.record(index: index, error: error)
                    return
                }
            }
        }
        if let error = failures.first {
            zeroize(output)
            throw error
        }
    }

    /// Chunk `index` of `sealed` into its place in `out`.
    private static func openChunk(_ sealed: UnsafeRawBufferPointer, index: Int, chunks: Int, key: SecretBytes,
                                  into out: UnsafeMutableRawBufferPointer) throws {
        let start = index * sealedChunkSize
        let end = min(start + sealedChunkSize, sealed.count)
        let target = UnsafeMutableRawBufferPointer(rebasing: out[(index * chunkSize)...].prefix(end - start - 16))
        try openChunk(UnsafeRawBufferPointer(rebasing: sealed[start..<end]), index: index,
                      last: index == chunks - 1, key: key, into: target)
    }

    /// One chunk; a failure is classified: a final chunk that opens only as non-last means truncation, a
    /// non-final chunk that opens only as last means data was appended.
    private static func openChunk(_ chunk: UnsafeRawBufferPointer, index: Int, last: Bool, key: SecretBytes,
                                  into target: UnsafeMutableRawBufferPointer) throws {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        func attempt(_ asLast: Bool) -> Bool {
            chunkNonce(index, last: asLast).withUnsafeBytes { n in
                (try? ChaCha20Poly1305.open(chunk, associatedData: empty, nonce: n, key: key, into: target)) != nil
            }
        }
        if attempt(last) { return }
        let opensOtherwise = attempt(!last)
        zeroize(target)
        if opensOtherwise { throw last ? AgeError.payloadTruncated : AgeError.payloadExtended }
        throw AgeError.payloadAuthenticationFailed(chunk: index)
    }
}

/// The failure of the lowest-numbered chunk, across workers.
final class FirstFailure: Sendable {
    private let state = Mutex<(index: Int, error: Error)?>(nil)

    func record(index: Int, error: Error) {
        state.withLock { current in
            if current == nil || index < current!.index { current = (index, error) }
        }
    }

    var first: Error? { state.withLock { $0?.error } }
}
