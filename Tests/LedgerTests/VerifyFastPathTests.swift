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

    /// A leaf read with a memo of field lists (`LeafShapes`, as verify's workers read them) has the verdict and
    /// fields of one read without: lists already kept are found, not checked again, and must be the same bytes.
    func testLeafViewWithShapesAgreesWithoutThem() {
        let shapes = LeafShapes()
        var rng = SystemRandomNumberGenerator()
        for names in [["author", "channel", "matter", "x-extra"], ["matter"], ["a", "b"]] {
            let good = leaf(sourceTag: true, names: names).encoded()
            for round in 0..<3000 {
                var bytes = good
                if round > 0 {   // the first round reads the list as written, so it is kept
                    let i = Int.random(in: (bytes.count - 40)..<bytes.count, using: &rng)   // mostly the name list
                    bytes[i] = [0, 0x2d, 0x61, 0x62, 0x7a, 0xff, UInt8.random(in: 0...255, using: &rng)]
                        .randomElement(using: &rng)!
                }
                bytes.withUnsafeBytes { raw in
                    let plain = LeafView(raw), memo = LeafView(raw, shapes: shapes)
                    XCTAssertEqual(plain != nil, memo != nil, "verdicts differ on \(bytes)")
                    guard let plain, let memo else { return }
                    XCTAssertEqual(Array(plain.nameList), Array(memo.nameList))
                    XCTAssertEqual(plain.fieldCount, memo.fieldCount)
                    if let shape = memo.shape {   // the kept list is this leaf's, byte for byte
                        XCTAssertEqual(LeafView(raw, shapes: shapes)?.shape, shape)
                        XCTAssertEqual(shape.owner, ObjectIdentifier(shapes))
                    }
                }
            }
        }
        XCTAssertNotNil(good(["author"]).withUnsafeBytes { LeafView($0, shapes: shapes) })
    }

    private func good(_ names: [String]) -> [UInt8] { leaf(sourceTag: false, names: names).encoded() }

    /// Past its capacity the memo keeps no more lists: leaves are still read (and checked) in full.
    func testLeafShapesAreBounded() {
        let shapes = LeafShapes()
        for n in 0..<(LeafShapes.capacity + 5) {
            let view = good(["f\(n)"]).withUnsafeBytes { LeafView($0, shapes: shapes) }
            XCTAssertNotNil(view)
            XCTAssertEqual(view?.shape?.index, n < LeafShapes.capacity ? n : nil)
        }
        XCTAssertNil(leaf(sourceTag: false, names: ["b", "a"]).encoded().withUnsafeBytes { LeafView($0, shapes: shapes) })
        XCTAssertEqual(good(["f3"]).withUnsafeBytes { LeafView($0, shapes: shapes)?.shape?.index }, 3)
    }

    /// The quick schema check with a field list's plan (kept in `LeafShapes`) gives what it gives without one, for
    /// valid records and for each value swapped for a wrong, odd or escaped one, and for lists that fail (unknown
    /// name, required field missing).
    func testPlannedQuickCheckAgreesWithUnplanned() {
        let record: [(String, String)] = [
            ("author", #""b.lindqvist""#), ("channel", #""letter""#), ("decisions", #""Proceed.""#),
            ("direction", #""outbound""#), ("followUpDue", #""2024-01-08""#), ("kind", #""advice""#),
            ("matter", #""M-2026-0061""#), ("occurredAt", #""2024-01-01T08:00:00+01:00""#),
            ("recipients", #"["client61@example.com"]"#), ("sourceId", #""comm-0""#), ("sourceSystem", #""pms""#),
            ("subject", #""Matter 61""#), ("tags", #"["litigation","priority"]"#), ("x-note", #"{"a":1}"#),
        ]
        let odd = [#""""#, #""carrier-pigeon""#, "12", "true", "not json", #""tab\tand caf\u00e9""#, #"["a",""]"#,
                   #""2026-13-01T10:00:00+01:00""#, #""line\u0001""#, "[]", #"{"x":"y"}"#, #""M-\"1\"""#]
        let shapes = LeafShapes()
        var passed = 0
        func compare(_ fields: [(String, String)], _ label: String) {
            let names = fields.map(\.0)
            let leafBytes = leaf(sourceTag: true, names: names).encoded()
            let values = fields.map { Array($0.1.utf8) }
            leafBytes.withUnsafeBytes { raw in
                guard let plain = LeafView(raw), let memo = LeafView(raw, shapes: shapes) else {
                    return XCTFail("leaf of \(label) does not read")
                }
                withViews(values) { views in
                    let a = RecordSchema.quickCheck(plain, values: views)
                    let b = RecordSchema.quickCheck(memo, values: views, shapes: shapes)
                    XCTAssertEqual(a == nil, b == nil, label)
                    if a != nil { passed += 1 }
                    XCTAssertEqual(a?.matter, b?.matter, label)
                    XCTAssertEqual(a?.sourceSystem, b?.sourceSystem, label)
                    XCTAssertEqual(a?.sourceId, b?.sourceId, label)
                }
            }
        }
        compare(record, "the record")
        XCTAssertEqual(passed, 1, "the record itself passes")
        for index in record.indices {
            for value in odd {
                var fields = record
                fields[index].1 = value
                compare(fields, "\(record[index].0) = \(value)")
            }
        }
        XCTAssertNotNil(withViews(record.map { Array($0.1.utf8) }) { views in
            leaf(sourceTag: true, names: record.map(\.0)).encoded().withUnsafeBytes { raw in
                RecordSchema.quickCheck(LeafView(raw, shapes: shapes)!, values: views, shapes: shapes)?.matter
            }
        })
        // A leaf read with another memo is never checked with this memo's plans (its index would name another list).
        let other = LeafShapes()
        _ = leaf(sourceTag: true, names: ["zzz"]).encoded().withUnsafeBytes { LeafView($0, shapes: other) }
        let otherLeaf = leaf(sourceTag: true, names: record.map(\.0)).encoded()
        XCTAssertNotNil(withViews(record.map { Array($0.1.utf8) }) { views in
            otherLeaf.withUnsafeBytes { raw -> JSONValue? in
                let view = LeafView(raw, shapes: other)!
                XCTAssertEqual(view.shape?.index, 1)
                return RecordSchema.quickCheck(view, values: views, shapes: shapes)?.matter
            }
        })
        compare(record.filter { $0.0 != "matter" }, "no matter")
        compare(record + [("zzz", #""unknown""#)], "an unknown field")
        XCTAssertGreaterThan(passed, 10, "odd values that are still valid pass both ways")
    }

    private func withViews<R>(_ values: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) -> R) -> R {
        let buffers = values.map { value -> UnsafeMutableRawBufferPointer in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, value.count), alignment: 1)
            buffer.copyBytes(from: value)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        return body(zip(buffers, values).map { UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer($0.0)[..<$0.1.count]) })
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

/// The vector scans for the end of a plain string (CTextScan: AVX-512BW with a masked last load, AVX2) against the
/// eight-bytes-at-a-time Swift scan, for strings of every length up to 200 with a stopping byte (or none) at every
/// position, every start, and buffers that end inside the string.
final class PlainStringScanTests: XCTestCase {
    override func tearDown() { FastJSON.limitScanKernel(2) }

    func testEveryKernelAgreesWithTheSWARScan() {
        FastJSON.limitScanKernel(2)
        let best = FastJSON.scanKernel
        let stops: [UInt8] = [0x22, 0x5c, 0x00, 0x1f, 0x7f, 0x80, 0xe9, 0xff]
        for kernel in (0...best).reversed() {
            FastJSON.limitScanKernel(kernel)
            XCTAssertEqual(FastJSON.scanKernel, kernel)
            var checked = 0
            for length in 0...200 {
                let body: [UInt8] = (0..<length).map { i -> UInt8 in
                    let c = UInt8(0x20 + (i * 7) % 95)
                    return c == 0x22 || c == 0x5c ? 0x41 : c
                }
                let quote: [UInt8] = [0x22]
                var cases: [[UInt8]] = [quote + body + quote, quote + body, quote + body + [0x22, 0x2c, 0x22]]
                for position in stride(from: 0, to: length, by: max(1, length / 9)) {
                    for stop in stops {
                        var bytes: [UInt8] = quote + body + quote
                        bytes[1 + position] = stop
                        cases.append(bytes)
                    }
                }
                for bytes in cases {
                    bytes.withUnsafeBytes { raw in
                        for start in [0, 1] where start < raw.count {
                            XCTAssertEqual(FastJSON.plainStringEnd(raw, at: start),
                                           FastJSON.plainStringEndSWAR(raw, at: start),
                                           "kernel \(kernel), \(bytes), start \(start)")
                            checked += 1
                        }
                        // The same buffer cut short inside the string: no byte past the cut may decide.
                        let cut = UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count / 2 + 1)])
                        XCTAssertEqual(FastJSON.plainStringEnd(cut, at: 0), FastJSON.plainStringEndSWAR(cut, at: 0),
                                       "kernel \(kernel), cut \(bytes)")
                    }
                }
            }
            XCTAssertGreaterThan(checked, 10_000)
        }
    }
}
