import MerkleLog
import XCTest

final class HashTests: XCTestCase {
    let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    func testSHA256KnownAnswers() {
        XCTAssertEqual(Hash.sha256([]).hex, emptySHA256)
        XCTAssertEqual(Hash.emptyTree.hex, emptySHA256)
        XCTAssertEqual(Hash.sha256(Array("abc".utf8)).hex,
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // RFC 6962 leaf hash of the empty record, as in the reference tree.
        XCTAssertEqual(recordHash([]).hex, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        XCTAssertEqual(recordHash([]), Hash.sha256([0x00]))
        let l = recordHash([1]), r = recordHash([2])
        XCTAssertEqual(nodeHash(l, r), Hash.sha256([0x01] + l.bytes + r.bytes))
        XCTAssertNotEqual(nodeHash(l, r), nodeHash(r, l))
    }

    func testRecordHashOverBufferMatchesArray() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        data.withUnsafeBytes { buf in
            XCTAssertEqual(recordHash(buf), recordHash(data))
            XCTAssertEqual(recordHash(UnsafeRawBufferPointer(rebasing: buf[3..<500])), recordHash(Array(data[3..<500])))
        }
    }

    func testBytesRoundTrip() {
        let bytes = (0..<32).map { UInt8($0 * 5 + 1) }
        let h = Hash(bytes: bytes)!
        XCTAssertEqual(h.bytes, bytes)
        XCTAssertEqual(Hash(bytes: bytes[...]), h)
        XCTAssertNil(Hash(bytes: bytes.dropLast()))
        XCTAssertNil(Hash(bytes: bytes + [0]))
        XCTAssertNil(Hash(bytes: [UInt8]()))
        XCTAssertEqual(Hash.zero.bytes, [UInt8](repeating: 0, count: 32))
        XCTAssertEqual(Hash.byteCount, 32)
        XCTAssertEqual(MemoryLayout<Hash>.size, 32)
        // Unaligned, longer buffer: reads the first 32 bytes.
        let longer: [UInt8] = [9] + bytes + [7, 7]
        longer.withUnsafeBytes { buf in
            XCTAssertEqual(Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: buf[1...])), h)
        }
        h.withUnsafeBytes { XCTAssertEqual(Array($0), bytes) }
    }

    func testTextForms() {
        let h = Hash.sha256([])
        XCTAssertEqual(h.hex, emptySHA256)
        XCTAssertEqual(h.description, emptySHA256)
        XCTAssertEqual("\(h)", emptySHA256)
        XCTAssertEqual(h.base64, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        XCTAssertEqual(Hash(base64: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="), h)
        XCTAssertEqual(Hash.zero.base64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        XCTAssertEqual(Hash(bytes: [UInt8](repeating: 0xff, count: 32))!.base64,
                       "//////////////////////////////////////////8=")
        XCTAssertEqual(Hash(bytes: [UInt8](repeating: 0xff, count: 32))!.hex, String(repeating: "f", count: 64))

        // Round trip over many hashes, all byte values.
        for i in 0..<300 {
            let x = Hash.sha256([UInt8(truncatingIfNeeded: i), UInt8(i >> 8)])
            XCTAssertEqual(Hash(base64: x.base64), x)
            XCTAssertEqual(x.hex.count, 64)
            XCTAssertEqual(Hash(bytes: hexBytes(x.hex)), x)
        }
    }

    func testBase64IsStrict() {
        let good = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        XCTAssertNotNil(Hash(base64: good))
        XCTAssertNil(Hash(base64: ""))
        XCTAssertNil(Hash(base64: String(good.dropLast())))               // no padding
        XCTAssertNil(Hash(base64: good + "="))                            // too long
        XCTAssertNil(Hash(base64: " " + good.dropFirst()))                // whitespace
        XCTAssertNil(Hash(base64: good.replacingOccurrences(of: "+", with: "-"))) // base64url alphabet
        XCTAssertNil(Hash(base64: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=")) // non-zero unused bits
        XCTAssertNil(Hash(base64: "ZG9uJ3QgY2FyZSAy"))                    // 12 bytes
        XCTAssertNil(Hash(base64: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="))  // 31 bytes
        XCTAssertNil(Hash(base64: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")) // 36 bytes
        XCTAssertNil(Hash(base64: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF\u{e9}=")) // non-ASCII
    }

    func testHashable() {
        let a = Hash.sha256([1]), b = Hash.sha256([2])
        XCTAssertEqual(Set([a, b, a]).count, 2)
        XCTAssertNotEqual(a, a.flipping(bit: 255))
        XCTAssertNotEqual(a, a.flipping(bit: 0))
        XCTAssertEqual(a.flipping(bit: 100).flipping(bit: 100), a)
    }
}
