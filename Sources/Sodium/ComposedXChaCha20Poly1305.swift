import CChaCha20
import CSodium

/// XChaCha20-Poly1305-IETF put together from its parts, byte for byte what libsodium's
/// `crypto_aead_xchacha20poly1305_ietf_*` produce: the subkey from HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.3,
/// libsodium), then the AEAD of RFC 8439 §2.8 with ChaCha20 from CChaCha20 (16 or 8 blocks at a time) and Poly1305
/// from libsodium. libsodium 1.0.18's ChaCha20 takes at most 8 blocks at once and a message's last < 512 bytes a
/// block at a time; an entry's ~1.3 KB payload opens in ~1.0 µs here against ~1.5 µs (docs/PERFORMANCE.md).
/// Used when CChaCha20 has a kernel for the CPU; otherwise `seal` and `open` decline and `XChaCha20Poly1305` uses
/// libsodium's AEAD.
enum ComposedXChaCha20Poly1305 {
    /// Seals into `output` (`plaintext.count + 16` bytes: ciphertext, then tag); false (nothing usable written)
    /// when CChaCha20 declines, so the caller uses libsodium.
    static func seal(_ plaintext: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                     nonce: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer,
                     into output: UnsafeMutableRawBufferPointer) -> Bool {
        let length = plaintext.count
        return withAEADKeys(nonce: nonce, key: key) { subkey, chachaNonce, polyKey in
            guard cchacha20_aead_xor(nonNullBase(output), nonNullBase(plaintext), length, subkey, chachaNonce,
                                     polyKey) == 0 else { return false }
            let ciphertext = UnsafeRawBufferPointer(rebasing: output[0..<length])
            withTag(polyKey, associatedData: associatedData, ciphertext: ciphertext) { tag in
                UnsafeMutableRawBufferPointer(rebasing: output[length...]).copyMemory(from: tag)
            }
            return true
        }
    }

    /// Opens `ciphertext || tag` into `output` (`ciphertext.count - 16` bytes, not overlapping it). nil when
    /// CChaCha20 declines (the caller uses libsodium); false when the tag does not match, with `output` zeroed.
    /// The tag is compared in constant time (`crypto_verify_16`).
    static func open(_ sealed: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                     nonce: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer,
                     into output: UnsafeMutableRawBufferPointer) -> Bool? {
        let length = sealed.count - XChaCha20Poly1305.tagByteCount
        let ciphertext = UnsafeRawBufferPointer(rebasing: sealed[0..<length])
        let expected = UnsafeRawBufferPointer(rebasing: sealed[length...])
        return withAEADKeys(nonce: nonce, key: key) { subkey, chachaNonce, polyKey -> Bool? in
            // Decrypting and deriving the Poly1305 key are one pass; the plaintext is wiped if the tag fails.
            guard cchacha20_aead_xor(nonNullBase(output), nonNullBase(ciphertext), length, subkey, chachaNonce,
                                     polyKey) == 0 else { return nil }
            let matches = withTag(polyKey, associatedData: associatedData, ciphertext: ciphertext) { tag in
                crypto_verify_16(nonNullBase(tag), nonNullBase(expected)) == 0
            }
            if !matches { zeroize(output) }
            return matches
        }
    }

    /// The HChaCha20 subkey, the IETF nonce (4 zero bytes, then the nonce's last 8) and room for the one-time
    /// Poly1305 key, on the stack and zeroed afterwards.
    private static func withAEADKeys<R>(nonce: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer,
                                        _ body: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafeMutablePointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 76) { scratch in
            let subkey = scratch.baseAddress!, chachaNonce = subkey + 32, polyKey = subkey + 44
            crypto_core_hchacha20(subkey, nonNullBase(nonce), nonNullBase(key), nil)
            chachaNonce.initialize(repeating: 0, count: 4)
            (chachaNonce + 4).initialize(from: nonNullBase(nonce) + 16, count: 8)
            defer { zeroize(UnsafeMutableRawBufferPointer(scratch)) }
            return body(subkey, chachaNonce, polyKey)
        }
    }

    /// RFC 8439 §2.8: Poly1305 under `polyKey` over AD, zeros to a multiple of 16, the ciphertext, zeros likewise,
    /// then both lengths as 64-bit little-endian integers.
    private static func withTag<R>(_ polyKey: UnsafePointer<UInt8>, associatedData: UnsafeRawBufferPointer,
                                   ciphertext: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(of: crypto_onetimeauth_poly1305_state.self, capacity: 1) { state in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { block in
                let state = state.baseAddress!, zeros = UnsafeRawBufferPointer(start: block.baseAddress!, count: 16)
                block.initialize(repeating: 0)
                crypto_onetimeauth_poly1305_init(state, polyKey)
                func absorb(_ bytes: UnsafeRawBufferPointer) {
                    crypto_onetimeauth_poly1305_update(state, nonNullBase(bytes), UInt64(bytes.count))
                    let pad = (16 - bytes.count % 16) % 16
                    crypto_onetimeauth_poly1305_update(state, nonNullBase(zeros), UInt64(pad))
                }
                absorb(associatedData)
                absorb(ciphertext)
                let lengths = UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(block)[16..<32])
                lengths.storeBytes(of: UInt64(associatedData.count).littleEndian, as: UInt64.self)
                lengths.storeBytes(of: UInt64(ciphertext.count).littleEndian, toByteOffset: 8, as: UInt64.self)
                crypto_onetimeauth_poly1305_update(state, nonNullBase(UnsafeRawBufferPointer(lengths)), 16)
                // The tag overwrites the zeros (no longer needed).
                crypto_onetimeauth_poly1305_final(state, block.baseAddress!)
                defer {
                    zeroize(UnsafeMutableRawBufferPointer(start: state, count: MemoryLayout<crypto_onetimeauth_poly1305_state>.size))
                    zeroize(UnsafeMutableRawBufferPointer(block))
                }
                return body(UnsafeRawBufferPointer(start: block.baseAddress!, count: 16))
            }
        }
    }

    /// ChaCha20 alone (RFC 8439 §2.4) through CChaCha20, for the tests' known answers; nil when it declines.
    static func chacha20XOR(_ input: [UInt8], key: [UInt8], nonce: [UInt8], counter: UInt32) -> [UInt8]? {
        precondition(key.count == 32 && nonce.count == 12, "ChaCha20 takes a 32-byte key and a 12-byte nonce")
        var output = [UInt8](repeating: 0, count: input.count)
        let rc = output.withUnsafeMutableBytes { o in
            input.withUnsafeBytes { i in
                cchacha20_xor(nonNullBase(o), nonNullBase(i), input.count, key, nonce, counter)
            }
        }
        return rc == 0 ? output : nil
    }

    /// The alignment the Poly1305 state gets (libsodium declares it 16-byte aligned).
    static var poly1305StateAlignment: Int { MemoryLayout<crypto_onetimeauth_poly1305_state>.alignment }
}
