#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MerkleLog

/// Why a leaf's bytes were refused. Decoding is strict: every byte has one meaning.
public enum LeafDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(at: Int)
    case unsupportedVersion(UInt8)
    case unknownFlags(UInt8)
    case badFieldName(index: Int)
    case fieldsNotSorted(index: Int)
    case trailingBytes(count: Int)

    public var description: String {
        switch self {
        case .truncated(let at): return "leaf is truncated at byte \(at)"
        case .unsupportedVersion(let v): return "leaf format version \(v) is not known to this build"
        case .unknownFlags(let f): return "leaf has unknown flag bits 0x\(String(f, radix: 16))"
        case .badFieldName(let i): return "leaf field \(i) has an invalid name"
        case .fieldsNotSorted(let i): return "leaf field \(i) is out of order or duplicated"
        case .trailingBytes(let n): return "leaf has \(n) trailing bytes"
        }
    }
}

/// The canonical binary header of an entry: what the Merkle tree hashes (docs/FORMAT.md, "Leaf v1").
///
///     u8      version (1)
///     u8[16]  ledger id
///     u64     seq
///     i64     recordedAt, microseconds since 1970-01-01T00:00:00Z
///     u8[32]  previous record hash (RFC 6962 leaf hash of seq-1; zeros for seq 0)
///     u8[32]  matter tag
///     u8      flags (bit 0: a source tag follows; other bits zero)
///     u8[32]  source tag, only if flag bit 0
///     u32     key id
///     u8[24]  nonce
///     u8[32]  SHA-256 of the ciphertext
///     u8[32]  fields digest: SHA-256 over the field list, see `fieldsDigest(names:digests:)`
///     u16     field count
///     repeat  u8 name length, name (ASCII) — names strictly ascending by byte
///
/// The leaf commits to every field's disclosure digest through the fields digest rather than listing
/// 32 bytes per field: that halves the leaf, and the digests are recomputed from the (encrypted or
/// exported) disclosures whenever they are checked. docs/FORMAT.md explains the choice.
public struct Leaf: Sendable, Equatable {
    /// Version 1: the key id names a symmetric matter key. Version 2 (same layout, written since access control):
    /// it names a batch data key sealed to the matter's X25519 key pair (docs/FORMAT.md, "Leaf v2").
    public static let currentVersion: UInt8 = 2
    public static let recordVersions: ClosedRange<UInt8> = 1...2
    public static let ledgerIDByteCount = 16
    public static let nonceByteCount = 24
    public static let maxFieldNameLength = 64

    public var version: UInt8
    public var ledgerID: [UInt8]
    public var seq: UInt64
    public var recordedAt: Int64
    public var previousHash: Hash
    public var matterTag: Hash
    public var sourceTag: Hash?
    public var keyID: UInt32
    public var nonce: [UInt8]
    public var ciphertextHash: Hash
    public var fieldsDigest: Hash
    public var fieldNames: [String]

    public init(version: UInt8 = Leaf.currentVersion, ledgerID: [UInt8], seq: UInt64, recordedAt: Int64,
                previousHash: Hash, matterTag: Hash, sourceTag: Hash?, keyID: UInt32, nonce: [UInt8],
                ciphertextHash: Hash, fieldsDigest: Hash, fieldNames: [String]) {
        self.version = version
        self.ledgerID = ledgerID
        self.seq = seq
        self.recordedAt = recordedAt
        self.previousHash = previousHash
        self.matterTag = matterTag
        self.sourceTag = sourceTag
        self.keyID = keyID
        self.nonce = nonce
        self.ciphertextHash = ciphertextHash
        self.fieldsDigest = fieldsDigest
        self.fieldNames = fieldNames
    }

    /// The fields digest of `names` and their disclosure digests (`FieldsHasher`, all at once).
    public static func fieldsDigest(names: [String], digests: [Hash]) -> Hash {
        precondition(names.count == digests.count)
        var hasher = FieldsHasher()
        for (name, digest) in zip(names, digests) { hasher.add(name: name, digest: digest) }
        return hasher.finalize()
    }

    /// Byte offsets of recordedAt (u64 BE) and previousHash in an encoded leaf: after version, ledger id and seq.
    package static let recordedAtOffset = 1 + ledgerIDByteCount + 8
    package static let previousHashOffset = recordedAtOffset + 8

    /// Writes recordedAt and the previous record hash into an encoded leaf (the two fields only the
    /// sequential append step knows); the rest was encoded in parallel.
    package static func setChainFields(_ leaf: UnsafeMutableRawBufferPointer, recordedAt: Int64, previousHash: Hash) {
        leaf.storeBytes(of: UInt64(bitPattern: recordedAt).bigEndian, toByteOffset: recordedAtOffset, as: UInt64.self)
        previousHash.withUnsafeBytes {
            UnsafeMutableRawBufferPointer(rebasing: leaf[previousHashOffset..<(previousHashOffset + Hash.byteCount)])
                .copyMemory(from: $0)
        }
    }

    public func encoded() -> [UInt8] {
        let length = Self.encodedLength(ledgerIDCount: ledgerID.count, hasSourceTag: sourceTag != nil,
                                        nonceCount: nonce.count, fieldNames: fieldNames)
        return ledgerID.withUnsafeBytes { ledgerID in
            nonce.withUnsafeBytes { nonce in
                [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
                    var w = RawWriter(UnsafeMutableRawBufferPointer(buffer))
                    Self.write(version: version, ledgerID: ledgerID, seq: seq, recordedAt: recordedAt,
                               previousHash: previousHash, matterTag: matterTag, sourceTag: sourceTag, keyID: keyID,
                               nonce: nonce, ciphertextHash: ciphertextHash, fieldsDigest: fieldsDigest,
                               fieldNames: fieldNames, to: &w)
                    precondition(w.offset == length, "leaf length mismatch")
                    count = length
                }
            }
        }
    }

    /// The bytes `write` produces: the fixed fields, then a length byte and the bytes of each name.
    package static func encodedLength(ledgerIDCount: Int, hasSourceTag: Bool, nonceCount: Int,
                                      fieldNames: [String]) -> Int {
        let fixed = 1 + ledgerIDCount + 8 + 8 + 32 + 32 + 1 + (hasSourceTag ? 32 : 0) + 4 + nonceCount + 32 + 32 + 2
        return fieldNames.reduce(fixed) { $0 + 1 + $1.utf8.count }
    }

    /// Writes the leaf layout (docs/FORMAT.md, "Leaf v1 and v2"): the one encoder behind `encoded()` and the
    /// import's `EntrySealer`, which writes the leaf straight into its stored value.
    package static func write(version: UInt8, ledgerID: UnsafeRawBufferPointer, seq: UInt64, recordedAt: Int64,
                              previousHash: Hash, matterTag: Hash, sourceTag: Hash?, keyID: UInt32,
                              nonce: UnsafeRawBufferPointer, ciphertextHash: Hash, fieldsDigest: Hash,
                              fieldNames: [String], to w: inout RawWriter) {
        w.u8(version)
        w.raw(ledgerID)
        w.u64(seq)
        w.u64(UInt64(bitPattern: recordedAt))
        previousHash.withUnsafeBytes { w.raw($0) }
        matterTag.withUnsafeBytes { w.raw($0) }
        w.u8(sourceTag == nil ? 0 : 1)
        sourceTag?.withUnsafeBytes { w.raw($0) }
        w.u32(keyID)
        w.raw(nonce)
        ciphertextHash.withUnsafeBytes { w.raw($0) }
        fieldsDigest.withUnsafeBytes { w.raw($0) }
        w.u16(UInt16(fieldNames.count))
        for var name in fieldNames {
            w.u8(UInt8(name.utf8.count))
            name.withUTF8 { w.raw(UnsafeRawBufferPointer($0)) }
        }
    }

    public static func decode(_ bytes: [UInt8]) throws -> Leaf {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Leaf {
        var r = ByteReader(bytes)
        do {
            let version = try r.u8()
            guard recordVersions.contains(version) else { throw LeafDecodingError.unsupportedVersion(version) }
            let ledgerID = try r.bytes(ledgerIDByteCount)
            let seq = try r.u64()
            let recordedAt = Int64(bitPattern: try r.u64())
            let previous = Hash(unsafeBytes: try r.take(32))
            let matterTag = Hash(unsafeBytes: try r.take(32))
            let flags = try r.u8()
            guard flags & ~1 == 0 else { throw LeafDecodingError.unknownFlags(flags) }
            let sourceTag = flags & 1 == 1 ? Hash(unsafeBytes: try r.take(32)) : nil
            let keyID = try r.u32()
            let nonce = try r.bytes(nonceByteCount)
            let ciphertextHash = Hash(unsafeBytes: try r.take(32))
            let fieldsDigest = Hash(unsafeBytes: try r.take(32))
            let count = Int(try r.u16())
            var fields = [String]()
            fields.reserveCapacity(count)
            var previousName: UnsafeRawBufferPointer? = nil
            for index in 0..<count {
                let length = Int(try r.u8())
                let name = try r.take(length)
                guard FieldName.isValid(name) else { throw LeafDecodingError.badFieldName(index: index) }
                if let prior = previousName, !FieldName.strictlyAscending(prior, name) {
                    throw LeafDecodingError.fieldsNotSorted(index: index)
                }
                previousName = name
                fields.append(String(decoding: name, as: UTF8.self))
            }
            guard r.isAtEnd else { throw LeafDecodingError.trailingBytes(count: r.remaining) }
            return Leaf(version: version, ledgerID: ledgerID, seq: seq, recordedAt: recordedAt,
                        previousHash: previous, matterTag: matterTag, sourceTag: sourceTag, keyID: keyID,
                        nonce: nonce, ciphertextHash: ciphertextHash, fieldsDigest: fieldsDigest, fieldNames: fields)
        } catch let failure as ByteReader.Failure {
            if case .truncated(let at, _) = failure { throw LeafDecodingError.truncated(at: at) }
            throw LeafDecodingError.truncated(at: r.offset)
        }
    }
}

/// Field names are public schema words: ASCII letters, digits and '-', 1 to 64 bytes, starting with a letter.
package enum FieldName {
    package static func isValid(_ name: UnsafeRawBufferPointer) -> Bool {
        guard (1...Leaf.maxFieldNameLength).contains(name.count), isLetter(name[0]) else { return false }
        return name.allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
    }

    package static func isValid(_ name: String) -> Bool {
        var utf8 = Array(name.utf8)
        return utf8.withUnsafeMutableBytes { isValid(UnsafeRawBufferPointer($0)) }
    }

    /// Bytewise order (memcmp, then the shorter first): verify checks every leaf's names with it.
    package static func strictlyAscending(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let common = min(a.count, b.count)
        let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
        return order < 0 || (order == 0 && a.count < b.count)
    }

    private static func isLetter(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    }
}

extension Leaf {
    /// The leaf's fields digest, streamed field by field in leaf order (docs/FORMAT.md, "Leaf v1"):
    /// SHA-256 over `u8 name length || name || u8[32] disclosure digest` for each field. The one place that rule
    /// is written (`writeFieldFrame`): append, read, export and the bundle verifier feed this hasher; the import's
    /// sealer and deep verify write the same frames into one buffer and hash it once.
    public struct FieldsHasher {
        private var hasher = SHA256Hasher()

        public init() {}

        /// Adds one field; `name` is at most 64 bytes (a valid field name). The frame is assembled on the stack and
        /// hashed in one update.
        public mutating func add(name: UnsafeRawBufferPointer, digest: Hash) {
            withUnsafeTemporaryAllocation(byteCount: Leaf.fieldFrameLength(name: name), alignment: 1) { frame in
                var w = RawWriter(frame)
                Leaf.writeFieldFrame(name: name, digest: digest, to: &w)
                hasher.update(UnsafeRawBufferPointer(frame))
            }
        }

        public mutating func add(name: String, digest: Hash) {
            var name = name
            name.withUTF8 { add(name: UnsafeRawBufferPointer($0), digest: digest) }
        }

        public mutating func finalize() -> Hash { hasher.finalize() }
    }

    /// One field of the fields digest's input: `u8 name length || name || u8[32] disclosure digest`.
    package static func writeFieldFrame(name: UnsafeRawBufferPointer, digest: Hash, to w: inout RawWriter) {
        w.u8(UInt8(name.count))
        w.raw(name)
        digest.withUnsafeBytes { w.raw($0) }
    }

    package static func fieldFrameLength(name: UnsafeRawBufferPointer) -> Int { 1 + name.count + Hash.byteCount }
}
