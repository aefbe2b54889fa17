import XCTest
@testable import MerkleLog

/// SHA-256 (FIPS 180-4) on the CSHA256 module: known answers, and the SHA-extension code against the
/// portable code for every length across several blocks and every way of splitting the input.
final class SHA256Tests: XCTestCase {
    override func tearDown() {
        SHA256Hasher.forcePortable(false)
    }

    func digestHex(_ bytes: [UInt8]) -> String { Hash.sha256(bytes).hex }

    /// FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf") and the empty string.
    func knownAnswers() {
        XCTAssertEqual(digestHex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(digestHex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(digestHex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256Hasher()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(chunk) }
        XCTAssertEqual(million.finalize().hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testKnownAnswersWithTheCPUsChoice() {
        knownAnswers()
    }

    func testKnownAnswersWithPortableCode() {
        SHA256Hasher.forcePortable(true)
        XCTAssertEqual(SHA256Hasher.implementation, "portable")
        knownAnswers()
    }

    func testBothImplementationsAgreeOnEveryLengthAndSplit() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<700).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for length in 0...data.count {
            let input = Array(data[0..<length])
            SHA256Hasher.forcePortable(true)
            let portable = Hash.sha256(input)
            SHA256Hasher.forcePortable(false)
            XCTAssertEqual(Hash.sha256(input), portable, "length \(length)")
            // The same bytes fed in two pieces, split anywhere, give the same digest.
            let split = length == 0 ? 0 : Int.random(in: 0...length, using: &generator)
            var hasher = SHA256Hasher()
            input.withUnsafeBytes { bytes in
                hasher.update(UnsafeRawBufferPointer(rebasing: bytes[0..<split]))
                hasher.update(UnsafeRawBufferPointer(rebasing: bytes[split...]))
            }
            XCTAssertEqual(hasher.finalize(), portable, "length \(length) split at \(split)")
        }
    }

    /// Two messages hashed at once (interleaved with the SHA extensions) give each message's own digest, for every
    /// pair of lengths around the block boundaries, whatever the contexts had absorbed before, on both codes.
    func testTwoAtOnceAgreesWithOneAtATime() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<400).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let lengths = Array(0...140) + [191, 192, 193, 255, 256, 257, 300, 399]
        for portable in [false, true] {
            SHA256Hasher.forcePortable(portable)
            for (a, b) in Array(zip(lengths, lengths.reversed())) + Array(zip(lengths, lengths)) {
                for (headA, headB) in [(0, 0), (1, 0), (0, 1), (64, 3)] {
                    data.withUnsafeBytes { bytes in
                        let messageA = UnsafeRawBufferPointer(rebasing: bytes[0..<a])
                        let messageB = UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - b)...])
                        let prefixA = UnsafeRawBufferPointer(rebasing: bytes[7..<(7 + headA)])
                        let prefixB = UnsafeRawBufferPointer(rebasing: bytes[9..<(9 + headB)])
                        var hasherA = SHA256Hasher(), hasherB = SHA256Hasher()
                        hasherA.update(prefixA)
                        hasherB.update(prefixB)
                        var oneA = hasherA, oneB = hasherB
                        oneA.update(messageA)
                        oneB.update(messageB)
                        let (digestA, digestB) = SHA256Hasher.finalize(&hasherA, messageA, &hasherB, messageB)
                        XCTAssertEqual(digestA, oneA.finalize(), "lengths \(a), \(b), heads \(headA), \(headB)")
                        XCTAssertEqual(digestB, oneB.finalize(), "lengths \(a), \(b), heads \(headA), \(headB)")
                    }
                }
            }
        }
        let leaves = (Array("leaf a".utf8), Array("leaf b, longer".utf8))
        let records = leaves.0.withUnsafeBytes { a in leaves.1.withUnsafeBytes { b in recordHashes(a, b) } }
        XCTAssertEqual(records.0, recordHash(leaves.0))
        XCTAssertEqual(records.1, recordHash(leaves.1))
    }

    func testNodeAndRecordHashesAreDomainSeparatedSHA256() {
        let left = Hash.sha256(Array("left".utf8)), right = Hash.sha256(Array("right".utf8))
        XCTAssertEqual(nodeHash(left, right), Hash.sha256([0x01] + left.bytes + right.bytes))
        XCTAssertEqual(recordHash(Array("leaf".utf8)), Hash.sha256([0x00] + Array("leaf".utf8)))
    }
}
