import LMDB
@testable import Ledger
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium
import XCTest

/// The verifier's allocation-free readers must accept exactly what the straightforward decoders accept,
/// and read the same values: otherwise a fast path could hide damage, or invent it.
final class VerifyFastPathTests: XCTestCase {
    func h(_ byte: UInt8) -> Hash { Hash(bytes: [UInt8](repeating: byte, count: 32))! }

    func leaf(sourceTag: Bool, names: [String]) -> Leaf {
        Leaf(ledgerID: Array(1...16), seq: 0x0102_0304_0506_0708, recordedAt: -1_234_567,
             previousHash: h(0xaa), matterTag: h(0xbb), sourceTag: sourceTag ? h(0xcc) : nil,
             keyID: 0xdead_beef, nonce: Array(repeating: 0x24, count: 24), ciphertextHash: h(0xdd),
             fieldsDigest: h(0xee), fieldNames: names)
    }

    /// Compares LeafView with Leaf.decode on `bytes`: same verdict, and the same fields when both accept.
    func assertAgree(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        bytes.withUnsafeBytes { raw in
            let view = LeafView(raw)
            let decoded = try? Leaf.decode(raw)
            XCTAssertEqual(view != nil, decoded != nil, "verdicts differ on \(bytes)", file: file, line: line)
            guard let view, let decoded else { return }
            XCTAssertEqual(view.seq, decoded.seq, file: file, line: line)
            XCTAssertEqual(view.recordedAt, decoded.recordedAt, file: file, line: line)
            XCTAssertEqual(view.previousHash, decoded.previousHash, file: file, line: line)
            XCTAssertEqual(view.matterTag, decoded.matterTag, file: file, line: line)
            XCTAssertEqual(view.sourceTag, decoded.sourceTag, file: file, line: line)
            XCTAssertEqual(view.keyID, decoded.keyID, file: file, line: line)
            XCTAssertEqual(Array(view.nonce), decoded.nonce, file: file, line: line)
            XCTAssertEqual(Array(view.ledgerID), decoded.ledgerID, file: file, line: line)
            XCTAssertEqual(view.ciphertextHash, decoded.ciphertextHash, file: file, line: line)
            XCTAssertEqual(view.fieldsDigest, decoded.fieldsDigest, file: file, line: line)
            var names = [String]()
            view.forEachName { _, name in names.append(String(decoding: name, as: UTF8.self)) }
            XCTAssertEqual(names, decoded.fieldNames, file: file, line: line)
        }
    }

    func testLeafViewAgreesWithLeafDecodeOnMutations() {
        var rng = SystemRandomNumberGenerator()
        for sourceTag in [true, false] {
            for names in [[], ["matter"], ["author", "channel", "matter", "x-extra"]] {
                let good = leaf(sourceTag: sourceTag, names: names).encoded()
                assertAgree(good)
                for cut in 0..<good.count { assertAgree(Array(good[..<cut])) }
                assertAgree(good + [0])
                for _ in 0..<2000 {
                    var bytes = good
                    for _ in 0..<Int.random(in: 1...3, using: &rng) {
                        let i = Int.random(in: 0..<bytes.count, using: &rng)
                        bytes[i] = [0, 1, 2, 0x2d, 0x61, 0x7a, 0xff, UInt8.random(in: 0...255, using: &rng)]
                            .randomElement(using: &rng)!
                    }
                    assertAgree(bytes)
                }
            }
        }
    }

    func testLeafViewRefusesUnsortedAndBadNames() {
        assertAgree(leaf(sourceTag: true, names: ["b", "a"]).encoded())
        assertAgree(leaf(sourceTag: true, names: ["a", "a"]).encoded())
        assertAgree(leaf(sourceTag: true, names: ["a", "1b"]).encoded())
        assertAgree(leaf(sourceTag: false, names: ["a", String(repeating: "b", count: 65)]).encoded())
    }

    func testFastJSONGivesTheParsersValue() throws {
        let samples = [#""plain text""#, #""""#, #"["a","b c"]"#, "[]", "true", "false", #""with \"escape\"""#,
                       #""tab\there""#, "\"caf\u{e9}\"", #"["a", "b"]"#, #" "lead""#, #""a"b""#, #"["a",]"#, #"["a""#,
                       "[1]", "12", "null", "{}", #""x"#, "tru", "\"\u{7f}\"", #"["a","b"],"#,
                       "0", "-0", "-12", "007", "-007", "123456789012345678", "-123456789012345678",
                       "1234567890123456789", "-", "1.5", "1e3", "12a", "+1", "- 1"]
        for sample in samples {
            let bytes = Array(sample.utf8)
            try bytes.withUnsafeBytes { raw in
                guard let fast = FastJSON.value(raw) else { return }
                XCTAssertEqual(fast, try JSONParser.parse(raw), sample)
            }
        }
        // Canonical integers take the fast path; anything else about a number is left to the parser.
        for integer in ["0", "7", "-12", "123456789012345678", "-123456789012345678"] {
            XCTAssertEqual(Array(integer.utf8).withUnsafeBytes { FastJSON.value($0) }, .integer(Int64(integer)!), integer)
        }
        for other in ["-0", "007", "1234567890123456789", "-", "1.5", "12a", "+1"] {
            XCTAssertNil(Array(other.utf8).withUnsafeBytes { FastJSON.value($0) }, other)
        }
        XCTAssertNotNil(Array(#""abcdefghijklmnopqrstuvwxyz0123456789""#.utf8)
                            .withUnsafeBytes { FastJSON.plainStringBody($0) })
        XCTAssertNil(Array(#""abcdefghijklmno\"pqrstuvwxyz0123456789""#.utf8)
                         .withUnsafeBytes { FastJSON.plainStringBody($0) })
        XCTAssertNil(Array("\"abcdefghijklmnop\u{1}qrstuvwxyz\"".utf8).withUnsafeBytes { FastJSON.plainStringBody($0) })
        XCTAssertNil(Array("\"abcdefghijklmnop\u{e9}qrstuvwxyz\"".utf8)
                         .withUnsafeBytes { FastJSON.plainStringBody($0) })
        let lines = Array(#"["a","","bc"]"#.utf8)
            .withUnsafeBytes { FastJSON.plainStringArrayCount($0, maxItemLength: 1024) }
        XCTAssertEqual(lines?.count, 3)
        XCTAssertEqual(lines?.itemsFit, false)
    }

    func testSplitPayloadAgreesWithDecode() {
        let payload = EntryPayload(seed: Array(0..<16),
                                   values: [Array(#""a""#.utf8), Array(repeating: 0x41, count: 300), []])
        let good = payload.encoded()
        for fieldCount in 0...4 {
            for bytes in [good, Array(good.dropLast()), good + [0], Array(good.prefix(17)),
                          [UInt8](good.prefix(16)) + [0x80, 0x00]] {
                bytes.withUnsafeBytes { raw in
                    var values = [UnsafeRawBufferPointer]()
                    let seed = EntryPayload.split(raw, fieldCount: fieldCount, into: &values)
                    let decoded = try? EntryPayload.decode(raw, fieldCount: fieldCount)
                    XCTAssertEqual(seed != nil, decoded != nil)
                    if let seed, let decoded {
                        XCTAssertEqual(Array(seed), decoded.seed)
                        XCTAssertEqual(values.map { Array($0) }, decoded.values)
                    }
                }
            }
        }
    }
}

extension VerifyTamperTests {
    /// Someone holding the master key re-encrypts entry 3 with one value replaced (and fixes its ciphertext digest):
    /// deep verify names the record problem exactly as the schema words it.
    func testDeepNamesARecordThatDoesNotValidate() throws {
        let cases: [(field: String, value: String, detail: String)] = [
            ("channel", #""carrier-pigeon""#, "the record does not validate: field 'channel': not one of"),
            ("channel", #""phone""#, ""),
            ("direction", #""Inbound""#, "the record does not validate: field 'direction': not one of"),
            ("direction", #""inbound""#, ""),
            ("author", #""""#, "the record does not validate: field 'author': must not be empty"),
            ("summary", #""line\u0001""#,
             "the record does not validate: field 'summary': contains a control character"),
            ("summary", #""tab\tand caf\u00e9""#, ""),
            ("summary", "12", "the record does not validate: field 'summary': must be a string"),
            ("summary", "not json", "field 'summary' is not valid JSON"),
            ("matter", #""M-2026-999""#, "the matter tag does not match the decrypted matter"),
            ("occurredAt", #""2026-13-01T10:00:00+01:00""#,
             "the record does not validate: field 'occurredAt': must be an RFC 3339 timestamp"),
            ("occurredAt", #""2026-03-01 10:00:00+01:00""#,
             "the record does not validate: field 'occurredAt': must be an RFC 3339 timestamp"),
            ("occurredAt", #""2026-03-01T10:00:00\u002b01:00""#, ""),
            ("occurredAt", #""2026-02-28T23:59:60.5Z""#, ""),
        ]
        for (field, value, detail) in cases {
            let f = try makeLedger(checkpointsAt: [])
            let ledger = try f.open()
            let ring = try ledger.requireKeys()
            let ledgerID = ledger.ledgerID
            let key = try ledger.store.environment.read { txn in
                try ledger.matterKey(id: try Leaf.decode(Array(try XCTUnwrap(txn.storedEntry(ledger.store, 3)).leaf)).keyID,
                                     ring: ring, txn: txn)
            }
            ledger.close()
            try f.edit { raw, txn in
                try reseal(raw, txn, seq: 3, key: key, ledgerID: ledgerID, field: field, value: Array(value.utf8))
            }
            let deep = try f.verify(VerifyOptions(deep: true), unlocked: true)
            let found = deep.violations.filter { $0.seq == 3 && ($0.kind == .recordSchema || $0.kind == .tagMismatch) }
            if detail.isEmpty {
                XCTAssertTrue(found.isEmpty, "\(field) = \(value): \(found)")
            } else {
                XCTAssertEqual(found.count, 1, "\(field) = \(value): \(deep.violations)")
                XCTAssertTrue(found.first?.detail.hasPrefix(detail) ?? false, "\(field) = \(value): \(found)")
            }
            XCTAssertTrue(deep.violations.contains { $0.kind == .disclosureDigest && $0.seq == 3 })
            XCTAssertFalse(deep.violations.contains { $0.kind == .decryption || $0.kind == .ciphertextDigest })
        }
    }

    private func reseal(_ raw: RawLedger, _ txn: WriteTransaction, seq: UInt64, key: SecretBytes, ledgerID: [UInt8],
                        field: String, value: [UInt8]) throws {
        let stored = try txn.entry(raw, seq)
        let length = Int(stored[0]) << 8 | Int(stored[1])
        var leaf = try Leaf.decode(Array(stored[2..<(2 + length)]))
        let ad = EntryAssociatedData.bytes(version: leaf.version, ledgerID: ledgerID, seq: seq, keyID: leaf.keyID)
        let plaintext = try XChaCha20Poly1305.open(Array(stored[(2 + length)...]), associatedData: ad,
                                                   nonce: leaf.nonce, key: key)
        var payload = try plaintext.withUnsafeBytes { try EntryPayload.decode($0, fieldCount: leaf.fieldNames.count) }
        var values = payload.values
        values[try XCTUnwrap(leaf.fieldNames.firstIndex(of: field))] = value
        payload = EntryPayload(seed: payload.seed, values: values)
        let ciphertext = XChaCha20Poly1305.seal(payload.encoded(), associatedData: ad, nonce: leaf.nonce, key: key)
        leaf.ciphertextHash = Hash.sha256(ciphertext)
        try txn.setEntry(raw, seq, StoredEntry.encode(leaf: leaf.encoded(), ciphertext: ciphertext))
    }
}

extension VerifyTamperTests {
    /// The fold reads stored tree hashes with one cursor: a missing hash in the middle is named at its entry,
    /// and a row under a key that is not 8 bytes is passed over (and counted as an extra row).
    func testMissingAndMalformedTreeRowsWithTheTreeCursor() throws {
        let f = try makeLedger(checkpointsAt: [])
        let missing = storedHashIndex(level: 1, n: 3)  // made by entry 7
        try f.edit { raw, txn in
            XCTAssertTrue(try txn.delete(raw.tree, key: UInt64(missing).bigEndianBytes))
            try txn.put(raw.tree, key: UInt64(5).bigEndianBytes + [0], value: [UInt8](repeating: 7, count: 32))
            try txn.put(raw.tree, key: [0, 0, 0, 0, 0, 0, 9], value: [UInt8](repeating: 7, count: 32))
        }
        let report = try f.verify()
        let tree = report.violations.filter { $0.kind == .treeHash }
        XCTAssertEqual(tree.filter { $0.seq != nil }.map(\.seq), [7], "\(tree)")
        XCTAssertTrue(tree.contains { $0.seq == 7 && $0.detail.contains("stored tree hash \(missing) is missing") },
                      "\(tree)")
        XCTAssertTrue(tree.contains { $0.seq == nil }, "the row count differs: \(tree)")
    }
}
