import Foundation
@testable import Ledger
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium
import XCTest

/// Rebuilds the worked example of docs/FORMAT.md from fixed inputs and checks that every value the
/// document shows is exactly what the code produces (the doc is the reference for third-party verifiers).
final class FormatExampleTests: XCTestCase {
    struct Example {
        var lines: [(String, String)] = []
        mutating func add(_ name: String, _ value: String) { lines.append((name, value)) }
        var text: String { lines.map { "\($0.0): \($0.1)" }.joined(separator: "\n") }
    }

    static func buildExample() throws -> Example {
        var ex = Example()
        let master = SecretBytes(copying: [UInt8](repeating: 0x11, count: 32))
        let ring = KeyRing(master: master)
        let ledgerID = [UInt8](0x00..<0x10)
        let matterKey = SecretBytes(copying: [UInt8](repeating: 0x22, count: 32))
        let keyID: UInt32 = 1
        let seq: UInt64 = 0
        let seed = [UInt8](repeating: 0x33, count: 16)
        let nonce = [UInt8](repeating: 0x44, count: 24)
        let recordedAt = Timestamp.parseRFC3339("2026-03-02T09:00:00Z")!

        let json = #"{"matter":"M-1","author":"j.doe","channel":"phone","direction":"outbound","#
            + #""occurredAt":"2026-03-02T10:00:00+01:00","summary":"Explained the hearing date.","#
            + #""sourceId":"pms-1"}"#
        ex.add("record", json)
        let record = try RecordInput.validate(Array(json.utf8))
        let names = record.fields.map(\.name)
        let payload = EntryPayload(seed: seed, values: record.fields.map(\.value))
        let disclosures = payload.disclosures(names: names)
        for (i, d) in disclosures.enumerated() {
            ex.add("field \(i) name", d.name)
            ex.add("field \(i) salt", Hex.encode(d.salt))
            ex.add("field \(i) disclosure JSON", String(decoding: d.jsonBytes, as: UTF8.self))
            ex.add("field \(i) disclosure", d.encoded)
            ex.add("field \(i) digest", d.digest.hex)
        }
        let fieldsDigest = Leaf.fieldsDigest(names: names, digests: disclosures.map(\.digest))
        ex.add("fields digest", fieldsDigest.hex)
        let plaintext = payload.encoded()
        ex.add("payload", Hex.encode(plaintext))
        let ad = EntryAssociatedData.bytes(version: 1, ledgerID: ledgerID, seq: seq, keyID: keyID)
        ex.add("associated data", Hex.encode(ad))
        let ciphertext = XChaCha20Poly1305.seal(plaintext, associatedData: ad, nonce: nonce, key: matterKey)
        ex.add("ciphertext", Hex.encode(ciphertext))
        let leaf = Leaf(version: 1, ledgerID: ledgerID, seq: seq, recordedAt: recordedAt, previousHash: .zero,
                        matterTag: ring.matterTag(record.matter),
                        sourceTag: record.sourceKey.map { ring.sourceTag($0) },
                        keyID: keyID, nonce: nonce, ciphertextHash: Hash.sha256(ciphertext),
                        fieldsDigest: fieldsDigest, fieldNames: names)
        let leafBytes = leaf.encoded()
        ex.add("leaf", Hex.encode(leafBytes))
        ex.add("record hash", recordHash(leafBytes).hex)
        ex.add("stored entry length", String(StoredEntry.encode(leaf: leafBytes, ciphertext: ciphertext).count))
        return ex
    }

    func testWorkedExampleMatchesFormatDoc() throws {
        let example = try Self.buildExample()
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/FORMAT.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        if ProcessInfo.processInfo.environment["PRINT_FORMAT_EXAMPLE"] != nil { print(example.text) }
        for (name, value) in example.lines {
            XCTAssertTrue(text.contains("\(name): \(value)"), "docs/FORMAT.md does not show `\(name): \(value)`")
        }
    }

    func testWorkedExampleLeafDecodes() throws {
        let example = try Self.buildExample()
        let leafHex = example.lines.first { $0.0 == "leaf" }!.1
        let leaf = try Leaf.decode(Hex.decode(leafHex)!)
        XCTAssertEqual(leaf.seq, 0)
        XCTAssertEqual(leaf.fieldNames,
                       ["author", "channel", "direction", "matter", "occurredAt", "sourceId", "summary"])
        XCTAssertEqual(leaf.encoded(), Hex.decode(leafHex)!)
    }
}
