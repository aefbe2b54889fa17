import LedgerBundle
import LedgerFormat
import MerkleLog
import Sodium

extension FuzzTargets {
    /// The C hash modules against libsodium: SHA-256 (CSHA256, with the CPU's SHA extensions when present) and
    /// BLAKE2b with a precomputed key block (CBLAKE2b), one-shot and split at a fuzzed point.
    static let hashes = FuzzTarget("hashes") { bytes in
        let input = Array(bytes)
        let reference = SHA256Sodium.hash(input)
        agree(Hash.sha256(input).bytes == reference, "CSHA256 and libsodium's SHA-256 differ")
        if let first = input.first {
            let split = Int(first) % (input.count + 1)
            var hasher = SHA256Hasher()
            hasher.update(Array(input[..<split]))
            hasher.update(Array(input[split...]))
            agree(hasher.finalize().bytes == reference, "SHA-256 split at \(split) differs")
        }
        // CBLAKE2b takes keys of 16...64 bytes and messages of 1...128: the first byte picks the key length.
        guard let first = input.first, input.count >= 2 + 64 else { return }
        let keyLength = 16 + Int(first) % 49
        let key = Array(input[1...keyLength])
        let message = Array(input[(keyLength + 1)...].prefix(128))
        var fast = [UInt8](repeating: 0, count: 32), sodium = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBytes { keyBytes in
            let keyed = ShortKeyedHash(key: keyBytes, outputLength: 32)
            message.withUnsafeBytes { m in fast.withUnsafeMutableBytes { keyed.hash(m, into: $0) } }
        }
        message.withUnsafeBytes { m in
            sodium.withUnsafeMutableBytes { KeyedHash.hash(m, key: SecretBytes(copying: key), into: $0) }
        }
        agree(fast == sodium, "CBLAKE2b and libsodium's keyed BLAKE2b differ")
    }

    /// Base64: the bundle verifier's decoder (`PublicBase64`) against libsodium's, both alphabets, and the AVX2
    /// encoder (CBase64) against libsodium's encoder.
    static let base64 = FuzzTarget("base64") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        agree(PublicBase64.decode(bytes, urlSafe: false) == Base64.decode(text), "standard base64 decoders differ")
        agree(PublicBase64.decode(bytes, urlSafe: true) == Base64.decodeURL(text), "base64url decoders differ")
        var fast = [UInt8](), reference = [UInt8]()
        Base64.encodeURL(bytes, into: &fast)
        Base64.encodeURLWithSodium(bytes, into: &reference)
        agree(fast == reference, "the vector base64url encoder (AVX-512 VBMI or AVX2) and libsodium's differ")
    }

    /// The vector scan for the end of a plain JSON string (CTextScan) against the Swift scan, from every start.
    static let plainString = FuzzTarget("plain-string") { bytes in
        for start in 0..<min(bytes.count, 4) {
            agree(FastJSON.plainStringEnd(bytes, at: start) == FastJSON.plainStringEndSWAR(bytes, at: start),
                  "the vector and SWAR plain-string scans differ from \(start)")
        }
    }

    /// XChaCha20-Poly1305 composed from CChaCha20's wide ChaCha20 against libsodium's own AEAD: the input is cut
    /// into key, nonce, associated data and message; both seal to the same bytes, each opens the other's output,
    /// and a flipped byte (picked by the input) fails to open in both.
    static let aead = FuzzTarget("aead") { bytes in
        let input = Array(bytes)
        guard input.count >= 58 else { return }
        let key = SecretBytes(copying: Array(input[0..<32]))
        let nonce = Array(input[32..<56])
        let adLength = Int(input[56]) % 80, rest = Array(input[57...])
        let ad = Array(rest.prefix(adLength)), message = Array(rest.dropFirst(adLength))
        let best = XChaCha20Poly1305.kernel
        defer { XChaCha20Poly1305.limitKernel(best) }
        XChaCha20Poly1305.limitKernel(0)
        let reference = XChaCha20Poly1305.seal(message, associatedData: ad, nonce: nonce, key: key)
        XChaCha20Poly1305.limitKernel(best)
        let composed = XChaCha20Poly1305.seal(message, associatedData: ad, nonce: nonce, key: key)
        agree(composed == reference, "the composed XChaCha20-Poly1305 and libsodium's seal differently")
        let opened = try? XChaCha20Poly1305.open(reference, associatedData: ad, nonce: nonce, key: key)
        agree(opened?.withUnsafeBytes { Array($0) } == message, "the composed AEAD does not open libsodium's output")
        var tampered = reference
        tampered[Int(input[57]) % tampered.count] ^= 0x20
        agree((try? XChaCha20Poly1305.open(tampered, associatedData: ad, nonce: nonce, key: key)) == nil,
              "the composed AEAD opened a tampered ciphertext")
        XChaCha20Poly1305.limitKernel(0)
        agree((try? XChaCha20Poly1305.open(tampered, associatedData: ad, nonce: nonce, key: key)) == nil,
              "libsodium opened a tampered ciphertext")
        XChaCha20Poly1305.limitKernel(best)
    }
}
