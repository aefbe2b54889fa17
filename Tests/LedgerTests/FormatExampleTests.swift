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

    /// The same record as entry v2 (docs/FORMAT.md, "Worked example, entry v2"): the matter's key pair from a fixed
    /// seed, a fixed batch key (id 2, sealed to pair 1), then an access entry reading it as an event leaf. Sealed
    /// boxes use a fresh ephemeral key each time, so only their layout is fixed, not their bytes.
    static func buildExampleV2() throws -> Example {
        var ex = Example()
        let ring = KeyRing(master: SecretBytes(copying: [UInt8](repeating: 0x11, count: 32)))
        let ledgerID = [UInt8](0x00..<0x10)
        let pair = BoxKeyPair(seed: SecretBytes(copying: [UInt8](repeating: 0x55, count: 32)))
        let batchKey = SecretBytes(copying: [UInt8](repeating: 0x66, count: 32))
        let (pairID, batchID): (UInt32, UInt32) = (1, 2)
        let nonce = [UInt8](repeating: 0x44, count: 24)
        let recordedAt = Timestamp.parseRFC3339("2026-03-02T09:00:00Z")!
        ex.add("v2 master box public key", Hex.encode(ring.box.publicKey))
        ex.add("v2 matter key pair public key", Hex.encode(pair.publicKey))
        let record = try RecordInput.validate(Array((#"{"matter":"M-1","author":"j.doe","channel":"phone","#
            + #""direction":"outbound","occurredAt":"2026-03-02T10:00:00+01:00","#
            + #""summary":"Explained the hearing date.","sourceId":"pms-1"}"#).utf8))
        let tag = ring.matterTag(record.matter)
        let sealedBatch = SealedBox.seal(batchKey, to: pair.publicKey)
        let batchRecord = KeyRecord.batchKey(pairID: pairID, sealed: sealedBatch).encoded()
        ex.add("v2 batch key record head", Hex.encode(batchRecord.prefix(5)) + " (then 80 bytes of sealed box)")
        let names = record.fields.map(\.name)
        let payload = EntryPayload(seed: [UInt8](repeating: 0x33, count: 16), values: record.fields.map(\.value))
        let fieldsDigest = Leaf.fieldsDigest(names: names, digests: payload.disclosures(names: names).map(\.digest))
        let ad = EntryAssociatedData.bytes(version: 2, ledgerID: ledgerID, seq: 0, keyID: batchID)
        ex.add("v2 associated data", Hex.encode(ad))
        let ciphertext = XChaCha20Poly1305.seal(payload.encoded(), associatedData: ad, nonce: nonce, key: batchKey)
        ex.add("v2 ciphertext", Hex.encode(ciphertext))
        let leafBytes = Leaf(version: 2, ledgerID: ledgerID, seq: 0, recordedAt: recordedAt, previousHash: .zero,
                             matterTag: tag, sourceTag: record.sourceKey.map { ring.sourceTag($0) }, keyID: batchID,
                             nonce: nonce, ciphertextHash: Hash.sha256(ciphertext), fieldsDigest: fieldsDigest,
                             fieldNames: names).encoded()
        ex.add("v2 leaf", Hex.encode(leafBytes))
        ex.add("v2 record hash", recordHash(leafBytes).hex)
        let body = AccessEvent.access(.init(credential: "p.jones", command: "show", matters: [tag], allMatters: false,
                                            seqRange: 0...0, reason: "client called")).encoded()
        ex.add("event body", String(decoding: body, as: UTF8.self))
        let eventLeaf = EventLeaf(ledgerID: ledgerID, seq: 1, recordedAt: recordedAt + 300_000_000,
                                  previousHash: recordHash(leafBytes), body: body).encoded()
        ex.add("event leaf", Hex.encode(eventLeaf))
        ex.add("event record hash", recordHash(eventLeaf).hex)
        // what a reader does: the batch key opens from its sealed box with the pair, the entry with the batch key
        let opened = try sealedBatch.withUnsafeBytes { try SealedBox.open($0, with: pair) }
        precondition(opened.constantTimeEquals(batchKey))
        _ = try XChaCha20Poly1305.open(ciphertext, associatedData: ad, nonce: nonce, key: opened)
        return ex
    }

    func testWorkedExampleMatchesFormatDoc() throws {
        for example in [try Self.buildExample(), try Self.buildExampleV2()] {
            try assertDocShows(example)
        }
    }

    private func assertDocShows(_ example: Example) throws {
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
