import XCTest
@testable import Sodium

/// RFC test vectors for the primitives age needs: X25519 (RFC 7748), HKDF-SHA256 (RFC 5869),
/// ChaCha20-Poly1305 IETF (RFC 8439).
final class AgePrimitiveTests: XCTestCase {
    func testX25519RFC7748Section5_2() throws {
        let scalar = SecretBytes(copying: fromHex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"))
        let u = fromHex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
        let out = try X25519.sharedSecret(secret: scalar, peer: u)
        XCTAssertEqual(out.withUnsafeBytes { hex(Array($0)) },
                       "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
    }

    func testX25519RFC7748Section6_1DiffieHellman() throws {
        let alice = SecretBytes(copying: fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        let bob = SecretBytes(copying: fromHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
        let alicePublic = try X25519.publicKey(secret: alice)
        let bobPublic = try X25519.publicKey(secret: bob)
        XCTAssertEqual(hex(alicePublic), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        XCTAssertEqual(hex(bobPublic), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
        XCTAssertEqual(try X25519.sharedSecret(secret: alice, peer: bobPublic).withUnsafeBytes { hex(Array($0)) }, shared)
        XCTAssertEqual(try X25519.sharedSecret(secret: bob, peer: alicePublic).withUnsafeBytes { hex(Array($0)) }, shared)
    }

    func testX25519RefusesALowOrderPoint() {
        let scalar = SecretBytes(randomCount: 32)
        XCTAssertThrowsError(try X25519.sharedSecret(secret: scalar, peer: [UInt8](repeating: 0, count: 32)))
        XCTAssertThrowsError(try X25519.sharedSecret(secret: scalar, peer: [1] + [UInt8](repeating: 0, count: 31)))
    }

    func testHKDFRFC5869Case1() {
        let okm = HKDFSHA256.derive(ikm: SecretBytes(copying: [UInt8](repeating: 0x0b, count: 22)),
                                    salt: fromHex("000102030405060708090a0b0c"),
                                    info: fromHex("f0f1f2f3f4f5f6f7f8f9"), length: 42)
        XCTAssertEqual(okm.withUnsafeBytes { hex(Array($0)) },
                       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    }

    func testHKDFRFC5869Case3EmptySaltAndInfo() {
        let okm = HKDFSHA256.derive(ikm: SecretBytes(copying: [UInt8](repeating: 0x0b, count: 22)),
                                    salt: [], info: [], length: 42)
        XCTAssertEqual(okm.withUnsafeBytes { hex(Array($0)) },
                       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    }

    func testHMACRFC4231Case2() {
        let mac = HMACSHA256.mac(key: SecretBytes(copying: Array("Jefe".utf8)),
                                 message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testChaCha20Poly1305RFC8439Section2_8_2() throws {
        let plaintext = Array(("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
                               + "the future, sunscreen would be it.").utf8)
        let key = SecretBytes(copying: fromHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"))
        let nonce = fromHex("070000004041424344454647")
        let aad = fromHex("50515253c0c1c2c3c4c5c6c7")
        let sealed = ChaCha20Poly1305.seal(plaintext, associatedData: aad, nonce: nonce, key: key)
        XCTAssertEqual(hex(sealed),
                       "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
                       + "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7"
                       + "bc3ff4def08e4b7a9de576d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691")
        let opened = try ChaCha20Poly1305.open(sealed, associatedData: aad, nonce: nonce, key: key)
        XCTAssertEqual(opened.withUnsafeBytes { Array($0) }, plaintext)
        var tampered = sealed
        tampered[0] ^= 1
        XCTAssertThrowsError(try ChaCha20Poly1305.open(tampered, associatedData: aad, nonce: nonce, key: key))
    }
}
