/// The plaintext that is encrypted for one entry (docs/FORMAT.md, "Payload v1"): for each leaf field,
/// in the leaf's order, `u8[16] salt || LEB128 length || canonical JSON value bytes`. No count and no
/// names: both come from the leaf, which binds every part through its field digests.
enum EntryPayload {
    enum Failure: Error, Equatable {
        case malformed(field: Int)
        case trailingBytes(Int)
    }

    static func encode(_ disclosures: [Disclosure]) -> [UInt8] {
        var w = ByteWriter(capacity: disclosures.reduce(0) { $0 + $1.value.count + 20 })
        for d in disclosures {
            w.raw(d.salt)
            w.varint(UInt64(d.value.count))
            w.raw(d.value)
        }
        return w.bytes
    }

    /// Splits a decrypted payload back into disclosures, given the field names from the leaf.
    static func decode(_ plaintext: UnsafeRawBufferPointer, names: [String]) throws -> [Disclosure] {
        var r = ByteReader(plaintext)
        var out = [Disclosure]()
        out.reserveCapacity(names.count)
        for (index, name) in names.enumerated() {
            do {
                let salt = try r.bytes(Disclosure.saltByteCount)
                let length = try r.varint()
                guard length <= UInt64(r.remaining) else { throw Failure.malformed(field: index) }
                let value = try r.bytes(Int(length))
                out.append(Disclosure(salt: salt, name: name, value: value))
            } catch is ByteReader.Failure {
                throw Failure.malformed(field: index)
            }
        }
        guard r.isAtEnd else { throw Failure.trailingBytes(r.remaining) }
        return out
    }
}

/// Associated data of an entry's AEAD (docs/FORMAT.md): binds the ciphertext to its ledger, position and key,
/// so a ciphertext moved to another seq or ledger, or relabelled with another key, fails to open.
enum EntryAssociatedData {
    static let label = Array("client-ledger/entry/v1".utf8)

    static func bytes(ledgerID: [UInt8], seq: UInt64, keyID: UInt32) -> [UInt8] {
        var w = ByteWriter(capacity: label.count + 28)
        w.raw(label)
        w.raw(ledgerID)
        w.u64(seq)
        w.u32(keyID)
        return w.bytes
    }
}
