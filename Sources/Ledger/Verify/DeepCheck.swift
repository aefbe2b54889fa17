import Foundation
import LMDB
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium

/// One worker's reusable buffers for deep checks: after the first entries, checking an entry allocates
/// little beyond the strings the schema checks read. The buffers hold plaintext: zeroed after every entry
/// (the decrypted payload) or when released (the disclosure scratch, see `DisclosureDigester`).
final class DeepScratch: @unchecked Sendable {
    // @unchecked: one scratch per participant index; only the participant with that index ever touches it.
    let digester = DisclosureDigester()
    /// The decrypted payload of the entry being checked.
    private var plaintext = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    /// The AEAD associated data: label || ledger id, then seq and key id rewritten per entry.
    private var associatedData: [UInt8]
    private let associatedDataPrefix: Int
    /// Views of the payload's values (into `plaintext`).
    var values: [UnsafeRawBufferPointer] = []
    /// Matter tags already recomputed by this worker (matter → tag); bounded.
    private var matterTags: [String: Hash] = [:]
    /// Sealed matter keys this worker has unwrapped (the engine's cache sits behind a lock).
    var matterKeys: [UInt32: SecretBytes] = [:]

    init(ledgerID: [UInt8]) {
        associatedData = EntryAssociatedData.bytes(ledgerID: ledgerID, seq: 0, keyID: 0)
        associatedDataPrefix = associatedData.count - 12
        values.reserveCapacity(64)
    }

    deinit {
        zeroize(plaintext)
        plaintext.deallocate()
    }

    /// The associated data of entry `seq` under key `keyID` (docs/FORMAT.md; same bytes as `EntryAssociatedData`).
    func associatedData(seq: UInt64, keyID: UInt32) -> [UInt8] {
        let p = associatedDataPrefix
        for i in 0..<8 { associatedData[p + i] = UInt8(truncatingIfNeeded: seq >> (56 - 8 * i)) }
        for i in 0..<4 { associatedData[p + 8 + i] = UInt8(truncatingIfNeeded: keyID >> (24 - 8 * i)) }
        return associatedData
    }

    /// A zeroed buffer of `count` bytes for one payload (valid until the next call).
    func payloadBuffer(_ count: Int) -> UnsafeMutableRawBufferPointer {
        if count > plaintext.count {
            zeroize(plaintext)
            plaintext.deallocate()
            plaintext = .allocate(byteCount: max(count, 2 * plaintext.count), alignment: 16)
        }
        return UnsafeMutableRawBufferPointer(rebasing: plaintext[0..<count])
    }

    /// Zeroes the payload buffer's first `count` bytes and forgets the views into it.
    func wipePayload(_ count: Int) {
        zeroize(UnsafeMutableRawBufferPointer(rebasing: plaintext[0..<min(count, plaintext.count)]))
        values.removeAll(keepingCapacity: true)
    }

    func matterTag(_ matter: String, ring: KeyRing) -> Hash {
        if let tag = matterTags[matter] { return tag }
        if matterTags.count >= 4096 { matterTags.removeAll(keepingCapacity: true) }
        let tag = ring.matterTag(matter)
        matterTags[matter] = tag
        return tag
    }
}

extension Ledger {
    /// Deep: the ciphertext opens with its associated data, every disclosure hashes to the fields digest,
    /// the record validates, and the matter and source tags recompute. Same checks, order and messages as
    /// the straightforward form (decode the payload, parse every value, `RecordSchema.checkRecord`), without
    /// its per-field allocations: values are read in place, common JSON values are recognised directly,
    /// and the schema's own checks run on them; only a record that fails goes through `checkRecord`,
    /// which names the problem.
    func checkContents(_ leaf: LeafView, ciphertext: UnsafeRawBufferPointer, ring: KeyRing, scratch: DeepScratch,
                       violation: (Violation.Kind, String, String?, String?) -> Void) throws {
        guard let key = try matterKey(leaf.keyID, ring: ring, scratch: scratch) else {
            violation(.matterKey, "matter key \(leaf.keyID) is missing or does not unwrap", nil, nil)
            return
        }
        guard ciphertext.count >= XChaCha20Poly1305.tagByteCount else {
            violation(.decryption, "the ciphertext does not open with its key and associated data", nil, nil)
            return
        }
        let plaintext = scratch.payloadBuffer(ciphertext.count - XChaCha20Poly1305.tagByteCount)
        defer { scratch.wipePayload(plaintext.count) }
        do {
            try scratch.associatedData(seq: leaf.seq, keyID: leaf.keyID).withUnsafeBytes { ad in
                try XChaCha20Poly1305.open(ciphertext, associatedData: ad, nonce: leaf.nonce, key: key, into: plaintext)
            }
        } catch {
            violation(.decryption, "the ciphertext does not open with its key and associated data", nil, nil)
            return
        }
        guard let seed = Self.splitPayload(UnsafeRawBufferPointer(plaintext), fieldCount: leaf.fieldCount,
                                           into: &scratch.values) else {
            violation(.decryption, "the decrypted payload does not decode", nil, nil)
            return
        }
        let fieldsDigest = Self.fieldsDigest(leaf, seed: seed, values: scratch.values, scratch: scratch)
        if fieldsDigest != leaf.fieldsDigest {
            violation(.disclosureDigest, "the disclosures do not hash to the leaf's fields digest",
                      leaf.fieldsDigest.hex, fieldsDigest.hex)
        }
        guard let record = Self.checkedRecord(leaf, values: scratch.values, violation: violation) else { return }
        if case .string(let matter)? = record.matter, scratch.matterTag(matter, ring: ring) == leaf.matterTag {} else {
            violation(.tagMismatch, "the matter tag does not match the decrypted matter", nil, nil)
        }
        let sourceKey = ValidatedRecord.sourceKey(system: record.sourceSystem?.stringValue,
                                                  id: record.sourceId?.stringValue)
        if sourceKey.map({ ring.sourceTag($0) }) != leaf.sourceTag {
            violation(.tagMismatch, "the source tag does not match the decrypted sourceSystem/sourceId", nil, nil)
        }
    }

    /// The matter key `id`, from the worker's cache or unwrapped in a read transaction of its own; nil when it is
    /// missing or does not unwrap. Throws only when no transaction can be opened (a storage error).
    private func matterKey(_ id: UInt32, ring: KeyRing, scratch: DeepScratch) throws -> SecretBytes? {
        if let cached = scratch.matterKeys[id] { return cached }
        let key = try store.environment.read { txn in try? matterKey(id: id, ring: ring, txn: txn) }
        scratch.matterKeys[id] = key
        return key
    }

    /// Splits a decrypted payload (docs/FORMAT.md, "Payload v1") into views of its seed and values, by the rules
    /// of `EntryPayload.decode`; nil where that throws.
    static func splitPayload(_ plaintext: UnsafeRawBufferPointer, fieldCount: Int,
                             into values: inout [UnsafeRawBufferPointer]) -> UnsafeRawBufferPointer? {
        values.removeAll(keepingCapacity: true)
        var r = ByteReader(plaintext)
        guard let seed = try? r.take(EntryPayload.seedByteCount) else { return nil }
        for _ in 0..<fieldCount {
            guard let length = try? r.varint(), length <= UInt64(r.remaining),
                  let value = try? r.take(Int(length)) else { return nil }
            values.append(value)
        }
        return r.isAtEnd ? seed : nil
    }

    /// The leaf's fields digest (`Leaf.FieldsHasher`), with each field's salt derived from the seed and its
    /// disclosure digest computed in the worker's scratch.
    private static func fieldsDigest(_ leaf: LeafView, seed: UnsafeRawBufferPointer, values: [UnsafeRawBufferPointer],
                                     scratch: DeepScratch) -> Hash {
        var seedCopy = Array(seed)
        defer { zeroize(&seedCopy) }
        let salts = SaltDeriver(seed: seedCopy, count: leaf.fieldCount)
        let digester = scratch.digester
        var hasher = Leaf.FieldsHasher()
        leaf.forEachName { index, name in
            hasher.add(name: name, digest: salts.withSalt(index: index) {
                digester.digest(salt: $0, name: name, value: values[index])
            })
        }
        return hasher.finalize()
    }

    /// The few values the tag checks need from a record that validated.
    struct CheckedRecord {
        var matter: JSONValue?
        var sourceSystem: JSONValue?
        var sourceId: JSONValue?
    }

    /// Parses every value and validates the record against the schema; reports the first problem (as the
    /// straightforward form names it) and returns nil when it does not validate.
    private static func checkedRecord(_ leaf: LeafView, values: [UnsafeRawBufferPointer],
                                      violation: (Violation.Kind, String, String?, String?) -> Void) -> CheckedRecord? {
        if let record = quickCheck(leaf, values: values) { return record }
        // Something did not pass: the straightforward form decides, and names the problem.
        var members = [(String, JSONValue)]()
        var failed: String?
        leaf.forEachName { index, nameBytes in
            guard failed == nil else { return }
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard let parsed = try? JSONParser.parse(values[index]) else {
                failed = "field '\(name)' is not valid JSON"
                return
            }
            members.append((name, parsed))
        }
        if let failed {
            violation(.recordSchema, failed, nil, nil)
            return nil
        }
        let record: JSONObject
        do { record = try RecordSchema.checkRecord(.object(JSONObject(members))) } catch {
            violation(.recordSchema, "the record does not validate: \(error)", nil, nil)
            return nil
        }
        return CheckedRecord(matter: record["matter"], sourceSystem: record["sourceSystem"],
                             sourceId: record["sourceId"])
    }

    /// `RecordSchema.checkRecord` over the record's canonical value bytes, for a record whose names are unique
    /// (the leaf's, strictly ascending): the same field count limit, required fields and per-field checks.
    /// Text of printable ASCII without escapes is checked on its bytes (it has no control characters, so the
    /// text rules reduce to its length); any other value is parsed and checked by `RecordSchema.check`.
    /// nil when anything fails, or is valid JSON that this does not recognise; the caller then decides in full.
    private static func quickCheck(_ leaf: LeafView, values: [UnsafeRawBufferPointer]) -> CheckedRecord? {
        guard leaf.fieldCount <= RecordSchema.maxFieldCount else { return nil }
        var record = CheckedRecord()
        var required = 0
        var ok = true
        let schema = RecordSchema.fieldTable
        leaf.forEachName { index, nameBytes in
            guard ok else { return }
            let value = values[index]
            let known = schema.field(utf8: nameBytes)
            guard let type = known?.type ?? RecordSchema.type(utf8: nameBytes) else {
                ok = false
                return
            }
            if known?.required == true { required += 1 }
            switch type {
            case .line(let maxLength), .text(let maxLength):
                if let text = FastJSON.plainStringBody(value) {
                    ok = (1...maxLength).contains(text.count)
                    if ok { record.keep(utf8: nameBytes, .string(String(decoding: text, as: UTF8.self))) }
                    return
                }
            case .lines(let maxCount):
                if let lines = FastJSON.plainStringArrayCount(value, maxItemLength: 1024) {
                    ok = lines.count <= maxCount && lines.itemsFit
                    return
                }
            case .choice(let allowed):
                // A plain string is one of the allowed words exactly when its bytes are (no escapes to undo).
                if let text = FastJSON.plainStringBody(value) {
                    ok = allowed.contains { FastJSON.bytesEqual(text, $0) }
                    return
                }
            default:
                break
            }
            guard let parsed = FastJSON.value(value) ?? (try? JSONParser.parse(value)) else {
                ok = false
                return
            }
            do { try RecordSchema.check(parsed, as: type, field: String(decoding: nameBytes, as: UTF8.self)) } catch {
                ok = false
                return
            }
            record.keep(utf8: nameBytes, parsed)
        }
        return ok && required == schema.requiredCount ? record : nil
    }
}

extension Ledger.CheckedRecord {
    private static let matterName = Array("matter".utf8), sourceSystemName = Array("sourceSystem".utf8),
                       sourceIdName = Array("sourceId".utf8)

    /// Keeps the value if the tag checks need it (the field named by these UTF-8 bytes).
    fileprivate mutating func keep(utf8 name: UnsafeRawBufferPointer, _ value: @autoclosure () -> JSONValue) {
        switch name.count {   // the length first: most fields are none of the three
        case Self.matterName.count where FastJSON.bytesEqual(name, Self.matterName): matter = value()
        case Self.sourceSystemName.count where FastJSON.bytesEqual(name, Self.sourceSystemName): sourceSystem = value()
        case Self.sourceIdName.count where FastJSON.bytesEqual(name, Self.sourceIdName): sourceId = value()
        default: break
        }
    }
}

/// Recognises the common canonical JSON values directly — a string of printable ASCII without escapes, an array
/// of such strings, `true`, `false` — and gives the value `JSONParser.parse` gives for the same bytes; nil for
/// anything else (the caller parses it in full).
enum FastJSON {
    static func value(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        guard let first = bytes.first else { return nil }
        switch first {
        case UInt8(ascii: "\""):
            guard let (string, end) = plainString(bytes, at: 0), end == bytes.count else { return nil }
            return .string(string)
        case UInt8(ascii: "["):
            return stringArray(bytes)
        case UInt8(ascii: "t"):
            return bytes.elementsEqual("true".utf8) ? .bool(true) : nil
        case UInt8(ascii: "f"):
            return bytes.elementsEqual("false".utf8) ? .bool(false) : nil
        default:
            return nil
        }
    }

    /// `["…","…",…]` with no whitespace, every element a plain string.
    private static func stringArray(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        guard bytes.count >= 2, bytes[bytes.count - 1] == UInt8(ascii: "]") else { return nil }
        if bytes.count == 2 { return .array([]) }
        var items = [JSONValue]()
        var o = 1
        while true {
            guard let (string, end) = plainString(bytes, at: o) else { return nil }
            items.append(.string(string))
            if end == bytes.count - 1 { return .array(items) }
            guard bytes[end] == UInt8(ascii: ",") else { return nil }
            o = end + 1
        }
    }

    /// A string at `start` whose bytes are printable ASCII other than `"` and `\`; returns it and the offset
    /// after its closing quote.
    private static func plainString(_ bytes: UnsafeRawBufferPointer, at start: Int) -> (String, Int)? {
        guard let end = plainStringEnd(bytes, at: start) else { return nil }
        return (String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(end - 1)]), as: UTF8.self), end)
    }

    /// The characters of a value that is one plain string (see `plainString`), without its quotes.
    /// True if the bytes are exactly these (memcmp: the generic sequence comparison is slow on this path).
    static func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ expected: [UInt8]) -> Bool {
        guard bytes.count == expected.count else { return false }
        guard let base = bytes.baseAddress else { return true }
        return expected.withUnsafeBytes { memcmp(base, $0.baseAddress!, bytes.count) == 0 }
    }

    /// The same against a string's UTF-8.
    static func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ expected: String) -> Bool {
        var expected = expected
        return expected.withUTF8 { utf8 in
            guard bytes.count == utf8.count else { return false }
            guard let base = bytes.baseAddress else { return true }
            return memcmp(base, utf8.baseAddress!, bytes.count) == 0
        }
    }

    static func plainStringBody(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard plainStringEnd(bytes, at: 0) == bytes.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[1..<(bytes.count - 1)])
    }

    /// For a value that is `["…",…]` (no whitespace) of plain strings: how many, and whether each has
    /// 1 to `maxItemLength` characters.
    static func plainStringArrayCount(_ bytes: UnsafeRawBufferPointer,
                                      maxItemLength: Int) -> (count: Int, itemsFit: Bool)? {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "["),
              bytes[bytes.count - 1] == UInt8(ascii: "]") else { return nil }
        if bytes.count == 2 { return (0, true) }
        var count = 0
        var fit = true
        var o = 1
        while true {
            guard let end = plainStringEnd(bytes, at: o) else { return nil }
            count += 1
            fit = fit && (1...maxItemLength).contains(end - o - 2)
            if end == bytes.count - 1 { return (count, fit) }
            guard bytes[end] == UInt8(ascii: ",") else { return nil }
            o = end + 1
        }
    }

    /// The offset after the closing quote of a plain string that starts at `start`; nil if there is none.
    /// Eight bytes at a time: a word without `"`, `\`, control or non-ASCII bytes is skipped whole.
    private static func plainStringEnd(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Int? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
        var o = start + 1
        while o + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self))
            if mayBeSpecial(word) { break }
            o += 8
        }
        while o < bytes.count {
            let c = bytes[o]
            if c == UInt8(ascii: "\"") { return o + 1 }
            guard c >= 0x20, c < 0x7f, c != UInt8(ascii: "\\") else { return nil }
            o += 1
        }
        return nil
    }

    /// True if some byte of `word` may be `"`, `\`, below 0x20 or at least 0x7f (exact, or a false alarm that
    /// only sends the caller to its byte loop).
    @inline(__always)
    private static func mayBeSpecial(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ w: UInt64) -> UInt64 { (w &- ones) & ~w & highs }
        let control = (word &- ones &* 0x20) & ~word & highs
        let high = (word &+ ones) & highs | word & highs                 // >= 0x7f
        return (control | high | hasZero(word ^ (ones &* 0x22)) | hasZero(word ^ (ones &* 0x5c))) != 0
    }
}
