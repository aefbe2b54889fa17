import MerkleLog
import Sodium

/// The plaintext that is encrypted for one entry (docs/FORMAT.md, "Payload v1"):
///
///     u8[16]  salt seed
///     repeat  LEB128 length || canonical JSON value bytes   — one per leaf field, in the leaf's order
///
/// No names and no count: both come from the leaf, which binds every part through its fields digest.
/// Each field's salt is derived from the seed (`Disclosure.salt(seed:index:)`), so a record stores
/// 16 bytes of salt material instead of 16 per field.
package struct EntryPayload {
    package static let seedByteCount = 16

    package enum Failure: Error, Equatable {
        case malformed(field: Int)
        case trailingBytes(Int)
    }

    package let seed: [UInt8]
    package let values: [[UInt8]]

    package init(seed: [UInt8], values: [[UInt8]]) {
        self.seed = seed
        self.values = values
    }

    package func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: values.reduce(Self.seedByteCount) { $0 + $1.count + 3 })
        w.raw(seed)
        for value in values {
            w.varint(UInt64(value.count))
            w.raw(value)
        }
        return w.bytes
    }

    /// Splits a decrypted payload into views of its seed and values, by the rules of `decode` (its fast twin:
    /// no copies, for deep verify); nil where `decode` throws.
    package static func split(_ plaintext: UnsafeRawBufferPointer, fieldCount: Int,
                              into values: inout [UnsafeRawBufferPointer]) -> UnsafeRawBufferPointer? {
        values.removeAll(keepingCapacity: true)
        var r = ByteReader(plaintext)
        guard let seed = try? r.take(seedByteCount) else { return nil }
        for _ in 0..<fieldCount {
            guard let length = try? r.varint(), length <= UInt64(r.remaining),
                  let value = try? r.take(Int(length)) else { return nil }
            values.append(value)
        }
        return r.isAtEnd ? seed : nil
    }

    /// Splits a decrypted payload back into its seed and values, given the number of leaf fields.
    package static func decode(_ plaintext: UnsafeRawBufferPointer, fieldCount: Int) throws -> EntryPayload {
        var r = ByteReader(plaintext)
        guard let seed = try? r.bytes(seedByteCount) else { throw Failure.malformed(field: 0) }
        var values = [[UInt8]]()
        values.reserveCapacity(fieldCount)
        for index in 0..<fieldCount {
            do {
                let length = try r.varint()
                guard length <= UInt64(r.remaining) else { throw Failure.malformed(field: index) }
                values.append(try r.bytes(Int(length)))
            } catch is ByteReader.Failure {
                throw Failure.malformed(field: index)
            }
        }
        guard r.isAtEnd else { throw Failure.trailingBytes(r.remaining) }
        return EntryPayload(seed: seed, values: values)
    }

    /// The disclosures of this payload, given the leaf's field names.
    package func disclosures(names: [String]) -> [Disclosure] {
        let salts = SaltDeriver(seed: seed, count: names.count)
        return zip(names, values).enumerated().map { index, field in
            Disclosure(salt: salts.withSalt(index: index) { Array($0) }, name: field.0, value: field.1)
        }
    }

    /// The field digests of this payload without materialising disclosures (verify hot path).
    package func digests(names: [String]) -> [Hash] {
        let salts = SaltDeriver(seed: seed, count: names.count)
        let digester = DisclosureDigester()
        return zip(names, values).enumerated().map { index, field in
            salts.withSalt(index: index) { salt in
                field.1.withUnsafeBytes { digester.digest(salt: salt, name: field.0, value: $0) }
            }
        }
    }

    /// Encodes the payload of a validated record with `seed`, and returns its field digests (import hot path).
    package static func seal(_ record: ValidatedRecord, seed: [UInt8],
                     digester: DisclosureDigester = DisclosureDigester()) -> (plaintext: [UInt8], digests: [Hash]) {
        var w = ByteWriter(capacity: record.valueBytes.count + seedByteCount + 3 * record.names.count)
        w.raw(seed)
        let salts = SaltDeriver(seed: seed, count: record.names.count)
        var digests = [Hash]()
        digests.reserveCapacity(record.names.count)
        record.valueBytes.withUnsafeBytes { all in
            for (index, name) in record.names.enumerated() {
                let value = UnsafeRawBufferPointer(rebasing: all[record.valueRange(index)])
                w.varint(UInt64(value.count))
                w.raw(value)
                digests.append(salts.withSalt(index: index) { digester.digest(salt: $0, name: name, value: value) })
            }
        }
        return (w.bytes, digests)
    }
}

/// Associated data of an entry's AEAD (docs/FORMAT.md): binds the ciphertext to its ledger, position and key,
/// so a ciphertext moved to another seq or ledger, or relabelled with another key, fails to open.
package enum EntryAssociatedData {
    /// `client-ledger/entry/v1` or `/v2`, after the leaf version: a v1 ciphertext relabelled as v2 fails to open.
    package static func label(version: UInt8) -> [UInt8] {
        Array("client-ledger/entry/v\(version)".utf8)
    }

    package static func bytes(version: UInt8, ledgerID: [UInt8], seq: UInt64, keyID: UInt32) -> [UInt8] {
        let label = label(version: version)
        let count = byteCount(label: label, ledgerID: ledgerID)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, written in
            var w = RawWriter(UnsafeMutableRawBufferPointer(buffer))
            write(label: label, ledgerID: ledgerID, seq: seq, keyID: keyID, to: &w)
            written = count
        }
    }

    package static func byteCount(label: [UInt8], ledgerID: [UInt8]) -> Int { label.count + ledgerID.count + 12 }

    /// `label || ledger id || u64 seq || u32 key id`; the import's sealer writes it on the stack.
    package static func write(label: [UInt8], ledgerID: [UInt8], seq: UInt64, keyID: UInt32, to w: inout RawWriter) {
        label.withUnsafeBytes { w.raw($0) }
        ledgerID.withUnsafeBytes { w.raw($0) }
        w.u64(seq)
        w.u32(keyID)
    }
}

/// The value stored under a seq in the `entries` database (docs/FORMAT.md, "Stored entry v1"):
/// `u16 BE leaf length || leaf || ciphertext` (ciphertext = XChaCha20-Poly1305 output, tag last).
/// Leaf and ciphertext share one value so LMDB packs them together; the leaf commits to the ciphertext's SHA-256.
package enum StoredEntry {
    package enum Failure: Error, Equatable {
        case truncated
    }

    package static func encode(leaf: [UInt8], ciphertext: [UInt8]) -> [UInt8] {
        var w = ByteWriter(capacity: 2 + leaf.count + ciphertext.count)
        w.u16(UInt16(leaf.count))
        w.raw(leaf)
        w.raw(ciphertext)
        return w.bytes
    }

    /// Splits a stored value into views of its leaf and ciphertext (valid as long as `value` is).
    /// Where the leaf starts in a stored value (after its u16 length).
    package static let leafOffset = 2

    package static func split(_ value: UnsafeRawBufferPointer) throws -> (leaf: UnsafeRawBufferPointer,
                                                                          ciphertext: UnsafeRawBufferPointer) {
        guard value.count >= 2 else { throw Failure.truncated }
        let length = Int(value[0]) << 8 | Int(value[1])
        guard value.count >= 2 + length else { throw Failure.truncated }
        return (UnsafeRawBufferPointer(rebasing: value[2..<(2 + length)]),
                UnsafeRawBufferPointer(rebasing: value[(2 + length)...]))
    }
}
