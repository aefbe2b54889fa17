import XCTest
@testable import Age
import Sodium

/// Headers from the age test vectors (C2SP/CCTV, as in FiloSottile/age testdata/testkit: x25519,
/// stanza_base64_padding, x25519_lowercase, hmac_not_canonical), with their identities and file key
/// ("YELLOW SUBMARINE"). The vectors' binary payloads are rebuilt here from the file key (our STREAM is checked by
/// the round trips and by Debian's age in AgeInteropTests); the headers — X25519 unwrap and MAC — are theirs.
final class CCTVVectorTests: XCTestCase {
    static let identity = "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6"
    static let fileKey = fromHex("59454c4c4f57205355424d4152494e45")

    /// The header followed by a payload of "age" sealed under the vectors' file key.
    func file(_ header: String) -> [UInt8] {
        let nonce = [UInt8](repeating: 0x11, count: 16)
        let key = AgePayload.key(fileKey: SecretBytes(copying: Self.fileKey), nonce: nonce)
        return Array(header.utf8) + nonce
            + ChaCha20Poly1305.seal(Array("age".utf8), nonce: AgePayload.chunkNonce(0, last: true), key: key)
    }

    func open(_ header: String, identity: String = identity) throws -> [UInt8] {
        try AgeDecryptor.open(file(header), identities: [AgeIdentity(parsing: identity)]).withUnsafeBytes { Array($0) }
    }

    func testX25519Success() throws {
        let plaintext = try open("""
            age-encryption.org/v1
            -> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc
            EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U
            --- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0

            """)
        XCTAssertEqual(SHA256Hex.of(plaintext), "013f54400c82da08037759ada907a8b864e97de81c088a182062c4b5622fd2ab")
    }

    func testStanzaBase64PaddingIsAHeaderFailure() {
        XCTAssertThrowsError(try open("""
            age-encryption.org/v1
            -> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc
            EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U
            -> stanza
            QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB
            QUE=
            --- OtG7IuNHaf2SHZuowmxg/fhbhtz0/DI5g5OGd7WH7S0

            """)) { XCTAssertEqual($0 as? AgeError, .nonCanonicalBase64(field: "the body of stanza 2")) }
    }

    func testLowercaseStanzaTypeIsNoMatch() {
        XCTAssertThrowsError(try open("""
            age-encryption.org/v1
            -> x25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc
            EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U
            --- SwXKO3dXLh9l5QiSgMWgPhCkwstT8oB4jLDv7aBgC+c

            """)) { XCTAssertEqual($0 as? AgeError, .noMatchingIdentity(stanzaTypes: ["x25519"])) }
    }

    func testNonCanonicalMACIsAHeaderFailure() {
        XCTAssertThrowsError(try open("""
            age-encryption.org/v1
            -> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc
            hjabGXwSLQ9c3S6Lw2i+S2Tu2fiwQHHslbBN6B41FLE
            --- WyJp9F/9FOZh7gJdheq2WIJcwHgYc8NIVh3ddwhrcNh

            """, identity: "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0")) {
            XCTAssertEqual($0 as? AgeError, .nonCanonicalBase64(field: "the header MAC"))
        }
    }
}

func fromHex(_ text: String) -> [UInt8] {
    var out = [UInt8]()
    var chars = Array(text.utf8)[...]
    while chars.count >= 2 {
        out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
        chars = chars.dropFirst(2)
    }
    return out
}

enum SHA256Hex {
    static func of(_ bytes: [UInt8]) -> String {
        SHA256Sodium.hash(bytes).map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
    }
}
