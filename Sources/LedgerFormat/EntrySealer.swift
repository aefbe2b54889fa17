import MerkleLog
import Sodium

/// Seals one record straight into its stored value (docs/FORMAT.md, "Stored entry v1"):
/// `u16 leaf length || leaf || ciphertext`, with the leaf's recordedAt and previous hash zero (the sequential
/// link step fills them in). The payload (FORMAT.md, "Payload v1") is written where the ciphertext goes and
/// encrypted in place, the field digests feed the fields digest as they are made, and the leaf is written last
/// into the space before it: one allocation per record, no plaintext copy left behind, nothing copied twice.
///
/// The bytes are exactly those of `EntryPayload.seal` + `XChaCha20Poly1305.seal` + `Leaf.encoded` +
/// `StoredEntry.encode` for the same seed and nonce (a test holds the two paths to each other).
package struct EntrySealer {
    package let version: UInt8
    package let ledgerID: [UInt8]
    /// The scratch of the second disclosure of each pair (the caller's digester holds the first).
    private let pairDigester = DisclosureDigester()

    package init(version: UInt8 = Leaf.currentVersion, ledgerID: [UInt8]) {
        precondition(ledgerID.count == Leaf.ledgerIDByteCount, "a ledger id is 16 bytes")
        self.version = version
        self.ledgerID = ledgerID
    }

    /// Leaf bytes before the field names: version, ledger id, seq, recordedAt, previous hash, matter tag, flags,
    /// [source tag], key id, nonce, ciphertext hash, fields digest, field count.
    private static func fixedLeafLength(hasSource: Bool) -> Int {
        1 + Leaf.ledgerIDByteCount + 8 + 8 + 32 + 32 + 1 + (hasSource ? 32 : 0) + 4 + Leaf.nonceByteCount + 32 + 32 + 2
    }

    /// The stored value of `record` at `seq` under `key` (id `keyID`), with salt seed `seed` (16 bytes) and AEAD
    /// nonce `nonce` (24 bytes), and the leaf's length in it.
    package func seal(_ record: ValidatedRecord, seq: UInt64, matterTag: Hash, sourceTag: Hash?, keyID: UInt32,
                      key: SecretBytes, seed: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
                      digester: DisclosureDigester) -> (value: [UInt8], leafLength: Int) {
        precondition(seed.count == EntryPayload.seedByteCount && nonce.count == Leaf.nonceByteCount)
        let names = record.names
        var leafLength = Self.fixedLeafLength(hasSource: sourceTag != nil)
        for name in names { leafLength += 1 + name.utf8.count }
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
                writeFieldDigests(record, seed: seed, digester: digester, into: fields)
                withAssociatedData(seq: seq, keyID: keyID) { ad in
                    XChaCha20Poly1305.seal(UnsafeRawBufferPointer(payload), associatedData: ad, nonce: nonce, key: key,
                                           into: ciphertext)  // in place: the plaintext is overwritten
                }
                return SHA256Hasher.hash(UnsafeRawBufferPointer(fields), UnsafeRawBufferPointer(ciphertext))
            }
            var w = RawWriter(out)
            w.u16(UInt16(leafLength))
            writeLeaf(names: names, seq: seq, matterTag: matterTag, sourceTag: sourceTag, keyID: keyID, nonce: nonce,
                      ciphertextHash: ciphertextHash, fieldsDigest: fieldsDigest, to: &w)
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
    /// `fields`. The disclosures are hashed two at a time (`SHA256Hasher.hash(_:_:)`: with the SHA extensions, two
    /// messages' blocks interleaved at about twice the throughput), in field order.
    private func writeFieldDigests(_ record: ValidatedRecord, seed: UnsafeRawBufferPointer, digester: DisclosureDigester,
                                   into fields: UnsafeMutableRawBufferPointer) {
        let salts = SaltDeriver(seed: seed, count: record.names.count)
        var w = RawWriter(fields)
        let names = record.names
        record.valueBytes.withUnsafeBytes { all in
            func text(_ index: Int, _ digester: DisclosureDigester) -> UnsafeRawBufferPointer {
                var name = names[index]
                return name.withUTF8 { name in
                    salts.withSalt(index: index) { salt in
                        digester.disclosureText(salt: salt, name: UnsafeRawBufferPointer(name),
                                                value: UnsafeRawBufferPointer(rebasing: all[record.valueRange(index)]))
                    }
                }
            }
            func put(_ index: Int, _ digest: Hash) {
                var name = names[index]
                w.u8(UInt8(name.utf8.count))
                name.withUTF8 { w.raw(UnsafeRawBufferPointer($0)) }
                digest.withUnsafeBytes { w.raw($0) }
            }
            var index = 0
            while index + 1 < names.count {
                let (first, second) = SHA256Hasher.hash(text(index, digester), text(index + 1, pairDigester))
                put(index, first)
                put(index + 1, second)
                index += 2
            }
            if index < names.count { put(index, Hash.sha256(text(index, digester))) }
        }
        precondition(w.offset == fields.count, "fields digest input length mismatch")
    }

    private func writeLeaf(names: [String], seq: UInt64, matterTag: Hash, sourceTag: Hash?, keyID: UInt32,
                           nonce: UnsafeRawBufferPointer, ciphertextHash: Hash, fieldsDigest: Hash,
                           to w: inout RawWriter) {
        w.u8(version)
        ledgerID.withUnsafeBytes { w.raw($0) }
        w.u64(seq)
        w.u64(0)                        // recordedAt: set by the link step
        Hash.zero.withUnsafeBytes { w.raw($0) }  // previous record hash: set by the link step
        matterTag.withUnsafeBytes { w.raw($0) }
        w.u8(sourceTag == nil ? 0 : 1)
        sourceTag?.withUnsafeBytes { w.raw($0) }
        w.u32(keyID)
        w.raw(nonce)
        ciphertextHash.withUnsafeBytes { w.raw($0) }
        fieldsDigest.withUnsafeBytes { w.raw($0) }
        w.u16(UInt16(names.count))
        for var name in names {
            w.u8(UInt8(name.utf8.count))
            name.withUTF8 { w.raw(UnsafeRawBufferPointer($0)) }
        }
    }

    /// `client-ledger/entry/vN || ledger id || u64 seq || u32 key id` (EntryAssociatedData), on the stack.
    private func withAssociatedData<R>(seq: UInt64, keyID: UInt32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let label = version == 2 ? Self.labelV2 : EntryAssociatedData.label(version: version)
        return withUnsafeTemporaryAllocation(byteCount: label.count + Leaf.ledgerIDByteCount + 12, alignment: 1) { ad in
            var w = RawWriter(ad)
            label.withUnsafeBytes { w.raw($0) }
            ledgerID.withUnsafeBytes { w.raw($0) }
            w.u64(seq)
            w.u32(keyID)
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

/// Writes big-endian integers and bytes into a buffer of known size, advancing `offset` (bounds-checked).
struct RawWriter {
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func u8(_ v: UInt8) {
        precondition(offset < buffer.count, "RawWriter overflow")
        buffer[offset] = v
        offset += 1
    }

    mutating func u16(_ v: UInt16) { bigEndian(v) }
    mutating func u32(_ v: UInt32) { bigEndian(v) }
    mutating func u64(_ v: UInt64) { bigEndian(v) }

    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        precondition(offset + bytes.count <= buffer.count, "RawWriter overflow")
        if let base = bytes.baseAddress { (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count) }
        offset += bytes.count
    }

    /// Unsigned LEB128 (shortest form), as ByteWriter.varint.
    mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            u8(UInt8(truncatingIfNeeded: x) | 0x80)
            x >>= 7
        }
        u8(UInt8(x))
    }

    private mutating func bigEndian<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.bigEndian) { raw($0) }
    }
}
