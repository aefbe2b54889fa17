import XCTest
@testable import Age
import Sodium

/// The age format: round trips at chunk boundaries, every tamper refused with its typed error, key encodings.
final class AgeTests: XCTestCase {
    let identity = try! AgeIdentity.generate()

    func plaintext(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    func testRoundTripAtChunkBoundaries() throws {
        for size in [0, 1, 65535, 65536, 65537, 3 * 65536] {
            let message = plaintext(size)
            let sealed = try AgeEncryptor.seal(message, to: [identity.recipient])
            let opened = try AgeDecryptor.open(sealed, identities: [identity])
            XCTAssertEqual(opened.withUnsafeBytes { Array($0) }, message, "size \(size)")
            let chunks = max(1, (size + 65535) / 65536)
            let header = try sealed.withUnsafeBytes { try AgeHeader.parse($0) }
            XCTAssertEqual(sealed.count - header.payloadOffset, 16 + size + 16 * chunks, "size \(size)")
        }
    }

    /// Over 16 chunks the payload is opened on several workers: the result and the reported chunk stay the same.
    func testLargePayloadOpensInParallelAndReportsTheFirstBadChunk() throws {
        let message = plaintext(40 * 65536 + 123)
        var sealed = try AgeEncryptor.seal(message, to: [identity.recipient])
        XCTAssertEqual(try AgeDecryptor.open(sealed, identities: [identity]).withUnsafeBytes { Array($0) }, message)
        let payload = sealed.count - (40 * 65552 + 123 + 16)
        sealed[payload + 35 * 65552 + 10] ^= 1
        sealed[payload + 12 * 65552 + 10] ^= 1
        expect(sealed, .payloadAuthenticationFailed(chunk: 12))
    }

    func testAnotherIdentityDoesNotOpen() throws {
        let sealed = try AgeEncryptor.seal(plaintext(10), to: [identity.recipient])
        XCTAssertThrowsError(try AgeDecryptor.open(sealed, identities: [try AgeIdentity.generate()])) {
            XCTAssertEqual($0 as? AgeError, .noMatchingIdentity(stanzaTypes: ["X25519"]))
        }
    }

    func testMultipleRecipients() throws {
        let other = try AgeIdentity.generate()
        let sealed = try AgeEncryptor.seal(plaintext(100), to: [other.recipient, identity.recipient])
        XCTAssertEqual(try AgeDecryptor.open(sealed, identities: [identity]).count, 100)
    }

    func expect(_ bytes: [UInt8], _ error: AgeError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try AgeDecryptor.open(bytes, identities: [identity]), file: file, line: line) {
            XCTAssertEqual($0 as? AgeError, error, file: file, line: line)
        }
    }

    func testTamperedHeaderByteIsAMACMismatch() throws {
        var sealed = try AgeEncryptor.seal(plaintext(1000), to: [identity.recipient])
        let text = String(decoding: sealed.prefix(200), as: UTF8.self)
        // Add a grease stanza before the MAC line: parses, but the MAC no longer matches.
        let macLine = text.range(of: "\n---")!.lowerBound.utf16Offset(in: text) + 1
        sealed.insert(contentsOf: Array("-> grease x\n\n".utf8), at: macLine)
        expect(sealed, .headerMACMismatch)
    }

    func testTamperedMACIsRefused() throws {
        var sealed = try AgeEncryptor.seal(plaintext(1000), to: [identity.recipient])
        let header = try sealed.withUnsafeBytes { try AgeHeader.parse($0) }
        let macChar = header.payloadOffset - 3  // a full 6-bit character of the MAC (not the last, partial one)
        sealed[macChar] = sealed[macChar] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        expect(sealed, .headerMACMismatch)
    }

    func testTamperedPayloadByteIsRefused() throws {
        var sealed = try AgeEncryptor.seal(plaintext(1000), to: [identity.recipient])
        sealed[sealed.count - 100] ^= 0x40
        expect(sealed, .payloadAuthenticationFailed(chunk: 0))
    }

    func testTruncatedLastChunkIsRefused() throws {
        let sealed = try AgeEncryptor.seal(plaintext(2 * 65536 + 10), to: [identity.recipient])
        expect(Array(sealed.dropLast(1)), .payloadAuthenticationFailed(chunk: 2))
        expect(Array(sealed.dropLast(26)), .payloadTruncated)  // whole last chunk gone: chunk 1 is not last
        expect(Array(sealed.dropLast(20)), .payloadTruncated)   // under a tag left
    }

    func testAppendedChunkIsRefused() throws {
        let sealed = try AgeEncryptor.seal(plaintext(65536), to: [identity.recipient])
        expect(sealed + [UInt8](repeating: 7, count: 40), .payloadExtended)
        expect(sealed + [1], .payloadTruncated)
    }

    func testEmptyLastChunkAfterDataIsRefused() throws {
        // Hand-build a payload of one full non-last chunk and an empty last chunk.
        let fileKey = SecretBytes(randomCount: 16)
        let stanza = try AgeX25519.wrap(fileKey, to: identity.recipient)
        var file = Array(AgeEncryptor.headerWithMAC([stanza], fileKey: fileKey).utf8)
        let nonce = SecureRandom.bytes(16)
        let key = AgePayload.key(fileKey: fileKey, nonce: nonce)
        file += nonce
        file += ChaCha20Poly1305.seal(plaintext(65536), nonce: AgePayload.chunkNonce(0, last: false), key: key)
        file += ChaCha20Poly1305.seal([], nonce: AgePayload.chunkNonce(1, last: true), key: key)
        expect(file, .emptyLastChunk)
    }

    func testMalformedHeadersAreRefused() throws {
        let sealed = try AgeEncryptor.seal(plaintext(10), to: [identity.recipient])
        let text = String(decoding: sealed, as: UTF8.self)
        expect(Array("age-encryption.org/v2\n".utf8) + sealed.dropFirst(22), .unsupportedVersion)
        expect(Array("not age".utf8), .unsupportedVersion)
        expect(Array("age-encryption.org/v1\n-> x\n\n--- AAAA\n".utf8), .nonCanonicalBase64(field: "the header MAC"))
        expect(Array("age-encryption.org/v1\n--- AAAA\n".utf8), .malformedHeader("no recipient stanza"))
        expect(Array(text.replacingOccurrences(of: "\n-> X25519 ", with: "\n->  X25519 ").utf8),
               .malformedHeader("stanza 1 has an empty or non-printable argument"))
        expect(Array(text.replacingOccurrences(of: "\n-> X25519 ", with: "\n-> X25519 a ").utf8),
               .malformedHeader("X25519 stanza 1 needs exactly one argument"))
        expect(Array(sealed.prefix(40)), .malformedHeader("the header ends before its MAC"))
    }

    func testNonCanonicalBase64IsRefused() {
        XCTAssertNil(AgeBase64.decode("AB==".utf8))
        XCTAssertNil(AgeBase64.decode("AB".utf8))   // 'B' leaves nonzero unused bits
        XCTAssertNotNil(AgeBase64.decode("AA".utf8))
        XCTAssertNil(AgeBase64.decode("A".utf8))
        XCTAssertNil(AgeBase64.decode("AA\r".utf8))
        XCTAssertEqual(AgeBase64.encode(Array("foob".utf8)), "Zm9vYg")
        XCTAssertEqual(AgeBase64.decode("Zm9vYmFy".utf8), Array("foobar".utf8))
    }

    func testUnknownStanzaAloneIsNoMatch() throws {
        let fileKey = SecretBytes(randomCount: 16)
        let header = AgeEncryptor.headerWithMAC([AgeStanza(type: "scrypt", arguments: ["AAAA", "10"], body: [1, 2])],
                                                fileKey: fileKey)
        expect(Array(header.utf8) + [UInt8](repeating: 0, count: 32), .noMatchingIdentity(stanzaTypes: ["scrypt"]))
    }

    func testKeyEncodings() throws {
        let text = identity.encoded()
        XCTAssertTrue(text.hasPrefix("AGE-SECRET-KEY-1"))
        XCTAssertEqual(text.count, 74)
        let parsed = try AgeIdentity(parsing: text)
        XCTAssertEqual(parsed.recipient, identity.recipient)
        XCTAssertTrue(identity.recipient.description.hasPrefix("age1"))
        XCTAssertEqual(identity.recipient.description.count, 62)
        XCTAssertEqual(try AgeRecipient(parsing: identity.recipient.description), identity.recipient)
        XCTAssertThrowsError(try AgeIdentity(parsing: text.lowercased()))
        XCTAssertThrowsError(try AgeRecipient(parsing: identity.recipient.description.uppercased()))
        var broken = Array(identity.recipient.description.utf8)
        broken[10] = broken[10] == UInt8(ascii: "q") ? UInt8(ascii: "p") : UInt8(ascii: "q")
        XCTAssertThrowsError(try AgeRecipient(parsing: String(decoding: broken, as: UTF8.self)))
        XCTAssertFalse(String(describing: identity).contains("AGE-SECRET"))
    }

    /// The identity of the C2SP/CCTV age test vectors (scalar 0x42 × 32); the recipient is what `age-keygen -y` prints.
    func testKnownKeyPair() throws {
        let id = try AgeIdentity(parsing: "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX")
        XCTAssertEqual(id.recipient.description, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj")
    }

    func testKeyFiles() throws {
        let file = AgeKeyFile.render(identity, created: "2026-01-01T00:00:00Z")
        XCTAssertEqual(try AgeKeyFile.identities(in: file).map(\.recipient), [identity.recipient])
        XCTAssertEqual(try AgeKeyFile.recipients(in: file), [identity.recipient])
        XCTAssertEqual(try AgeKeyFile.recipients(in: identity.recipient.description + "\n"), [identity.recipient])
        XCTAssertThrowsError(try AgeKeyFile.identities(in: "# nothing\n"))
        XCTAssertThrowsError(try AgeKeyFile.recipients(in: "garbage\n"))
    }
}
