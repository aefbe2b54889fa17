import Foundation
@testable import Ledger
import LedgerFormat
import LedgerSupport
import RecordFormats
import MerkleLog
import Sodium
import XCTest

final class LeafFormatTests: XCTestCase {
    func h(_ byte: UInt8) -> Hash { Hash(bytes: [UInt8](repeating: byte, count: 32))! }

    func sampleLeaf(sourceTag: Bool = true, names: [String] = ["author", "channel", "matter", "x-extra"]) -> Leaf {
        Leaf(ledgerID: Array(1...16), seq: 0x0102_0304_0506_0708, recordedAt: -1_234_567,
             previousHash: h(0xaa), matterTag: h(0xbb), sourceTag: sourceTag ? h(0xcc) : nil,
             keyID: 0xdead_beef, nonce: Array(repeating: 0x24, count: 24), ciphertextHash: h(0xdd),
             fieldsDigest: h(0xee), fieldNames: names)
    }

    /// Offset of the flags byte: version(1) + ledger id(16) + seq(8) + recordedAt(8) + previous(32) + matter tag(32).
    let flagsOffset = 1 + 16 + 8 + 8 + 32 + 32

    func testRoundTripWithAndWithoutSourceTag() throws {
        for withSource in [true, false] {
            let leaf = sampleLeaf(sourceTag: withSource)
            let bytes = leaf.encoded()
            XCTAssertEqual(try Leaf.decode(bytes), leaf)
            XCTAssertEqual(try Leaf.decode(bytes).encoded(), bytes)
        }
        let empty = sampleLeaf(names: [])
        XCTAssertEqual(try Leaf.decode(empty.encoded()), empty)
    }

    func testLayoutIsTheDocumentedOne() {
        let bytes = sampleLeaf(sourceTag: true, names: ["ab", "c"]).encoded()
        // 1 + 16 + 8 + 8 + 32 + 32 + 1 + 32 + 4 + 24 + 32 + 32 + 2 + (1+2) + (1+1) = 229
        XCTAssertEqual(bytes.count, 229)
        XCTAssertEqual(bytes[0], 2, "new leaves are version 2 (same layout as 1)")
        XCTAssertEqual(Array(bytes[1..<17]), Array(1...16))
        XCTAssertEqual(Array(bytes[17..<25]), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(Array(bytes[25..<33]), UInt64(bitPattern: -1_234_567).bigEndianBytes)
        XCTAssertEqual(bytes[flagsOffset], 1)
        XCTAssertEqual(Array(bytes[(flagsOffset + 33)..<(flagsOffset + 37)]), [0xde, 0xad, 0xbe, 0xef])
        XCTAssertEqual(Array(bytes.suffix(7)), [0, 2, 2, 0x61, 0x62, 1, 0x63])
        XCTAssertEqual(sampleLeaf(sourceTag: false, names: ["ab", "c"]).encoded().count, 229 - 32)
    }

    func testEveryTruncationIsRefused() {
        for withSource in [true, false] {
            let bytes = sampleLeaf(sourceTag: withSource).encoded()
            for length in 0..<bytes.count {
                XCTAssertThrowsError(try Leaf.decode(Array(bytes[0..<length])), "length \(length)") { error in
                    guard case LeafDecodingError.truncated = error else {
                        return XCTFail("length \(length): expected truncated, got \(error)")
                    }
                }
            }
        }
    }

    func testUnknownVersionIsRefused() {
        for version: UInt8 in [0, 3, 0xff] {  // 3 is an event leaf: Leaf.decode reads records only
            var bytes = sampleLeaf().encoded()
            bytes[0] = version
            XCTAssertThrowsError(try Leaf.decode(bytes)) {
                XCTAssertEqual($0 as? LeafDecodingError, .unsupportedVersion(version))
            }
        }
    }

    func testUnknownFlagBitsAreRefused() {
        for flags: UInt8 in [2, 3, 0x80, 0xff] {
            var bytes = sampleLeaf().encoded()
            bytes[flagsOffset] = flags
            XCTAssertThrowsError(try Leaf.decode(bytes)) {
                XCTAssertEqual($0 as? LeafDecodingError, .unknownFlags(flags))
            }
        }
    }

    func testTrailingBytesAreRefused() {
        for extra in 1...3 {
            let bytes = sampleLeaf().encoded() + Array(repeating: 0, count: extra)
            XCTAssertThrowsError(try Leaf.decode(bytes)) {
                XCTAssertEqual($0 as? LeafDecodingError, .trailingBytes(count: extra))
            }
        }
    }

    func testUnsortedOrDuplicateNamesAreRefused() {
        let unsorted = sampleLeaf(names: ["matter", "author"]).encoded()
        XCTAssertThrowsError(try Leaf.decode(unsorted)) {
            XCTAssertEqual($0 as? LeafDecodingError, .fieldsNotSorted(index: 1))
        }
        let duplicate = sampleLeaf(names: ["author", "author"]).encoded()
        XCTAssertThrowsError(try Leaf.decode(duplicate)) {
            XCTAssertEqual($0 as? LeafDecodingError, .fieldsNotSorted(index: 1))
        }
        // Byte order, not case-insensitive order: "Z" (0x5a) sorts before "a".
        let byteOrder = sampleLeaf(names: ["Zeta", "alpha"])
        XCTAssertEqual(try Leaf.decode(byteOrder.encoded()), byteOrder)
        let prefix = sampleLeaf(names: ["x-a", "x-ab"])
        XCTAssertEqual(try Leaf.decode(prefix.encoded()), prefix)
        XCTAssertThrowsError(try Leaf.decode(sampleLeaf(names: ["x-ab", "x-a"]).encoded()))
    }

    func testInvalidNameBytesAreRefused() {
        let bad = ["", "1abc", "-abc", "a b", "a_b", "a.b", "é", "a\u{0}", String(repeating: "a", count: 65)]
        for name in bad {
            let bytes = sampleLeaf(names: [name]).encoded()
            XCTAssertThrowsError(try Leaf.decode(bytes), "name \(Array(name.utf8))") {
                XCTAssertEqual($0 as? LeafDecodingError, .badFieldName(index: 0))
            }
        }
        // Raw non-ASCII / control byte inside an otherwise fine name, in the second position.
        var bytes = sampleLeaf(names: ["abc", "abd"]).encoded()
        bytes[bytes.count - 1] = 0xff
        XCTAssertThrowsError(try Leaf.decode(bytes)) {
            XCTAssertEqual($0 as? LeafDecodingError, .badFieldName(index: 1))
        }
        let longest = String(repeating: "a", count: 64)
        XCTAssertNoThrow(try Leaf.decode(sampleLeaf(names: [longest]).encoded()))
    }

    func testDecodingErrorsDescribeThemselves() {
        XCTAssertTrue(LeafDecodingError.unknownFlags(6).description.contains("0x6"))
        XCTAssertTrue(LeafDecodingError.trailingBytes(count: 3).description.contains("3"))
    }

    func testFieldsDigestKnownAnswer() {
        let names = ["author", "x-z"]
        let d1 = [UInt8](repeating: 0x11, count: 32), d2 = Array(0..<32).map(UInt8.init)
        // Independently: SHA-256(u8 len || name || digest || ...), via libsodium.
        var message = [UInt8]()
        message += [6] + Array("author".utf8) + d1
        message += [3] + Array("x-z".utf8) + d2
        let expected = sodiumSHA256(message)
        XCTAssertEqual(Leaf.fieldsDigest(names: names, digests: [Hash(bytes: d1)!, Hash(bytes: d2)!]).bytes, expected)
        // Empty list: SHA-256 of nothing.
        XCTAssertEqual(Leaf.fieldsDigest(names: [], digests: []).bytes, sodiumSHA256([]))
        XCTAssertEqual(Leaf.fieldsDigest(names: [], digests: []).hex,
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // Order matters.
        XCTAssertNotEqual(Leaf.fieldsDigest(names: names, digests: [Hash(bytes: d1)!, Hash(bytes: d2)!]),
                          Leaf.fieldsDigest(names: names, digests: [Hash(bytes: d2)!, Hash(bytes: d1)!]))
    }
}

final class EntryPayloadTests: XCTestCase {
    func testRoundTrip() throws {
        let long = [UInt8](repeating: 0x41, count: 300)  // needs a two-byte varint
        let payload = EntryPayload(seed: Array(0..<16), values: [Array("\"x\"".utf8), [], long, Array("12".utf8)])
        let bytes = payload.encoded()
        XCTAssertEqual(Array(bytes[0..<16]), Array(0..<16))
        XCTAssertEqual(bytes[16], 3)
        XCTAssertEqual(Array(bytes[20...21]), [0x00, 0xac])  // empty value, then LEB128(300) = ac 02
        let decoded = try bytes.withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 4) }
        XCTAssertEqual(decoded.seed, payload.seed)
        XCTAssertEqual(decoded.values, payload.values)
        let none = EntryPayload(seed: Array(repeating: 9, count: 16), values: [])
        XCTAssertEqual(try none.encoded().withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 0) }.values, [])
    }

    func testTruncationIsRefused() {
        let bytes = EntryPayload(seed: Array(0..<16),
                                 values: [Array("\"ab\"".utf8), Array(repeating: 0x30, count: 200)]).encoded()
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try Array(bytes[0..<length])
                                     .withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 2) },
                                 "length \(length)") { error in
                guard case EntryPayload.Failure.malformed = error else { return XCTFail("length \(length): \(error)") }
            }
        }
        // Asking for more fields than are present is a truncation too.
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 3) }) {
            XCTAssertEqual($0 as? EntryPayload.Failure, .malformed(field: 2))
        }
    }

    func testTrailingBytesAreRefused() {
        let bytes = EntryPayload(seed: Array(0..<16), values: [[1, 2, 3]]).encoded()
        XCTAssertThrowsError(try (bytes + [0]).withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 1) }) {
            XCTAssertEqual($0 as? EntryPayload.Failure, .trailingBytes(1))
        }
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 0) }) {
            XCTAssertEqual($0 as? EntryPayload.Failure, .trailingBytes(4))
        }
    }

    func testNonCanonicalOrOverlongVarintsAreRefused() {
        let seed = [UInt8](repeating: 0, count: 16)
        // 0x80 0x00: a redundant zero group (non-canonical encoding of 0).
        let redundant = seed + [0x80, 0x00]
        XCTAssertThrowsError(try redundant.withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 1) }) {
            XCTAssertEqual($0 as? EntryPayload.Failure, .malformed(field: 0))
        }
        // Eleven continuation bytes: longer than any UInt64.
        let overlong = seed + Array(repeating: 0xff, count: 11) + [0x01]
        XCTAssertThrowsError(try overlong.withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 1) }) {
            XCTAssertEqual($0 as? EntryPayload.Failure, .malformed(field: 0))
        }
        // A length larger than what remains.
        let tooLong = seed + [0x05, 1, 2]
        XCTAssertThrowsError(try tooLong.withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 1) }) {
            XCTAssertEqual($0 as? EntryPayload.Failure, .malformed(field: 0))
        }
        // A huge length (2^63) must not overflow or trap.
        var w = ByteWriter()
        w.raw(seed)
        w.varint(1 << 63)
        XCTAssertThrowsError(try w.bytes.withUnsafeBytes { try EntryPayload.decode($0, fieldCount: 1) })
    }

    func testVarintRoundTrip() throws {
        for value: UInt64 in [0, 1, 127, 128, 255, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max] {
            var w = ByteWriter()
            w.varint(value)
            let decoded = try w.bytes.withUnsafeBytes { buffer -> UInt64 in
                var r = ByteReader(buffer)
                let v = try r.varint()
                XCTAssertTrue(r.isAtEnd)
                return v
            }
            XCTAssertEqual(decoded, value)
        }
    }

    func testStoredEntrySplit() throws {
        let leaf: [UInt8] = Array(repeating: 7, count: 300)
        let ciphertext: [UInt8] = [1, 2, 3, 4, 5]
        let stored = StoredEntry.encode(leaf: leaf, ciphertext: ciphertext)
        XCTAssertEqual(Array(stored[0..<2]), [0x01, 0x2c])
        let (l, c) = try stored.withUnsafeBytes { raw in
            let parts = try StoredEntry.split(raw)
            return (Array(parts.leaf), Array(parts.ciphertext))
        }
        XCTAssertEqual(l, leaf)
        XCTAssertEqual(c, ciphertext)
        // An empty ciphertext is allowed by the split (the AEAD refuses it later).
        let onlyLeaf = StoredEntry.encode(leaf: [9], ciphertext: [])
        XCTAssertEqual(try onlyLeaf.withUnsafeBytes { Array(try StoredEntry.split($0).ciphertext) }, [])
        for bad: [UInt8] in [[], [0], [0, 5, 1, 2, 3, 4]] {
            XCTAssertThrowsError(try bad.withUnsafeBytes { _ = try StoredEntry.split($0) }) {
                XCTAssertEqual($0 as? StoredEntry.Failure, .truncated)
            }
        }
    }
}

final class DisclosureTests: XCTestCase {
    func testJSONBytesFollowTheTemplate() {
        let salt: [UInt8] = Array(0..<16)
        let value = Array(#"{"a":[1,"é"]}"#.utf8)
        let d = Disclosure(salt: salt, name: "x-data", value: value)
        let expected = "[\"\(base64url(salt))\",\"x-data\",\(String(decoding: value, as: UTF8.self))]"
        XCTAssertEqual(String(decoding: d.jsonBytes, as: UTF8.self), expected)
        XCTAssertEqual(base64url(salt), "AAECAwQFBgcICQoLDA0ODw")
    }

    func testEncodedIsBase64URLWithoutPadding() {
        for valueLength in 0..<6 {  // vary the length so every padding case occurs
            let value = Array(("\"" + String(repeating: "?", count: valueLength) + "\"").utf8)
            let d = Disclosure(salt: Array(repeating: 0xfb, count: 16), name: "summary", value: value)
            XCTAssertEqual(d.encoded, base64url(d.jsonBytes))
            XCTAssertFalse(d.encoded.contains("="))
            XCTAssertFalse(d.encoded.contains("+"))
            XCTAssertFalse(d.encoded.contains("/"))
            XCTAssertEqual(Base64.decodeURL(d.encoded), d.jsonBytes)
        }
    }

    func testDigestIsSHA256OfTheASCIIOfEncoded() {
        let d = Disclosure(salt: Array(repeating: 0xfe, count: 16), name: "matter",
                           value: Array("\"M-2026-0001\"".utf8))
        let independent = sodiumSHA256(Array(base64url(d.jsonBytes).utf8))
        XCTAssertEqual(d.digest.bytes, independent)
        XCTAssertEqual(d.digest, Hash.sha256(Array(d.encoded.utf8)))
    }

    func testRFC9901ExampleDisclosure() {
        // RFC 9901 (SD-JWT) §5.1 example: salt "_26bc4LT-ac6q2KI6cBW5es", claim family_name "Möbius".
        // Our template writes no spaces, so compare against the same array written compactly.
        let salt = Base64.decodeURL("_26bc4LT-ac6q2KI6cBW5es")!
        XCTAssertEqual(base64url(salt), "_26bc4LT-ac6q2KI6cBW5es")
        let d = Disclosure(salt: salt, name: "family_name", value: Array("\"Möbius\"".utf8))
        XCTAssertEqual(String(decoding: d.jsonBytes, as: UTF8.self),
                       "[\"_26bc4LT-ac6q2KI6cBW5es\",\"family_name\",\"Möbius\"]")
    }

    func testSaltDerivation() {
        let seed: [UInt8] = Array(100..<116)
        let a0 = Disclosure.salt(seed: seed, index: 0)
        XCTAssertEqual(a0.count, Disclosure.saltByteCount)
        XCTAssertEqual(Disclosure.salt(seed: seed, index: 0), a0, "deterministic")
        let salts = (0..<300).map { Disclosure.salt(seed: seed, index: $0) }
        XCTAssertEqual(Set(salts.map { Hex.encode($0) }).count, 300, "distinct across indexes (incl. above 255)")
        XCTAssertNotEqual(Disclosure.salt(seed: Array(0..<16), index: 0), a0, "depends on the seed")
        // Independently: BLAKE2b-128 keyed with the seed over label || u16 BE index.
        let message = Array("client-ledger/salt/v1".utf8) + [0x01, 0x02]
        XCTAssertEqual(Disclosure.salt(seed: seed, index: 0x0102),
                       KeyedHash.hash(message, key: SecretBytes(copying: seed), length: 16))
    }

    func testPayloadDisclosuresUseDerivedSalts() {
        let seed: [UInt8] = Array(repeating: 3, count: 16)
        let payload = EntryPayload(seed: seed, values: [Array("1".utf8), Array("2".utf8)])
        let ds = payload.disclosures(names: ["a", "b"])
        XCTAssertEqual(ds.map(\.name), ["a", "b"])
        XCTAssertEqual(ds[1].salt, Disclosure.salt(seed: seed, index: 1))
        XCTAssertEqual(ds[1].value, Array("2".utf8))
    }
}

final class WorkerRangeTests: XCTestCase {
    /// Every core count and chunk size splits into valid, disjoint ranges that cover each item once
    /// (a 10-core machine once crashed verify on a 71-entry chunk).
    func testWorkerRangesCoverEveryItemOnceForAnyCoreCount() {
        for workers in 1...64 {
            for count in [0, 1, 2, 31, 64, 71, 255, 256, 1121, 8192] {
                var covered = [Int]()
                for worker in 0..<workers {
                    let range = workerRange(worker, of: workers, count: count)
                    XCTAssertLessThanOrEqual(range.lowerBound, range.upperBound)
                    covered += Array(range)
                }
                XCTAssertEqual(covered, Array(0..<count), "workers \(workers), count \(count)")
            }
        }
    }
}

/// The append path encodes leaves in parallel with zero chain fields and fills them in sequentially.
final class LeafChainFieldTests: XCTestCase {
    func testFillingTheChainFieldsGivesTheFullEncoding() {
        let previous = Hash.sha256(Array("previous".utf8))
        let full = Leaf(ledgerID: Array(repeating: 7, count: 16), seq: 42, recordedAt: 1_767_225_600_123_456,
                        previousHash: previous, matterTag: Hash.sha256([1]), sourceTag: Hash.sha256([2]), keyID: 3,
                        nonce: Array(repeating: 9, count: 24), ciphertextHash: Hash.sha256([4]),
                        fieldsDigest: Hash.sha256([5]), fieldNames: ["author", "matter"])
        var partial = Leaf(ledgerID: full.ledgerID, seq: 42, recordedAt: 0, previousHash: .zero,
                           matterTag: full.matterTag, sourceTag: full.sourceTag, keyID: 3, nonce: full.nonce,
                           ciphertextHash: full.ciphertextHash, fieldsDigest: full.fieldsDigest,
                           fieldNames: full.fieldNames).encoded()
        partial.withUnsafeMutableBytes { Leaf.setChainFields($0, recordedAt: full.recordedAt, previousHash: previous) }
        XCTAssertEqual(partial, full.encoded())
    }
}

/// Salts are derived four at a time for a whole entry; each must equal the salt derived on its own.
final class SaltBatchTests: XCTestCase {
    func testBatchedSaltsEqualSingleSalts() {
        let seed = (0..<16).map { UInt8($0 * 9 + 1) }
        for count in [1, 2, 3, 4, 5, 13, 14, 300] {
            let deriver = SaltDeriver(seed: seed, count: count)
            for index in 0..<count {
                XCTAssertEqual(deriver.withSalt(index: index) { Array($0) },
                               SaltDeriver.single(seed: seed, index: index), "count \(count), index \(index)")
            }
        }
    }
}

/// The import's one-buffer sealer against the reference path it replaced: payload, in-place AEAD, leaf, stored value.
final class EntrySealerTests: XCTestCase {
    func testSealsExactlyTheBytesOfTheReferencePath() throws {
        let ledgerID = Array(UInt8(1)...UInt8(16))
        let key = SecretBytes(copying: Array(repeating: 7, count: 32))
        let long = String(repeating: "é", count: 200)  // a value over 127 bytes: a two-byte length
        let json = #"{"author":"a.b","channel":"email","client":"C","direction":"inbound","kind":"inquiry","matter":"M-1","#
            + #""occurredAt":"2024-01-01T08:00:00Z","sourceId":"a","sourceSystem":"pms","summary":"\#(long)","#
            + #""tags":["x","y"]}"#
        // Eleven fields, then ten: the disclosures are hashed in pairs, with and without one left over.
        let odd = try RecordSchema.validate(JSONParser.parse(Array(json.utf8)))
        let even = try RecordSchema.validate(JSONParser.parse(Array(json.replacingOccurrences(
            of: #","tags":["x","y"]"#, with: "").utf8)))
        XCTAssertEqual([odd.names.count, even.names.count], [11, 10])
        let digester = DisclosureDigester()
        for record in [odd, even] {
            for (seq, sourceTag) in [(UInt64(0), Hash?.none), (UInt64(1) << 40, Hash.sha256(Array("s".utf8)))] {
                let seed = (0..<16).map { UInt8($0) &* 3 &+ UInt8(seq & 0xff) }
                let nonce = (0..<24).map { UInt8($0) &* 5 }
                let matterTag = Hash.sha256(Array("m".utf8))
                let (plaintext, digests) = EntryPayload.seal(record, seed: seed, digester: digester)
                let ad = EntryAssociatedData.bytes(version: 2, ledgerID: ledgerID, seq: seq, keyID: 9)
                let ciphertext = XChaCha20Poly1305.seal(plaintext, associatedData: ad, nonce: nonce, key: key)
                let leaf = Leaf(ledgerID: ledgerID, seq: seq, recordedAt: 0, previousHash: .zero, matterTag: matterTag,
                                sourceTag: sourceTag, keyID: 9, nonce: nonce, ciphertextHash: Hash.sha256(ciphertext),
                                fieldsDigest: Leaf.fieldsDigest(names: record.names, digests: digests),
                                fieldNames: record.names).encoded()
                let expected = StoredEntry.encode(leaf: leaf, ciphertext: ciphertext)
                let (value, leafLength) = seed.withUnsafeBytes { seed in
                    nonce.withUnsafeBytes { nonce in
                        EntrySealer(ledgerID: ledgerID).seal(record, seq: seq, matterTag: matterTag, sourceTag: sourceTag,
                                                             keyID: 9, key: key, seed: seed, nonce: nonce)
                    }
                }
                XCTAssertEqual(value, expected, "seq \(seq), \(record.names.count) fields")
                XCTAssertEqual(leafLength, leaf.count)
            }
        }
    }
}
