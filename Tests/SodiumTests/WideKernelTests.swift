import XCTest
@testable import Sodium

private func hex(_ text: String) -> [UInt8] {
    var bytes = [UInt8](), chars = Array(text.utf8)
    while chars.count >= 2 {
        bytes.append(UInt8(String(decoding: chars[0..<2], as: UTF8.self), radix: 16)!)
        chars.removeFirst(2)
    }
    return bytes
}

/// XChaCha20-Poly1305 composed from CChaCha20's wide ChaCha20 and libsodium's HChaCha20 and Poly1305 must be
/// libsodium's own AEAD byte for byte, with every kernel (2 AVX-512, 1 AVX2, 0 libsodium itself).
final class ComposedAEADTests: XCTestCase {
    override func tearDown() { XChaCha20Poly1305.limitKernel(2) }

    /// The kernels this CPU can run, best first (always ends with 0, libsodium's own code).
    private var kernels: [Int] {
        XChaCha20Poly1305.limitKernel(2)
        return Array((0...XChaCha20Poly1305.kernel).reversed())
    }

    // draft-irtf-cfrg-xchacha-03, Appendix A.3.1.
    private let draftKey = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    private let draftNonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
    private let draftAD = hex("50515253c0c1c2c3c4c5c6c7")
    private let sunscreen = Array(("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
                                   + "the future, sunscreen would be it.").utf8)

    func testDraftVectorWithEveryKernel() throws {
        let expected = hex("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39"
                           + "ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3ff"
                           + "f921f9664c97637da9768812f615c68b13b52e" + "c0875924c1c7987947deafd8780acf49")
        for kernel in kernels {
            XChaCha20Poly1305.limitKernel(kernel)
            XCTAssertEqual(XChaCha20Poly1305.kernel, kernel)
            let key = SecretBytes(copying: draftKey)
            XCTAssertEqual(XChaCha20Poly1305.seal(sunscreen, associatedData: draftAD, nonce: draftNonce, key: key),
                           expected, "kernel \(kernel)")
            let opened = try XChaCha20Poly1305.open(expected, associatedData: draftAD, nonce: draftNonce, key: key)
            XCTAssertEqual(opened.withUnsafeBytes { Array($0) }, sunscreen, "kernel \(kernel)")
        }
    }

    /// RFC 8439 §2.8.2: its ciphertext is the plaintext XOR ChaCha20's keystream from block 1.
    func testChaCha20KeystreamMatchesRFC8439() {
        let ciphertext = hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
                             + "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7"
                             + "bc3ff4def08e4b7a9de576d26586cec64b6116")
        for kernel in kernels where kernel > 0 {
            XChaCha20Poly1305.limitKernel(kernel)
            XCTAssertEqual(ComposedXChaCha20Poly1305.chacha20XOR(sunscreen, key: draftKey,
                                                                  nonce: hex("070000004041424344454647"), counter: 1),
                           ciphertext, "kernel \(kernel)")
        }
    }

    /// Lengths around every block and kernel boundary (64, 448, 512, 960, 1024 ...), random longer ones, and
    /// associated data of every padding: each kernel seals to libsodium's bytes and opens libsodium's output.
    func testEveryKernelAgreesWithLibsodium() throws {
        let lengths = Array(0...1100) + [1300, 1983, 1984, 1985, 2047, 2048, 2049, 4095, 4096, 4097]
            + (0..<20).map { _ in Int.random(in: 0...20_000) }
        let key = SecretBytes(randomCount: XChaCha20Poly1305.keyByteCount)
        for length in lengths {
            let message = SecureRandom.bytes(length)
            let ad = SecureRandom.bytes([0, 1, 15, 16, 17, 60][length % 6])
            let nonce = SecureRandom.bytes(XChaCha20Poly1305.nonceByteCount)
            XChaCha20Poly1305.limitKernel(0)
            let reference = XChaCha20Poly1305.seal(message, associatedData: ad, nonce: nonce, key: key)
            for kernel in kernels where kernel > 0 {
                XChaCha20Poly1305.limitKernel(kernel)
                XCTAssertEqual(XChaCha20Poly1305.seal(message, associatedData: ad, nonce: nonce, key: key), reference,
                               "kernel \(kernel), length \(length)")
                let opened = try XChaCha20Poly1305.open(reference, associatedData: ad, nonce: nonce, key: key)
                XCTAssertEqual(opened.withUnsafeBytes { Array($0) }, message, "kernel \(kernel), length \(length)")
            }
        }
    }

    /// Every flipped byte of ciphertext or tag, and a changed associated data, nonce or key, fails to open with
    /// each kernel, and the caller's output buffer is left zeroed (no unauthenticated plaintext).
    func testTamperingFailsAndLeavesNoPlaintext() {
        let key = SecretBytes(randomCount: XChaCha20Poly1305.keyByteCount)
        let nonce = SecureRandom.bytes(XChaCha20Poly1305.nonceByteCount)
        let message = SecureRandom.bytes(1300), ad = SecureRandom.bytes(60)
        let sealed = XChaCha20Poly1305.seal(message, associatedData: ad, nonce: nonce, key: key)
        for kernel in kernels {
            XChaCha20Poly1305.limitKernel(kernel)
            for index in stride(from: 0, to: sealed.count, by: 7) + [sealed.count - 1] {
                var tampered = sealed
                tampered[index] ^= 0x01
                var output = [UInt8](repeating: 0xee, count: message.count)
                XCTAssertThrowsError(try open(tampered, ad: ad, nonce: nonce, key: key, into: &output),
                                     "kernel \(kernel), byte \(index)")
                if kernel > 0 { XCTAssertTrue(output.allSatisfy { $0 == 0 }, "kernel \(kernel), byte \(index)") }
            }
            var output = [UInt8](repeating: 0, count: message.count)
            XCTAssertThrowsError(try open(sealed, ad: ad + [0], nonce: nonce, key: key, into: &output))
            var otherNonce = nonce
            otherNonce[23] ^= 0x80   // a byte of the IETF nonce part, not of HChaCha20's input
            XCTAssertThrowsError(try open(sealed, ad: ad, nonce: otherNonce, key: key, into: &output))
            otherNonce = nonce
            otherNonce[0] ^= 0x01    // a byte of HChaCha20's input
            XCTAssertThrowsError(try open(sealed, ad: ad, nonce: otherNonce, key: key, into: &output))
            XCTAssertThrowsError(try open(sealed, ad: ad, nonce: nonce,
                                          key: SecretBytes(randomCount: XChaCha20Poly1305.keyByteCount), into: &output))
            XCTAssertNoThrow(try open(sealed, ad: ad, nonce: nonce, key: key, into: &output))
            XCTAssertEqual(output, message)
        }
    }

    /// Sealing in place (output over the plaintext) gives the same bytes with every kernel.
    func testSealInPlace() {
        let key = SecretBytes(randomCount: XChaCha20Poly1305.keyByteCount)
        let nonce = SecureRandom.bytes(XChaCha20Poly1305.nonceByteCount)
        let message = SecureRandom.bytes(777)
        XChaCha20Poly1305.limitKernel(0)
        let reference = XChaCha20Poly1305.seal(message, associatedData: [1, 2, 3], nonce: nonce, key: key)
        for kernel in kernels where kernel > 0 {
            XChaCha20Poly1305.limitKernel(kernel)
            var buffer = message + [UInt8](repeating: 0, count: XChaCha20Poly1305.tagByteCount)
            buffer.withUnsafeMutableBytes { all in
                let plaintext = UnsafeRawBufferPointer(rebasing: all[0..<message.count])
                [UInt8]([1, 2, 3]).withUnsafeBytes { ad in
                    nonce.withUnsafeBytes { n in
                        XChaCha20Poly1305.seal(plaintext, associatedData: ad, nonce: n, key: key, into: all)
                    }
                }
            }
            XCTAssertEqual(buffer, reference, "kernel \(kernel)")
        }
    }

    func testPoly1305StateKeepsLibsodiumsAlignment() {
        XCTAssertGreaterThanOrEqual(ComposedXChaCha20Poly1305.poly1305StateAlignment, 16)
    }

    private func open(_ sealed: [UInt8], ad: [UInt8], nonce: [UInt8], key: SecretBytes,
                      into output: inout [UInt8]) throws {
        try sealed.withUnsafeBytes { c in
            try ad.withUnsafeBytes { a in
                try nonce.withUnsafeBytes { n in
                    try output.withUnsafeMutableBytes { o in
                        try XChaCha20Poly1305.open(c, associatedData: a, nonce: n, key: key, into: o)
                    }
                }
            }
        }
    }
}

/// Base64url with each vector kernel (2 AVX-512 VBMI, 1 AVX2, 0 the table code) against libsodium, at every
/// length across several 48-byte steps, so that the masked last step is tried at each remainder.
final class Base64KernelTests: XCTestCase {
    override func tearDown() { Base64.limitKernel(2) }

    func testEveryKernelMatchesLibsodium() {
        Base64.limitKernel(2)
        let best = Base64.kernel
        for kernel in (0...best).reversed() {
            Base64.limitKernel(kernel)
            XCTAssertEqual(Base64.kernel, kernel)
            for length in 0..<300 {
                for input in [SecureRandom.bytes(length), [UInt8](repeating: 0xff, count: length)] {
                    var fast = Array("prefix".utf8), reference = Array("prefix".utf8)
                    input.withUnsafeBytes { Base64.encodeURL($0, into: &fast) }
                    input.withUnsafeBytes { Base64.encodeURLWithSodium($0, into: &reference) }
                    XCTAssertEqual(fast, reference, "kernel \(kernel), length \(length)")
                }
            }
        }
    }

    /// The masked store writes exactly the encoding: the byte after it is untouched.
    func testWritesNothingPastTheEncoding() {
        for length in [1, 2, 3, 47, 48, 49, 95, 96, 97] {
            let input = SecureRandom.bytes(length)
            let count = Base64.encodedURLCount(length)
            var out = [UInt8](repeating: 0xaa, count: count + 64)
            let written = input.withUnsafeBytes { i in out.withUnsafeMutableBufferPointer { Base64.encodeURL(i, to: $0.baseAddress!) } }
            XCTAssertEqual(written, count)
            XCTAssertTrue(out[count...].allSatisfy { $0 == 0xaa }, "length \(length)")
        }
    }
}
