import Dispatch
import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import RecordFormats
import SignedNote
import Sodium

/// A stored entry cut into its leaf and ciphertext, with the two SHA-256 hashes every entry needs: the leaf's record
/// hash (RFC 6962) and the ciphertext's digest.
struct HashedEntry {
    let leaf: UnsafeRawBufferPointer
    let ciphertext: UnsafeRawBufferPointer
    var recordHash = Hash.zero
    var ciphertextDigest = Hash.zero

    /// nil when the stored entry is truncated (it cannot be cut).
    init?(_ value: UnsafeRawBufferPointer) {
        guard let (leaf, ciphertext) = try? StoredEntry.split(value) else { return nil }
        self.leaf = leaf
        self.ciphertext = ciphertext
    }

    mutating func hash() {
        recordHash = MerkleLog.recordHash(leaf)
        ciphertextDigest = Hash.sha256(ciphertext)
    }

    /// Both entries' hashes at once: leaf with leaf and ciphertext with ciphertext, their blocks interleaved.
    static func hash(_ a: inout HashedEntry, _ b: inout HashedEntry) {
        (a.recordHash, b.recordHash) = recordHashes(a.leaf, b.leaf)
        (a.ciphertextDigest, b.ciphertextDigest) = SHA256Hasher.hash(a.ciphertext, b.ciphertext)
    }

    /// Cuts and hashes one or two stored entries (two at once when both can be cut).
    static func hashed(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer?) -> (HashedEntry?, HashedEntry?) {
        var first = HashedEntry(a), second = b.flatMap { HashedEntry($0) }
        if first != nil, second != nil {
            hash(&first!, &second!)
        } else {
            first?.hash()
            second?.hash()
        }
        return (first, second)
    }
}

extension Ledger {
    /// Everything that can be checked about one entry on its own, on any core: leaf, ciphertext digest, the index
    /// rows it implies, written to `facts` (fresh `EntryFacts(seq: 0)`: filled in place, no ~250-byte copy per
    /// entry); in deep verify it returns the contents still to check (`checkContents`, two entries at a time).
    /// `entry` is nil when the stored entry is truncated.
    func checkEntry(_ seq: UInt64?, _ entry: HashedEntry?, context: ScanContext, worker: Int,
                    into facts: inout EntryFacts) -> DeepItem? {
        guard let seq else {
            facts.seq = .max
            return nil
        }
        facts.seq = seq
        guard let entry else {
            facts.fail(.leafMalformed, "the stored entry is truncated")
            return nil
        }
        let leafBytes = entry.leaf, ciphertext = entry.ciphertext
        facts.hashed = true
        facts.recordHash = entry.recordHash
        if EventLeaf.isEvent(leafBytes) {
            Self.checkEvent(leafBytes, ciphertext: ciphertext, context: context, into: &facts)
            return nil
        }
        guard let leaf = Self.decodedLeaf(leafBytes, shapes: context.shapes(worker), into: &facts) else { return nil }
        Self.checkLeaf(leaf, ciphertextDigest: entry.ciphertextDigest, context: context, into: &facts)
        Self.impliedIndexRows(leaf, context: context, worker: worker, into: &facts)
        // A destroyed matter's entries cannot be opened by anyone: verify reports them as shredded, not as damage.
        guard context.deep, !context.keys.destroyed.contains(leaf.matterTag) else { return nil }
        return DeepItem(leaf: leaf, ciphertext: ciphertext)
    }

    /// The leaf's view, or nil (and a violation naming the decoding error) when it does not decode.
    @inline(__always)
    private static func decodedLeaf(_ bytes: UnsafeRawBufferPointer, shapes: LeafShapes,
                                    into facts: inout EntryFacts) -> LeafView? {
        guard let leaf = LeafView(bytes, shapes: shapes) else {
            // LeafView accepts exactly what Leaf.decode accepts: decode again only to name the error.
            do { _ = try Leaf.decode(bytes) } catch {
                facts.fail(.leafMalformed, "the leaf does not decode: \(error)")
                return nil
            }
            facts.fail(.leafMalformed, "the leaf does not decode")
            return nil
        }
        facts.decoded = true
        facts.previousHash = leaf.previousHash
        facts.recordedAt = leaf.recordedAt
        facts.hasSource = leaf.sourceTag != nil
        return leaf
    }

    /// The leaf's position, ledger, ciphertext digest and matter key agree with where and how it is stored.
    @inline(__always)
    private static func checkLeaf(_ leaf: LeafView, ciphertextDigest digest: Hash, context: ScanContext,
                                  into facts: inout EntryFacts) {
        let seq = facts.seq
        if leaf.seq != seq {
            facts.fail(.leafSequence, "the leaf names another position", expected: String(seq), found: String(leaf.seq))
        }
        if !FastJSON.bytesEqual(leaf.ledgerID, context.ledgerID) {
            facts.fail(.ledgerID, "the leaf belongs to another ledger", expected: Hex.encode(context.ledgerID),
                       found: Hex.encode(leaf.ledgerID))
        }
        if digest != leaf.ciphertextHash {
            facts.fail(.ciphertextDigest, "the ciphertext does not match the leaf's digest",
                       expected: leaf.ciphertextHash.hex, found: digest.hex)
        }
        if !context.keys.admits(version: leaf.version, keyID: leaf.keyID, tag: leaf.matterTag) {
            facts.fail(.matterKeyIndex, "the leaf's key id is not a key of its matter (per the matter-key index "
                       + "and the keys database)", expected: "a \(leaf.version == 1 ? "v1 matter" : "batch") key of "
                       + "the matter", found: "key \(leaf.keyID)")
        }
    }

    /// An event entry: its leaf decodes, sits where it is stored, has no ciphertext, and its body is a valid event.
    private static func checkEvent(_ bytes: UnsafeRawBufferPointer, ciphertext: UnsafeRawBufferPointer,
                                   context: ScanContext, into facts: inout EntryFacts) {
        facts.isEvent = true
        let leaf: EventLeaf
        do { leaf = try EventLeaf.decode(bytes) } catch {
            return facts.fail(.leafMalformed, "the event leaf does not decode: \(error)")
        }
        facts.decoded = true
        facts.previousHash = leaf.previousHash
        facts.recordedAt = leaf.recordedAt
        if leaf.seq != facts.seq {
            facts.fail(.leafSequence, "the leaf names another position", expected: String(facts.seq),
                       found: String(leaf.seq))
        }
        if leaf.ledgerID != context.ledgerID {
            facts.fail(.ledgerID, "the leaf belongs to another ledger", expected: Hex.encode(context.ledgerID),
                       found: Hex.encode(leaf.ledgerID))
        }
        if !ciphertext.isEmpty {
            facts.fail(.ciphertextDigest, "an event entry carries \(ciphertext.count) bytes after its leaf",
                       expected: "0 bytes", found: "\(ciphertext.count) bytes")
        }
        do { facts.event = EventBox(try AccessEvent.decode(leaf.body)) } catch {
            facts.fail(.accessEvent, "the event body is not a valid event: \(error)")
        }
    }

    /// The keyed digests of the matters and sources index rows this leaf implies (compared with the stored rows).
    @inline(__always)
    private static func impliedIndexRows(_ leaf: LeafView, context: ScanContext, worker: Int,
                                         into facts: inout EntryFacts) {
        facts.matterTag = leaf.matterTag
        let matterRow = (domain: IndexSetDigest.matterDomain, key: leaf.matterTag)
        guard let tag = leaf.sourceTag else {
            facts.matterRow = context.rowDigest(domain: matterRow.domain, key: matterRow.key, seq: facts.seq,
                                                worker: worker)
            return
        }
        (facts.matterRow, facts.sourceRow) = context.rowDigests(matterRow, (IndexSetDigest.sourceDomain, tag),
                                                                seq: facts.seq, worker: worker)
    }
}
