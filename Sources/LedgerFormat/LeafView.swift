import MerkleLog
import Sodium

/// A leaf read in place (docs/FORMAT.md, "Leaf v1"), without allocating: the verify hot path.
/// It accepts exactly the bytes `Leaf.decode` accepts; when it returns nil, the caller decodes with
/// `Leaf.decode` to report the precise error.
package struct LeafView {
    /// The whole leaf; the views below point into it (valid as long as it is).
    package let bytes: UnsafeRawBufferPointer
    package let seq: UInt64
    package let recordedAt: Int64
    package let previousHash: Hash
    package let matterTag: Hash
    package let sourceTag: Hash?
    package let keyID: UInt32
    package let ciphertextHash: Hash
    package let fieldsDigest: Hash
    package let fieldCount: Int
    /// Where its field list is kept in the `LeafShapes` it was read with, if it is.
    package let shape: LeafShapes.Shape?
    private let nonceOffset: Int
    /// Offset of the field list (`u8 name length || name`, repeated), just after the u16 field count.
    private let namesOffset: Int

    private static let ledgerIDOffset = 1
    private static let flagsOffset = 97
    /// Version, ledger id, seq, recordedAt, previous hash, matter tag, flags.
    private static let fixedHead = 98
    /// Key id, nonce, ciphertext hash, fields digest, field count.
    private static let fixedTail = 4 + Leaf.nonceByteCount + 32 + 32 + 2

    /// `shapes`: the field lists this thread has already checked; a list found there is not checked again (the
    /// same bytes), and a new one that passes is kept.
    package init?(_ bytes: UnsafeRawBufferPointer, shapes: LeafShapes? = nil) {
        guard bytes.count >= Self.fixedHead, Leaf.recordVersions.contains(bytes[0]) else { return nil }
        let flags = bytes[Self.flagsOffset]
        guard flags & ~1 == 0 else { return nil }
        var o = Self.fixedHead
        if flags & 1 == 1 {
            guard bytes.count >= o + 32 else { return nil }
            sourceTag = Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[o...]))
            o += 32
        } else {
            sourceTag = nil
        }
        guard bytes.count >= o + Self.fixedTail else { return nil }
        self.bytes = bytes
        seq = Self.u64(bytes, 17)
        recordedAt = Int64(bitPattern: Self.u64(bytes, 25))
        previousHash = Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[33...]))
        matterTag = Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[65...]))
        keyID = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self))
        nonceOffset = o + 4
        o = nonceOffset + Leaf.nonceByteCount
        ciphertextHash = Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[o...]))
        fieldsDigest = Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: bytes[(o + 32)...]))
        o += 64
        fieldCount = Int(bytes[o]) << 8 | Int(bytes[o + 1])
        namesOffset = o + 2
        let list = UnsafeRawBufferPointer(rebasing: bytes[o...])   // the count and the names, to the end
        if let shapes, let known = shapes.index(of: list) {
            shape = LeafShapes.Shape(index: known, owner: ObjectIdentifier(shapes))
        } else {
            guard Self.namesAreValid(bytes, from: namesOffset, count: fieldCount) else { return nil }
            shape = shapes.flatMap { shapes in
                shapes.insert(list).map { LeafShapes.Shape(index: $0, owner: ObjectIdentifier(shapes)) }
            }
        }
    }

    /// 1 or 2 (`Leaf.recordVersions`): which kind of key `keyID` names.
    package var version: UInt8 { bytes[0] }

    package var ledgerID: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Self.ledgerIDOffset..<(Self.ledgerIDOffset + Leaf.ledgerIDByteCount)])
    }

    package var nonce: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[nonceOffset..<(nonceOffset + Leaf.nonceByteCount)])
    }

    /// The field list exactly as the fields digest frames it: `u8 name length || name`, in leaf order.
    package var nameList: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[namesOffset...])
    }

    /// Calls `body` with each field's index and name bytes, in leaf order.
    package func forEachName(_ body: (Int, UnsafeRawBufferPointer) throws -> Void) rethrows {
        var o = namesOffset
        for index in 0..<fieldCount {
            let length = Int(bytes[o])
            try body(index, UnsafeRawBufferPointer(rebasing: bytes[(o + 1)..<(o + 1 + length)]))
            o += 1 + length
        }
    }

    /// Every name is valid and strictly above the one before, and the list ends exactly at the leaf's end.
    private static func namesAreValid(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) -> Bool {
        var o = start
        var previous: UnsafeRawBufferPointer? = nil
        for _ in 0..<count {
            guard o < bytes.count else { return false }
            let length = Int(bytes[o])
            guard o + 1 + length <= bytes.count else { return false }
            let name = UnsafeRawBufferPointer(rebasing: bytes[(o + 1)..<(o + 1 + length)])
            guard FieldName.isValid(name) else { return false }
            if let prior = previous, !FieldName.strictlyAscending(prior, name) { return false }
            previous = name
            o += 1 + length
        }
        return o == bytes.count
    }

    private static func u64(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}

extension LeafView {
    /// The fields digest recomputed from a decrypted payload's seed and values (`Leaf.FieldsHasher`): each field's
    /// salt derived from the seed, all disclosure digests computed together in `batch`, then
    /// SHA-256(for each field: u8 name length || name || digest) over one buffer. Deep verify compares it with
    /// the stored `fieldsDigest`.
    package func fieldsDigest(seed: UnsafeRawBufferPointer, values: [UnsafeRawBufferPointer],
                              batch: DisclosureBatch) -> Hash {
        withUnsafeTemporaryAllocation(byteCount: fieldFramesByteCount, alignment: 1) { framed in
            writeFieldFrames(seed: seed, values: values, batch: batch, into: framed)
            return Hash.sha256(UnsafeRawBufferPointer(framed))
        }
    }

    /// Bytes of the frames the fields digest hashes: the name list and a digest per field.
    package var fieldFramesByteCount: Int { nameList.count + Hash.byteCount * fieldCount }

    /// Writes the frames the fields digest hashes (for each field: u8 name length || name || disclosure digest) to
    /// the first `fieldFramesByteCount` bytes of `frames`, so that a caller can hash two entries' frames at once.
    package func writeFieldFrames(seed: UnsafeRawBufferPointer, values: [UnsafeRawBufferPointer],
                                  batch: DisclosureBatch, into frames: UnsafeMutableRawBufferPointer) {
        var w = RawWriter(frames)
        batch.writeFieldFrames(seed: seed, fieldCount: fieldCount, forEachField: { body in
            forEachName { index, name in body(index, name, values[index]) }
        }, to: &w)
    }
}
