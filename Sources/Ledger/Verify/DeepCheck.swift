import Foundation
import LMDB
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium

/// One worker's reusable buffers for deep checks: after the first entries, checking an entry allocates
/// little beyond the strings the schema checks read. The buffers hold plaintext: zeroed after every pair of entries
/// (the decrypted payloads, `DeepSlot`) or when released (the disclosure texts, see `DisclosureBatch`).
final class DeepScratch: @unchecked Sendable {
    // @unchecked: one scratch per participant index; only the participant with that index ever touches it.
    /// The entry's disclosures, hashed together.
    let disclosures = DisclosureBatch()
    // Only its participant uses it, never in overlapping accesses: no dynamic exclusivity checks on the per-entry state.
    /// The two entries being checked together.
    let slots = (DeepSlot(), DeepSlot())
    /// The AEAD associated data: label || ledger id, then seq and key id rewritten per entry.
    @exclusivity(unchecked) private var associatedData: [UInt8]
    private let associatedDataPrefix: Int
    /// Matter tags already recomputed by this worker (matter → tag); bounded.
    private var matterTags: [String: Hash] = [:]
    /// Sealed matter keys this worker has unwrapped (the engine's cache sits behind a lock); bounded like it.
    private var matterKeys: [UInt32: SecretBytes] = [:]
    /// The key check that opens the stored keys into the session's caches while the scan starts.
    private let keyCheck: BackgroundKeyCheck?
    /// The master key's subkeys, for the keys this worker opens (not touched per entry).
    let ring: KeyRing
    /// This worker's own copy of the index key's hasher: the workers hashed with one shared object, and each
    /// tag's reference count change moved its cache line between the cores (~2% of deep verify's samples).
    let tags: TagKey
    /// The field lists this participant has checked (the scan context's for the same participant): the leaves'
    /// `shape` indexes into it, and the schema check's plan per list is kept there.
    let shapes: LeafShapes

    init(ledgerID: [UInt8], ring: KeyRing, keyCheck: BackgroundKeyCheck? = nil, shapes: LeafShapes = LeafShapes()) {
        self.keyCheck = keyCheck
        self.shapes = shapes
        self.ring = ring
        tags = TagKey(ring.indexKey)
        associatedData = EntryAssociatedData.bytes(version: 1, ledgerID: ledgerID, seq: 0, keyID: 0)
        associatedDataPrefix = associatedData.count - 12
    }

    /// The associated data of entry `seq` under key `keyID` (docs/FORMAT.md; same bytes as `EntryAssociatedData`).
    func associatedData(version: UInt8, seq: UInt64, keyID: UInt32) -> [UInt8] {
        let p = associatedDataPrefix
        // The label ends in the leaf version's digit ("client-ledger/entry/v1" or "v2"), just before the ledger id.
        associatedData[p - Leaf.ledgerIDByteCount - 1] = UInt8(ascii: "0") + version
        for i in 0..<8 { associatedData[p + i] = UInt8(truncatingIfNeeded: seq >> (56 - 8 * i)) }
        for i in 0..<4 { associatedData[p + 8 + i] = UInt8(truncatingIfNeeded: keyID >> (24 - 8 * i)) }
        return associatedData
    }

    func cachedKey(_ id: UInt32) -> SecretBytes? { matterKeys[id] }

    /// Before opening a key: the key check may be opening it already (then it is in the session's cache).
    func awaitKeyCheck() { keyCheck?.awaitKeys() }

    /// Keeps `key` for the next entries of its batch (a nil key, missing or not unwrapping, is not kept), as a copy
    /// of its own: the session's object is shared by every worker, and retaining it per entry moved its reference
    /// count's cache line between the cores.
    func remember(_ key: SecretBytes?, id: UInt32) -> SecretBytes? {
        if matterKeys.count >= Session.dataKeyCacheLimit { matterKeys.removeAll(keepingCapacity: true) }
        let own = key.map { shared in shared.withUnsafeBytes { SecretBytes(copying: $0) } }
        matterKeys[id] = own
        return own
    }

    func matterTag(_ matter: String) -> Hash {
        if let tag = matterTags[matter] { return tag }
        if matterTags.count >= 4096 { matterTags.removeAll(keepingCapacity: true) }
        let tag = tags.matterTag(matter)
        matterTags[matter] = tag
        return tag
    }
}

/// An entry whose contents deep verify checks: its leaf and ciphertext.
struct DeepItem {
    let leaf: LeafView
    let ciphertext: UnsafeRawBufferPointer
}

extension Ledger {
    /// Deep, for one or two entries (`facts[0]`, `facts[1]`): the ciphertext opens with its associated data, every
    /// disclosure hashes to the fields digest, the record validates, and the matter and source tags recompute. Same
    /// checks, order and messages per entry as the straightforward form (decode the payload, parse every value,
    /// `RecordSchema.checkRecord`), without its per-field allocations: values are read in place, common JSON values
    /// are recognised directly, and the schema's own checks run on them; only a record that fails goes through
    /// `checkRecord`, which names the problem. Both entries are opened first, so that their fields digests are
    /// hashed together (two SHA-256 lanes).
    func checkContents(_ first: DeepItem?, _ second: DeepItem?, scratch: DeepScratch,
                       facts: UnsafeMutablePointer<EntryFacts>) throws {
        let (a, b) = scratch.slots
        defer { a.wipe(); b.wipe() }
        let opened = (try first.map { try open($0, into: a, scratch: scratch, facts: facts) } ?? false,
                      try second.map { try open($0, into: b, scratch: scratch, facts: facts + 1) } ?? false)
        switch opened {
        case (true, true):
            let digests = SHA256Hasher.hash(a.frames, b.frames)
            checkOpened(first!, a, fieldsDigest: digests.0, scratch: scratch, facts: facts)
            checkOpened(second!, b, fieldsDigest: digests.1, scratch: scratch, facts: facts + 1)
        case (true, false):
            checkOpened(first!, a, fieldsDigest: Hash.sha256(a.frames), scratch: scratch, facts: facts)
        case (false, true):
            checkOpened(second!, b, fieldsDigest: Hash.sha256(b.frames), scratch: scratch, facts: facts + 1)
        case (false, false):
            return
        }
    }

    /// Decrypts `item` into `slot`, splits its payload and writes its fields digest's frames; false (and the
    /// violation in `facts`) when it does not get that far.
    private func open(_ item: DeepItem, into slot: DeepSlot, scratch: DeepScratch,
                      facts: UnsafeMutablePointer<EntryFacts>) throws -> Bool {
        let leaf = item.leaf, ciphertext = item.ciphertext
        guard let key = try matterKey(leaf.keyID, scratch: scratch) else {
            facts.pointee.fail(.matterKey, "matter key \(leaf.keyID) is missing or does not unwrap")
            return false
        }
        guard ciphertext.count >= XChaCha20Poly1305.tagByteCount else {
            facts.pointee.fail(.decryption, "the ciphertext does not open with its key and associated data")
            return false
        }
        let plaintext = slot.payloadBuffer(ciphertext.count - XChaCha20Poly1305.tagByteCount)
        do {
            try scratch.associatedData(version: leaf.version, seq: leaf.seq, keyID: leaf.keyID).withUnsafeBytes { ad in
                try XChaCha20Poly1305.open(ciphertext, associatedData: ad, nonce: leaf.nonce, key: key, into: plaintext)
            }
        } catch {
            facts.pointee.fail(.decryption, "the ciphertext does not open with its key and associated data")
            return false
        }
        guard let seed = EntryPayload.split(UnsafeRawBufferPointer(plaintext), fieldCount: leaf.fieldCount,
                                           into: &slot.values) else {
            facts.pointee.fail(.decryption, "the decrypted payload does not decode")
            return false
        }
        slot.writeFrames(leaf, seed: seed, batch: scratch.disclosures)
        return true
    }

    /// The checks after decryption: the fields digest (`fieldsDigest`, hashed from the slot's frames), the record,
    /// the matter and source tags.
    private func checkOpened(_ item: DeepItem, _ slot: DeepSlot, fieldsDigest: Hash, scratch: DeepScratch,
                             facts: UnsafeMutablePointer<EntryFacts>) {
        let leaf = item.leaf
        if fieldsDigest != leaf.fieldsDigest {
            facts.pointee.fail(.disclosureDigest, "the disclosures do not hash to the leaf's fields digest",
                               expected: leaf.fieldsDigest.hex, found: fieldsDigest.hex)
        }
        let violation = { facts.pointee.fail($0, $1, expected: $2, found: $3) }
        guard let record = Self.checkedRecord(leaf, values: slot.values, shapes: scratch.shapes,
                                              violation: violation) else { return }
        if case .string(let matter)? = record.matter, scratch.matterTag(matter) == leaf.matterTag {} else {
            facts.pointee.fail(.tagMismatch, "the matter tag does not match the decrypted matter")
        }
        let sourceKey = ValidatedRecord.sourceKey(system: record.sourceSystem?.stringValue,
                                                  id: record.sourceId?.stringValue)
        if sourceKey.map({ scratch.tags.sourceTag($0) }) != leaf.sourceTag {
            facts.pointee.fail(.tagMismatch, "the source tag does not match the decrypted sourceSystem/sourceId")
        }
    }

    /// The matter key `id`, from the worker's cache or unwrapped in a read transaction of its own; nil when it is
    /// missing or does not unwrap. Throws only when no transaction can be opened (a storage error).
    private func matterKey(_ id: UInt32, scratch: DeepScratch) throws -> SecretBytes? {
        if let cached = scratch.cachedKey(id) { return cached }
        scratch.awaitKeyCheck()
        let key = try store.environment.read { txn in try? matterKey(id: id, ring: scratch.ring, txn: txn) }
        return scratch.remember(key, id: id)
    }

    /// Parses every value and validates the record against the schema; reports the first problem (as the
    /// straightforward form names it) and returns nil when it does not validate.
    private static func checkedRecord(_ leaf: LeafView, values: [UnsafeRawBufferPointer], shapes: LeafShapes,
                                      violation: (Violation.Kind, String, String?, String?) -> Void) -> RecordSchema.CheckedFields? {
        if let record = RecordSchema.quickCheck(leaf, values: values, shapes: shapes) { return record }
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
        return RecordSchema.CheckedFields(matter: record["matter"], sourceSystem: record["sourceSystem"],
                             sourceId: record["sourceId"])
    }
}
