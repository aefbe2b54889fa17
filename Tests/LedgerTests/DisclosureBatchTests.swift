import XCTest
@testable import LedgerFormat
@testable import MerkleLog
import Sodium

/// All of an entry's disclosures hashed together (`DisclosureBatch`: openings encoded at once, two SHA-256 lanes taking
/// the longest first) give each disclosure's own digest, and deep verify's fields digest equals the reference computation.
final class DisclosureBatchTests: XCTestCase {
    override func tearDown() { SHA256Hasher.forcePortable(false) }

    /// Values whose disclosures end on both sides of block boundaries, with the longest anywhere in the list.
    func values(count: Int, longestAt: Int) -> [[UInt8]] {
        (0..<count).map { i in
            let length = i == longestAt ? 900 + count : (i * 37) % 140
            return Array(("\"" + String(repeating: Character(UnicodeScalar(UInt8(97 + i % 26))), count: length)
                          + "\"").utf8)
        }
    }

    func checkDigests() {
        let batch = DisclosureBatch(textCapacity: 16, capacity: 2)   // small, so both grow
        let seed = [UInt8](repeating: 7, count: 16)
        for count in 0...40 {
            for longestAt in Set([0, count / 2, max(0, count - 1)]) {
                let values = values(count: count, longestAt: longestAt)
                let names = (0..<count).map { "f\($0)" }
                let expected = EntryPayload(seed: seed, values: values).digests(names: names)
                seed.withUnsafeBytes { batch.start(seed: $0, fields: count) }
                for (index, value) in values.enumerated() {
                    var name = names[index]
                    name.withUTF8 { name in
                        value.withUnsafeBytes { batch.append(name: UnsafeRawBufferPointer(name), value: $0) }
                    }
                }
                let digests = batch.digestAll()
                XCTAssertEqual(batch.count, count)
                let got = (0..<count).map { Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: digests[(32 * $0)...])) }
                XCTAssertEqual(got, expected, "count \(count), longest at \(longestAt)")
            }
        }
    }

    func testDigestsWithTheCPUsChoice() { checkDigests() }

    func testDigestsWithPortableCode() {
        SHA256Hasher.forcePortable(true)
        checkDigests()
    }

    /// `LeafView.fieldsDigest` (deep verify) equals `Leaf.fieldsDigest` over the reference digests.
    func testLeafViewFieldsDigestEqualsTheReference() throws {
        let seed: [UInt8] = Array(40..<56)
        let names = ["author", "matter", "summary", "x-long"]
        let values = [#""a.b""#, #""M-1""#, "\"" + String(repeating: "s", count: 700) + "\"", #"{"k":[1,2]}"#]
            .map { Array($0.utf8) }
        let payload = EntryPayload(seed: seed, values: values)
        let leaf = Leaf(ledgerID: [UInt8](repeating: 1, count: Leaf.ledgerIDByteCount), seq: 3, recordedAt: 5,
                        previousHash: .zero, matterTag: .zero, sourceTag: nil, keyID: 1,
                        nonce: [UInt8](repeating: 2, count: Leaf.nonceByteCount), ciphertextHash: .zero,
                        fieldsDigest: Leaf.fieldsDigest(names: names, digests: payload.digests(names: names)),
                        fieldNames: names)
        let encoded = leaf.encoded()
        let plaintext = payload.encoded()
        try encoded.withUnsafeBytes { bytes in
            let view = try XCTUnwrap(LeafView(bytes))
            plaintext.withUnsafeBytes { plaintext in
                var views = [UnsafeRawBufferPointer]()
                let split = EntryPayload.split(plaintext, fieldCount: names.count, into: &views)
                XCTAssertEqual(view.fieldsDigest(seed: split!, values: views, batch: DisclosureBatch()), view.fieldsDigest)
            }
        }
    }
}
