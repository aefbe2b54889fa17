import Dispatch
import Synchronization
import XCTest
@testable import Sodium

final class SecretBytesTests: XCTestCase {
    func testDescriptionIsRedacted() {
        let secret = SecretBytes(copying: [0xde, 0xad, 0xbe, 0xef, 0x41, 0x42])
        XCTAssertEqual(secret.description, "SecretBytes(6 bytes, redacted)")
        XCTAssertEqual(String(describing: secret), "SecretBytes(6 bytes, redacted)")
        XCTAssertEqual(String(reflecting: secret), "SecretBytes(6 bytes, redacted)")
        XCTAssertEqual("\(secret)", "SecretBytes(6 bytes, redacted)")
    }

    func testZeroFilledRandomAndCopy() {
        let zeros = SecretBytes(count: 32)
        XCTAssertEqual(zeros.count, 32)
        zeros.withUnsafeBytes { XCTAssertTrue($0.allSatisfy { $0 == 0 }) }

        let random1 = SecretBytes(randomCount: 32), random2 = SecretBytes(randomCount: 32)
        XCTAssertFalse(random1.constantTimeEquals(random2))
        XCTAssertFalse(random1.constantTimeEquals(zeros))

        let bytes: [UInt8] = Array(0..<40)
        let a = SecretBytes(copying: bytes)
        let b = bytes.withUnsafeBytes { SecretBytes(copying: $0) }
        XCTAssertTrue(a.constantTimeEquals(b))
        a.withUnsafeBytes { XCTAssertEqual(Array($0), bytes) }
        b.withUnsafeMutableBytes { $0[39] ^= 1 }
        XCTAssertFalse(a.constantTimeEquals(b))
        XCTAssertFalse(a.constantTimeEquals(SecretBytes(copying: Array(bytes.prefix(39)))))

        let empty = SecretBytes(count: 0)
        XCTAssertEqual(empty.count, 0)
        XCTAssertTrue(empty.constantTimeEquals(SecretBytes(copying: [])))
    }

    func testConstantTimeHelpersAndZeroize() {
        XCTAssertTrue(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2]))
        XCTAssertTrue(constantTimeEquals([], []))
        var bytes: [UInt8] = [9, 9, 9, 9]
        zeroize(&bytes)
        XCTAssertEqual(bytes, [0, 0, 0, 0])
        var other: [UInt8] = [7, 7]
        other.withUnsafeMutableBytes { zeroize($0) }
        XCTAssertEqual(other, [0, 0])
    }

    /// A draw above the threshold is a ChaCha20 stream under a fresh system seed: two draws differ everywhere, and
    /// every byte value appears about as often as the others (a stream stuck on a fixed or zero seed would not).
    func testLargeSecureRandomDrawsExpandAFreshSeed() {
        let count = 300_000
        XCTAssertGreaterThan(count, Int(SecureRandom.expansionThreshold))
        let a = SecureRandom.bytes(count), b = SecureRandom.bytes(count)
        XCTAssertEqual(a.count, count)
        XCTAssertNotEqual(Array(a.prefix(32)), Array(b.prefix(32)))
        XCTAssertLessThan(zip(a, b).filter { $0 == $1 }.count, count / 128, "two draws share a stream")
        var histogram = [Int](repeating: 0, count: 256)
        for byte in a { histogram[Int(byte)] += 1 }
        let expected = count / 256  // ~1,172; a uniform byte's count stays within ±25% with overwhelming probability
        XCTAssertTrue(histogram.allSatisfy { abs($0 - expected) < expected / 4 }, "\(histogram.min()!)…\(histogram.max()!)")
    }

    func testSecureRandom() {
        XCTAssertEqual(SecureRandom.bytes(0), [])
        let a = SecureRandom.bytes(32), b = SecureRandom.bytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
        var buffer = [UInt8](repeating: 0, count: 64)
        buffer.withUnsafeMutableBytes { SecureRandom.fill($0) }
        XCTAssertFalse(buffer.allSatisfy { $0 == 0 })
    }

    func testInitializationIsIdempotentAcrossThreads() {
        DispatchQueue.concurrentPerform(iterations: 16) { _ in Sodium.ensureInitialized() }
        XCTAssertTrue(Sodium.versionString.hasPrefix("1."))
    }

    func testErrorDescription() {
        let error = SodiumError(operation: "aead.open", code: -1)
        XCTAssertEqual(error, SodiumError(operation: "aead.open", code: -1))
        XCTAssertTrue(error.description.contains("aead.open"))
        XCTAssertTrue(error.description.contains("-1"))
    }
}

final class AEADTests: XCTestCase {
    let key = SecretBytes(randomCount: XChaCha20Poly1305.keyByteCount)
    let nonce = SecureRandom.bytes(XChaCha20Poly1305.nonceByteCount)
    let ad = Array("ledger-1|seq=7|key=3".utf8)
    let message = Array("Called client re settlement offer; client accepts.".utf8)

    func testRoundTrip() throws {
        let sealed = XChaCha20Poly1305.seal(message, associatedData: ad, nonce: nonce, key: key)
        XCTAssertEqual(sealed.count, message.count + XChaCha20Poly1305.tagByteCount)
        XCTAssertNotEqual(Array(sealed.prefix(message.count)), message)
        let opened = try XChaCha20Poly1305.open(sealed, associatedData: ad, nonce: nonce, key: key)
        opened.withUnsafeBytes { XCTAssertEqual(Array($0), message) }
    }

    func testEmptyPlaintextAndAD() throws {
        let sealed = XChaCha20Poly1305.seal([], associatedData: [], nonce: nonce, key: key)
        XCTAssertEqual(sealed.count, 16)
        let opened = try XChaCha20Poly1305.open(sealed, associatedData: [], nonce: nonce, key: key)
        XCTAssertEqual(opened.count, 0)
    }

    func testPointerSealMatchesArraySeal() throws {
        var output = [UInt8](repeating: 0, count: message.count + 16)
        message.withUnsafeBytes { m in ad.withUnsafeBytes { a in nonce.withUnsafeBytes { n in
            output.withUnsafeMutableBytes { o in
                XChaCha20Poly1305.seal(m, associatedData: a, nonce: n, key: key, into: o)
            }
        } } }
        XCTAssertEqual(output, XChaCha20Poly1305.seal(message, associatedData: ad, nonce: nonce, key: key))
    }

    func testOpenFailsOnTampering() {
        let sealed = XChaCha20Poly1305.seal(message, associatedData: ad, nonce: nonce, key: key)
        let failure = SodiumError(operation: "aead.open", code: -1)

        XCTAssertThrowsError(try XChaCha20Poly1305.open(sealed, associatedData: ad + [0], nonce: nonce, key: key)) {
            XCTAssertEqual($0 as? SodiumError, failure, "wrong associated data")
        }
        for index in [0, message.count / 2, sealed.count - 1] {
            var flipped = sealed
            flipped[index] ^= 0x01
            XCTAssertThrowsError(try XChaCha20Poly1305.open(flipped, associatedData: ad, nonce: nonce, key: key)) {
                XCTAssertEqual($0 as? SodiumError, failure, "flipped bit at \(index)")
            }
        }
        var otherNonce = nonce
        otherNonce[0] ^= 0x80
        XCTAssertThrowsError(try XChaCha20Poly1305.open(sealed, associatedData: ad, nonce: otherNonce, key: key)) {
            XCTAssertEqual($0 as? SodiumError, failure, "wrong nonce")
        }
        XCTAssertThrowsError(try XChaCha20Poly1305.open(sealed, associatedData: ad, nonce: nonce,
                                                        key: SecretBytes(randomCount: 32))) {
            XCTAssertEqual($0 as? SodiumError, failure, "wrong key")
        }
        XCTAssertThrowsError(try XChaCha20Poly1305.open(Array(sealed.prefix(15)), associatedData: ad, nonce: nonce,
                                                        key: key)) {
            XCTAssertEqual($0 as? SodiumError, failure, "truncated")
        }
        XCTAssertThrowsError(try XChaCha20Poly1305.open(sealed, associatedData: ad, nonce: Array(nonce.prefix(12)),
                                                        key: key)) {
            XCTAssertEqual(($0 as? SodiumError)?.operation, "aead.open.nonce")
        }
        XCTAssertThrowsError(try XChaCha20Poly1305.open(sealed, associatedData: ad, nonce: nonce,
                                                        key: SecretBytes(count: 16))) {
            XCTAssertEqual(($0 as? SodiumError)?.operation, "aead.open.key")
        }
    }
}

final class SignatureTests: XCTestCase {
    func testSignVerify() throws {
        let key = try Ed25519SigningKey(seed: SecretBytes(randomCount: 32))
        XCTAssertEqual(key.publicKey.count, 32)
        let message = Array("checkpoint body\n".utf8)
        let signature = key.sign(message)
        XCTAssertEqual(signature.count, 64)
        XCTAssertEqual(message.withUnsafeBytes { key.sign($0) }, signature, "Ed25519 is deterministic")
        XCTAssertTrue(Ed25519.verify(signature: signature, message: message, publicKey: key.publicKey))

        XCTAssertFalse(Ed25519.verify(signature: signature, message: message + [0x0a], publicKey: key.publicKey))
        var badSignature = signature
        badSignature[10] ^= 0x04
        XCTAssertFalse(Ed25519.verify(signature: badSignature, message: message, publicKey: key.publicKey))
        let otherKey = try Ed25519SigningKey(seed: SecretBytes(randomCount: 32))
        XCTAssertFalse(Ed25519.verify(signature: signature, message: message, publicKey: otherKey.publicKey))
        XCTAssertFalse(Ed25519.verify(signature: Array(signature.prefix(63)), message: message,
                                      publicKey: key.publicKey))
        XCTAssertFalse(Ed25519.verify(signature: signature, message: message,
                                      publicKey: Array(key.publicKey.prefix(31))))
    }

    func testRFC8032Vector() throws {
        // RFC 8032 §7.1, TEST 1 (empty message).
        let seed = SecretBytes(copying: fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        let key = try Ed25519SigningKey(seed: seed)
        XCTAssertEqual(hex(key.publicKey), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        XCTAssertEqual(hex(key.sign([])),
                       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
                           + "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    }

    func testSeedMustBe32Bytes() {
        XCTAssertThrowsError(try Ed25519SigningKey(seed: SecretBytes(count: 31))) {
            XCTAssertEqual($0 as? SodiumError, SodiumError(operation: "ed25519.seed", code: -1))
        }
    }
}

final class KeyDerivationTests: XCTestCase {
    func testArgon2idDeterministic() throws {
        let passphrase = SecretBytes(copying: Array("correct horse battery staple".utf8))
        let salt: [UInt8] = Array(0..<16)
        let k1 = try Argon2id.deriveKey(passphrase: passphrase, salt: salt, opsLimit: Argon2id.minimumOpsLimit,
                                        memLimit: Argon2id.minimumMemLimit)
        let k2 = try Argon2id.deriveKey(passphrase: passphrase, salt: salt, opsLimit: Argon2id.minimumOpsLimit,
                                        memLimit: Argon2id.minimumMemLimit)
        XCTAssertEqual(k1.count, 32)
        XCTAssertTrue(k1.constantTimeEquals(k2))

        let otherSalt = try Argon2id.deriveKey(passphrase: passphrase, salt: Array(1...16),
                                               opsLimit: Argon2id.minimumOpsLimit, memLimit: Argon2id.minimumMemLimit)
        XCTAssertFalse(k1.constantTimeEquals(otherSalt))
        let stapler = SecretBytes(copying: Array("correct horse battery stapler".utf8))
        let otherPass = try Argon2id.deriveKey(passphrase: stapler, salt: salt,
                                               opsLimit: Argon2id.minimumOpsLimit, memLimit: Argon2id.minimumMemLimit)
        XCTAssertFalse(k1.constantTimeEquals(otherPass))
        let longer = try Argon2id.deriveKey(passphrase: passphrase, salt: salt, opsLimit: Argon2id.minimumOpsLimit,
                                            memLimit: Argon2id.minimumMemLimit, length: 64)
        XCTAssertEqual(longer.count, 64)
    }

    func testArgon2idLimitsAndErrors() {
        XCTAssertEqual(Argon2id.moderateOpsLimit, 3)
        XCTAssertEqual(Argon2id.moderateMemLimit, 256 * 1024 * 1024)
        XCTAssertEqual(Argon2id.minimumOpsLimit, 1)
        XCTAssertEqual(Argon2id.minimumMemLimit, 8192)
        let passphrase = SecretBytes(copying: Array("pw".utf8))
        XCTAssertThrowsError(try Argon2id.deriveKey(passphrase: passphrase, salt: Array(0..<15), opsLimit: 1,
                                                    memLimit: 8192)) {
            XCTAssertEqual(($0 as? SodiumError)?.operation, "pwhash.salt")
        }
        XCTAssertThrowsError(try Argon2id.deriveKey(passphrase: passphrase, salt: Array(0..<16), opsLimit: 0,
                                                    memLimit: 8192)) {
            XCTAssertEqual($0 as? SodiumError, SodiumError(operation: "pwhash", code: -1))
        }
    }

    func testKDFDeterministicAndSeparated() {
        let master = SecretBytes(randomCount: 32)
        let a = KeyDerivation.deriveSubkey(from: master, id: 1, context: "wrapping")
        let b = KeyDerivation.deriveSubkey(from: master, id: 1, context: "wrapping")
        XCTAssertEqual(a.count, 32)
        XCTAssertTrue(a.constantTimeEquals(b))
        XCTAssertFalse(a.constantTimeEquals(KeyDerivation.deriveSubkey(from: master, id: 2, context: "wrapping")))
        XCTAssertFalse(a.constantTimeEquals(KeyDerivation.deriveSubkey(from: master, id: 1, context: "indexkey")))
        XCTAssertFalse(a.constantTimeEquals(KeyDerivation.deriveSubkey(from: SecretBytes(randomCount: 32), id: 1,
                                                                       context: "wrapping")))
        XCTAssertEqual(KeyDerivation.deriveSubkey(from: master, id: 1, context: "wrapping", length: 64).count, 64)
    }
}

final class HashTests: XCTestCase {
    func testSHA256() {
        XCTAssertEqual(hex(SHA256Sodium.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA256Sodium.hash(Array("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testKeyedHash() {
        let key = SecretBytes(randomCount: 32)
        let message = Array("matter 2024-0117".utf8)
        let h1 = KeyedHash.hash(message, key: key)
        XCTAssertEqual(h1.count, 32)
        XCTAssertEqual(h1, message.withUnsafeBytes { KeyedHash.hash($0, key: key) })
        XCTAssertNotEqual(h1, KeyedHash.hash(message, key: SecretBytes(randomCount: 32)))
        XCTAssertNotEqual(h1, KeyedHash.hash(message + [0], key: key))
        XCTAssertEqual(KeyedHash.hash(message, key: key, length: 16).count, 16)
    }
}

final class Base64Tests: XCTestCase {
    func testRefusesEveryByteOutsideTheAlphabet() {
        let standard = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for byte in UInt8.min...UInt8.max {
            XCTAssertEqual(Base64.onlyAlphabet([0x41, byte, 0x41], urlSafe: false),
                           standard.contains(byte) || byte == UInt8(ascii: "="), "\(byte)")
            XCTAssertEqual(Base64.onlyAlphabet([0x41, byte, 0x41], urlSafe: true), urlSafe.contains(byte), "\(byte)")
        }
        // A non-ASCII byte in place of one character: refused, whatever libsodium would make of it.
        for byte: UInt8 in [0x80, 0xc3, 0xff] {
            let text = String(decoding: Array("QUJD".utf8.dropLast()) + [byte], as: UTF8.self)
            XCTAssertNil(Base64.decode(text))
            XCTAssertNil(Base64.decodeURL(text))
        }
    }

    func testStandardRoundTripAndRFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
                       "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8))
        }
        let bytes: [UInt8] = [0xfb, 0xff, 0xfe, 0x00, 0x3e, 0x3f]
        XCTAssertEqual(Base64.encode(bytes), "+//+AD4/")
        XCTAssertEqual(Base64.decode("+//+AD4/"), bytes)
    }

    func testStrictDecodeRejectsGarbage() {
        for bad in ["Zg", "Zg=", "Zg===", "Zm9v\n", " Zm9v", "Zm9v ", "Zm9v=", "Zm9vYg", "Z", "Zm9v!", "Zm9v\u{0}",
                    "-_-_", "Zh==", "Zm9vYg==Zg==", "Zg==Zg==", "Zm 9v", "Zm9vYmFy\r\n", "é"] {
            XCTAssertNil(Base64.decode(bad), "accepted \(bad.debugDescription)")
        }
    }

    func testURLVariantHasNoPadding() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xfe, 0x00, 0x3e]
        let encoded = Base64.encodeURL(bytes)
        XCTAssertEqual(encoded, "-__-AD4")
        XCTAssertFalse(encoded.contains("="))
        XCTAssertEqual(Base64.decodeURL(encoded), bytes)
        XCTAssertEqual(Base64.encodeURL(Array("f".utf8)), "Zg")
        XCTAssertNil(Base64.decodeURL("Zg=="), "padding is not accepted")
        XCTAssertNil(Base64.decodeURL("+//+"), "standard alphabet is not accepted")
        XCTAssertNil(Base64.decodeURL("Zh"), "non-canonical trailing bits")
        XCTAssertNil(Base64.decodeURL("Z"))
        XCTAssertEqual(Base64.decodeURL(""), [])
    }

    func testEncodeURLAppends() {
        var output = Array("prefix.".utf8)
        let a: [UInt8] = [1, 2, 3, 4]
        a.withUnsafeBytes { Base64.encodeURL($0, into: &output) }
        output.append(UInt8(ascii: "."))
        let empty: [UInt8] = []
        empty.withUnsafeBytes { Base64.encodeURL($0, into: &output) }
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "prefix.AQIDBA.")
        XCTAssertEqual(Base64.encodedLength(4, urlSafe: true), 6)
        XCTAssertEqual(Base64.encodedLength(4, urlSafe: false), 8)
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0x0f)]) }
    return String(decoding: out, as: UTF8.self)
}

func fromHex(_ text: String) -> [UInt8] {
    let chars = Array(text.utf8)
    return stride(from: 0, to: chars.count, by: 2).map {
        UInt8(String(decoding: chars[$0..<$0 + 2], as: UTF8.self), radix: 16)!
    }
}

final class FastBase64Tests: XCTestCase {
    func testEveryAlphabetCharacter() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for v in 0..<64 { XCTAssertEqual(Base64.urlSafeAlphabet[v], alphabet[v], "sextet \(v)") }
        XCTAssertEqual(Int(bitPattern: Base64.urlSafeAlphabet) % 64, 0, "the table must sit in one cache line")
    }

    override func tearDown() { Base64.forcePortable(false) }

    func testVectorAndTableCodeBothMatchLibsodium() {
        for portable in [false, true] {
            Base64.forcePortable(portable)
            XCTAssertEqual(Base64.usesAVX2, portable ? false : Base64.usesAVX2)
            for length in 0..<400 {
                for input in [SecureRandom.bytes(length), [UInt8](repeating: 0xff, count: length),
                              [UInt8](repeating: 0, count: length)] {
                    var fast = [UInt8](), reference = [UInt8]()
                    input.withUnsafeBytes { Base64.encodeURL($0, into: &fast) }
                    input.withUnsafeBytes { Base64.encodeURLWithSodium($0, into: &reference) }
                    XCTAssertEqual(fast, reference, "length \(length), portable \(portable)")
                }
            }
        }
    }

    func testMatchesLibsodiumOnRandomInputs() {
        for length in 0..<200 {
            let input = SecureRandom.bytes(length)
            var fast = [UInt8](), reference = [UInt8]()
            input.withUnsafeBytes { Base64.encodeURL($0, into: &fast) }
            input.withUnsafeBytes { Base64.encodeURLWithSodium($0, into: &reference) }
            XCTAssertEqual(fast, reference, "length \(length)")
            XCTAssertEqual(Base64.decodeURL(String(decoding: fast, as: UTF8.self)), input)
        }
    }

    func testAppendsToExistingOutput() {
        var out = Array("x".utf8)
        [UInt8]([0xfb, 0xff]).withUnsafeBytes { Base64.encodeURL($0, into: &out) }
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "x-_8")
    }
}

/// The one-compression keyed BLAKE2b must equal libsodium's `crypto_generichash` byte for byte.
final class ShortKeyedHashTests: XCTestCase {
    func testMatchesLibsodiumForEveryKeyMessageAndOutputLength() {
        let keyBytes = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let message = (0..<128).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        for keyLength in [16, 17, 32, 63, 64] {
            let key = SecretBytes(copying: Array(keyBytes[0..<keyLength]))
            for outputLength in [16, 32, 33, 64] {
                let short = keyBytes[0..<keyLength].withUnsafeBytes {
                    ShortKeyedHash(key: $0, outputLength: outputLength)
                }
                for messageLength in 1...128 {
                    let expected = KeyedHash.hash(Array(message[0..<messageLength]), key: key, length: outputLength)
                    var got = [UInt8](repeating: 0, count: outputLength)
                    message[0..<messageLength].withUnsafeBytes { m in
                        got.withUnsafeMutableBytes { short.hash(m, into: $0) }
                    }
                    XCTAssertEqual(got, expected, "key \(keyLength), message \(messageLength), output \(outputLength)")
                }
            }
        }
    }

    /// One hasher shared by every worker (as KeyRing's is): hashing only reads the midstate, so threads may hash
    /// at once (`tools/test.sh --sanitize thread` reports any modifying access).
    func testOneHasherOnManyThreadsAtOnce() {
        let key = (0..<32).map { UInt8($0 * 3 + 1) }
        let hasher = key.withUnsafeBytes { ShortKeyedHash(key: $0, outputLength: 32) }
        let message = [UInt8](repeating: 0x5a, count: 40)
        let expected = KeyedHash.hash(message, key: SecretBytes(copying: key), length: 32)
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<200 {
                var got = [UInt8](repeating: 0, count: 32)
                message.withUnsafeBytes { m in got.withUnsafeMutableBytes { hasher.hash(m, into: $0) } }
                if got != expected { mismatches.withLock { $0 += 1 } }
            }
        }
        XCTAssertEqual(mismatches.withLock { $0 }, 0)
    }
}

/// Four-at-a-time hashing (AVX-512VL or AVX2 lanes, or one at a time) must give what hashing each message alone gives.
final class ShortKeyedHashBatchTests: XCTestCase {
    override func tearDown() { ShortKeyedHash.forcePortable(false) }

    func batched(_ hasher: ShortKeyedHash, _ messages: [[UInt8]]) -> [[UInt8]] {
        let length = messages[0].count
        var out = [UInt8](repeating: 0, count: messages.count * hasher.outputLength)
        let packed = messages.flatMap { $0 }
        packed.withUnsafeBytes { m in
            out.withUnsafeMutableBytes {
                hasher.hash(packed: m, messageLength: length, count: messages.count, into: $0)
            }
        }
        return (0..<messages.count).map { Array(out[($0 * hasher.outputLength)..<(($0 + 1) * hasher.outputLength)]) }
    }

    func checkEveryCountAndLength() {
        let keyBytes = (0..<32).map { UInt8($0 * 5 + 3) }
        let key = SecretBytes(copying: keyBytes)
        for outputLength in [16, 32, 64] {
            let hasher = keyBytes.withUnsafeBytes { ShortKeyedHash(key: $0, outputLength: outputLength) }
            for length in [1, 23, 24, 25, 64, 127, 128] {
                for count in 1...20 {   // groups of 8 and 4, and every short last group
                    let messages = (0..<count).map { i in
                        (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i &* 7) }
                    }
                    let expected = messages.map { KeyedHash.hash($0, key: key, length: outputLength) }
                    XCTAssertEqual(batched(hasher, messages), expected,
                                   "output \(outputLength), length \(length), count \(count)")
                }
            }
        }
    }

    func testBatchesMatchSingleHashesWithTheCPUsChoice() { checkEveryCountAndLength() }

    func testBatchesMatchSingleHashesOneAtATime() {
        ShortKeyedHash.forcePortable(true)
        XCTAssertFalse(ShortKeyedHash.usesAVX2)
        checkEveryCountAndLength()
    }

    /// The AVX2 lanes even where the CPU would choose AVX-512VL.
    func testBatchesMatchSingleHashesWithAtMostAVX2() {
        ShortKeyedHash.limitToAVX2(true)
        XCTAssertFalse(ShortKeyedHash.usesAVX512)
        checkEveryCountAndLength()
    }
}
