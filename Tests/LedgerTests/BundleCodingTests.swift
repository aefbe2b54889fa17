import Foundation
@testable import Ledger
import LedgerBundle
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium
import XCTest

/// The fast readers behind `verify-bundle` accept exactly what the strict ones accept.
final class BundleCodingTests: XCTestCase {
    private func randomText(_ alphabet: [UInt8], _ length: Int, using g: inout SystemRandomNumberGenerator) -> String {
        String(decoding: (0..<length).map { _ in alphabet.randomElement(using: &g)! }, as: UTF8.self)
    }

    func testTableBase64MatchesLibsodium() {
        var g = SystemRandomNumberGenerator()
        let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let url = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let noise = standard + url + Array("= \n.\\\"".utf8) + [0x00, 0x7f]
        var cases = ["", "=", "==", "A", "AA", "AA=", "AA==", "AAA", "AAA=", "AAAA", "QQ==", "QR==", "QUI=", "QUJ=",
                     "QUJD", "QUJD====",
                     "A===", "====", "QQ", "QUI", " QUJD", "QUJD ", "QU JD", "QUJD\n"]
        for _ in 0..<4000 {
            let n = Int.random(in: 0...12, using: &g)
            cases.append(randomText(Bool.random(using: &g) ? standard : noise, n, using: &g))
            cases.append(randomText(url, n, using: &g))
            cases.append(Base64.encode((0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }))
            cases.append(Base64.encodeURL((0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }))
        }
        for text in cases {
            XCTAssertEqual(PublicBase64.decode(text), Base64.decode(text), "standard: \(Array(text.utf8))")
            XCTAssertEqual(PublicBase64.decodeURL(text), Base64.decodeURL(text), "url: \(Array(text.utf8))")
        }
        // Non-ASCII is never base64 (libsodium 1.0.18 reads such bytes as sign-extended chars and lets some through;
        // Python's b64decode(validate=True) refuses them, as this does).
        for text in ["QUJ\u{e9}", "Q\u{fffd}JD", "QU\u{e9}=", "\u{e9}\u{e9}"] {
            XCTAssertNil(PublicBase64.decode(text))
            XCTAssertNil(PublicBase64.decodeURL(text))
        }
    }

    func testDecodeHashMatchesHashBase64() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var text = Hash.sha256((0..<8).map { _ in UInt8.random(in: 0...255, using: &g) }).base64
            if Bool.random(using: &g) {  // damage one character
                var bytes = Array(text.utf8)
                let damage: [UInt8] = [UInt8(ascii: "="), UInt8(ascii: "-"), UInt8(ascii: "B"), 0x80]
                bytes[Int.random(in: 0..<bytes.count, using: &g)] = damage.randomElement(using: &g)!
                text = String(decoding: bytes, as: UTF8.self)
            }
            var copy = text
            let fast = copy.withUTF8 { PublicBase64.decodeHash(UnsafeRawBufferPointer($0)) }
            XCTAssertEqual(fast, Hash(base64: text), text)
        }
    }

    func testCRC32() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)  // the CRC-32/ISO-HDLC check value
        XCTAssertEqual(CRC32.checksum([]), 0)
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &g) }
        // Bitwise reference.
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        XCTAssertEqual(CRC32.checksum(bytes), ~c)
        let split = bytes.withUnsafeBytes { raw in
            CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[300...]),
                           continuing: CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[..<300])))
        }
        XCTAssertEqual(split, ~c)
    }

    func testCanonicalScannerRefusesWhatItCannotReadAsBytes() {
        func scan(_ line: String) -> BundleVerifier.EntryParts? {
            var line = line
            return line.withUTF8 { CanonicalEntryScanner.scan(UnsafeRawBufferPointer($0)) }
        }
        let good = #"{"index":12,"leaf":"AAAA","inclusionProof":["x","y"],"disclosures":[],"#
            + #""redacted":[{"field":"a","reason":"b","digest":"c"}]}"#
        let parts = scan(good)
        XCTAssertEqual(parts?.index, 12)
        XCTAssertEqual(parts?.proof?.count, 2)
        XCTAssertEqual(parts?.redacted?.count, 1)
        for bad in [#"{"index":012,"leaf":"","inclusionProof":[],"disclosures":[],"redacted":[]}"#,
                    #"{"index":-1,"leaf":"","inclusionProof":[],"disclosures":[],"redacted":[]}"#,
                    #"{"index":1234567890123456789,"leaf":"","inclusionProof":[],"disclosures":[],"redacted":[]}"#,
                    #"{"index":1,"leaf":"a\"b","inclusionProof":[],"disclosures":[],"redacted":[]}"#,
                    #"{"index":1,"leaf":"é","inclusionProof":[],"disclosures":[],"redacted":[]}"#,
                    #"{"index":1, "leaf":"","inclusionProof":[],"disclosures":[],"redacted":[]}"#,
                    #"{"leaf":"","index":1,"inclusionProof":[],"disclosures":[],"redacted":[]}"#,
                    #"{"index":1,"leaf":"","inclusionProof":[],"disclosures":[],"redacted":[]} "#,
                    #"{"index":1,"leaf":"","inclusionProof":[],"disclosures":[],"redacted":[],"x":1}"#,
                    #"{"index":1,"leaf":"","inclusionProof":[1],"disclosures":[],"redacted":[]}"#] {
            XCTAssertNil(scan(bad), bad)
        }
    }

    func testMemoisedRecordCheckAgreesWithPlainCheck() throws {
        let size: Int64 = 37
        let leaves = (0..<size).map { recordHash(Array("leaf \($0)".utf8)) }
        var stored = [Hash]()
        for (n, leaf) in leaves.enumerated() {
            let snapshot = stored
            let new = try storedHashes(forRecord: Int64(n), recordHash: leaf,
                                       reader: HashReaderFunc { $0.map { snapshot[Int($0)] } })
            stored += new
        }
        let all = stored
        let reader = HashReaderFunc { $0.map { all[Int($0)] } }
        let root = try treeHash(size: size, reader: reader)
        var memo = NodeHashMemo()
        for index in 0..<size {
            let proof = try proveRecord(treeSize: size, index: index, reader: reader)
            XCTAssertNoThrow(try checkRecord(proof: proof, treeSize: size, root: root, index: index,
                                             recordHash: leaves[Int(index)], memo: &memo))
            var bad = proof
            if !bad.isEmpty {
                bad[bad.count - 1] = Hash.sha256([1])
                XCTAssertThrowsError(try checkRecord(proof: bad, treeSize: size, root: root, index: index,
                                                     recordHash: leaves[Int(index)], memo: &memo))
            }
            XCTAssertThrowsError(try checkRecord(proof: proof, treeSize: size, root: root, index: index,
                                                 recordHash: leaves[Int((index + 1) % size)], memo: &memo))
        }
    }
}
