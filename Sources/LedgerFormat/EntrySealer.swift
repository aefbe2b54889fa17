import MerkleLog
import Sodium

/// Seals one record straight into its stored value (docs/FORMAT.md, "Stored entry v1"):
/// `u16 leaf length || leaf || ciphertext`, with the leaf's recordedAt and previous hash zero (the sequential
/// link step fills them in). The payload (FORMAT.md, "Payload v1") is written where the ciphertext goes and
/// encrypted in place, the disclosure digests are framed for the fields digest in a stack buffer, and the leaf is
/// written last into the space before it: one allocation per record, no plaintext copy left behind, nothing copied twice.
///
/// The bytes are exactly those of `EntryPayload.seal` + `XChaCha20Poly1305.seal` + `Leaf.encoded` +
/// `StoredEntry.encode` for the same seed and nonce (a test holds the two paths to each other).
package struct EntrySealer {
    package let version: UInt8
    package let ledgerID: [UInt8]
    /// The record's disclosures, built and hashed together (its salts stay in this scratch, zeroed when it goes,
    /// as in deep verify): one sealer per worker.
    private let disclosures = DisclosureBatch()

    package init(version: UInt8 = Leaf.currentVersion, ledgerID: [UInt8]) {
        precondition(ledgerID.count == Leaf.ledgerIDByteCount, "a ledger id is 16 bytes")
        self.version = version
        self.ledgerID = ledgerID
    }

    /// The stored value of `record` at `seq` under `key` (id `keyID`), with salt seed `seed` (16 bytes) and AEAD
    /// nonce `nonce` (24 bytes), and the leaf's length in it.
    package func seal(_ record: borrowing ValidatedRecord, seq: UInt64, matterTag: Hash, sourceTag: Hash?, keyID: UInt32,
                      key: SecretBytes, seed: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer)
        -> (value: [UInt8], leafLength: Int) {
        precondition(seed.count == EntryPayload.seedByteCount && nonce.count == Leaf.nonceByteCount)
        let names = record.names
        let leafLength = Leaf.encodedLength(ledgerIDCount: ledgerID.count, hasSourceTag: sourceTag != nil,
                                            nonceCount: nonce.count, fieldNames: names)
        var payloadLength = seed.count
        for index in names.indices {
            let length = record.valueRange(index).count
            payloadLength += Self.varintLength(UInt64(length)) + length
        }
        let total = 2 + leafLength + payloadLength + XChaCha20Poly1305.tagByteCount
        // What the fields digest hashes (u8 name length || name || field digest, per field): at most 98 bytes a field.
        let fieldsLength = names.reduce(0) { $0 + 1 + $1.utf8.count + Hash.byteCount }
        let value = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            let out = UnsafeMutableRawBufferPointer(buffer)
            let payload = UnsafeMutableRawBufferPointer(rebasing: out[(2 + leafLength)..<(2 + leafLength + payloadLength)])
            writePayload(record, seed: seed, into: payload)
            let ciphertext = UnsafeMutableRawBufferPointer(rebasing: out[(2 + leafLength)...])
            let (fieldsDigest, ciphertextHash) = withUnsafeTemporaryAllocation(byteCount: fieldsLength,
                                                                              alignment: 1) { fields in
                writeFieldDigests(record, seed: seed, into: fields)
                withAssociatedData(seq: seq, keyID: keyID) { ad in
                    XChaCha20Poly1305.seal(UnsafeRawBufferPointer(payload), associatedData: ad, nonce: nonce, key: key,
                                           into: ciphertext)  // in place: the plaintext is overwritten
                }
                return SHA256Hasher.hash(UnsafeRawBufferPointer(fields), UnsafeRawBufferPointer(ciphertext))
            }
            var w = RawWriter(out)
            w.u16(UInt16(leafLength))
            // recordedAt and the previous record hash stay zero: the link step sets them.
            ledgerID.withUnsafeBytes { ledgerID in
                Leaf.write(version: version, ledgerID: ledgerID, seq: seq, recordedAt: 0, previousHash: .zero,
                           matterTag: matterTag, sourceTag: sourceTag, keyID: keyID, nonce: nonce,
                           ciphertextHash: ciphertextHash, fieldsDigest: fieldsDigest, fieldNames: names, to: &w)
            }
            precondition(w.offset == 2 + leafLength, "leaf length mismatch")
            count = total
        }
        return (value, leafLength)
    }

    /// Writes payload v1 (seed, then each value with its LEB128 length) into `payload`.
    private func writePayload(_ record: ValidatedRecord, seed: UnsafeRawBufferPointer,
                              into payload: UnsafeMutableRawBufferPointer) {
        var w = RawWriter(payload)
        w.raw(seed)
        record.valueBytes.withUnsafeBytes { all in
            for index in record.names.indices {
                let value = UnsafeRawBufferPointer(rebasing: all[record.valueRange(index)])
                w.varint(UInt64(value.count))
                w.raw(value)
            }
        }
        precondition(w.offset == payload.count, "payload length mismatch")
    }

    /// Writes what the fields digest hashes (FORMAT.md: u8 name length || name || field digest, in leaf order) into
    /// `fields`, the disclosures built and hashed together (`DisclosureBatch.writeFieldFrames`, as deep verify does).
    private func writeFieldDigests(_ record: borrowing ValidatedRecord, seed: UnsafeRawBufferPointer,
                                   into fields: UnsafeMutableRawBufferPointer) {
        let names = record.names
        var w = RawWriter(fields)
        record.valueBytes.withUnsafeBytes { all in
            disclosures.writeFieldFrames(seed: seed, fieldCount: names.count, forEachField: { body in
                for index in names.indices {
                    var name = names[index]
                    name.withUTF8 {
                        body(index, UnsafeRawBufferPointer($0), UnsafeRawBufferPointer(rebasing: all[record.valueRange(index)]))
                    }
                }
            }, to: &w)
        }
        precondition(w.offset == fields.count, "fields digest input length mismatch")
    }

    /// The associated data (EntryAssociatedData), on the stack.
    private func withAssociatedData<R>(seq: UInt64, keyID: UInt32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let label = version == 2 ? Self.labelV2 : EntryAssociatedData.label(version: version)
        return withUnsafeTemporaryAllocation(byteCount: EntryAssociatedData.byteCount(label: label, ledgerID: ledgerID),
                                             alignment: 1) { ad in
            var w = RawWriter(ad)
            EntryAssociatedData.write(label: label, ledgerID: ledgerID, seq: seq, keyID: keyID, to: &w)
            return body(UnsafeRawBufferPointer(ad))
        }
    }

    private static let labelV2 = EntryAssociatedData.label(version: 2)

    private static func varintLength(_ value: UInt64) -> Int {
        var length = 1, x = value
        while x >= 0x80 { x >>= 7; length += 1 }
        return length
    }
}
