import LedgerFormat
import MerkleLog
import RecordFormats

extension FuzzTargets {
    /// A stored leaf: `LeafView` (verify's view in place) accepts exactly what `Leaf.decode` accepts, with the
    /// same fields, and a decoded leaf encodes back to the same bytes.
    static let leaf = FuzzTarget("leaf") { bytes in
        let strict = try? Leaf.decode(bytes)
        let view = LeafView(bytes)
        agree((strict == nil) == (view == nil), "Leaf.decode and LeafView accept different leaves")
        guard let strict, let view else { return }
        agree(strict.seq == view.seq && strict.recordedAt == view.recordedAt && strict.keyID == view.keyID,
              "seq, recordedAt or key id differ")
        agree(strict.previousHash == view.previousHash && strict.matterTag == view.matterTag
                  && strict.sourceTag == view.sourceTag && strict.ciphertextHash == view.ciphertextHash
                  && strict.fieldsDigest == view.fieldsDigest, "a hash field differs")
        agree(strict.ledgerID == Array(view.ledgerID), "ledger id differs")
        var names = [String]()
        view.forEachName { _, name in names.append(String(decoding: name, as: UTF8.self)) }
        agree(names == strict.fieldNames && view.fieldCount == names.count, "field names differ")
        agree(strict.encoded() == Array(bytes), "the leaf does not encode back to its bytes")
    }

    /// A value of `entries` in storage format 3: `EntryGroup.split` (verify), `entryCount` (the entry count) and
    /// `entry(_:of:)` (a read by seq) accept the same groups and agree on every entry; a group that splits encodes
    /// back to the same bytes.
    static let entryGroup = FuzzTarget("entry-group") { bytes in
        let entries = try? EntryGroup.split(bytes)
        let count = try? EntryGroup.entryCount(bytes)
        agree((entries == nil) == (count == nil), "split and entryCount accept different groups")
        agree((try? EntryGroup.entry(0, of: bytes)) == nil || entries != nil, "entry(0) reads a group split refuses")
        guard let entries, let count else { return }
        agree(entries.count == count && count > 0, "split and entryCount count differently")
        for (index, entry) in entries.enumerated() where index < 4 || index == count - 1 {
            let single = try? EntryGroup.entry(index, of: bytes)
            agree(single.map { $0.baseAddress == entry.baseAddress && $0.count == entry.count } == true,
                  "entry(\(index)) differs from split")
        }
        agree((try? EntryGroup.entry(count, of: bytes)) == nil, "an entry past the count")
        agree(EntryGroup.encode(entries.map { Array($0) }) == Array(bytes), "the group does not encode back to its bytes")
    }

    /// A decrypted payload: `EntryPayload.split` (deep verify's views) agrees with `EntryPayload.decode` for the
    /// field count given in the first byte.
    static let payload = FuzzTarget("payload") { bytes in
        guard let fieldCount = bytes.first.map(Int.init) else { return }
        let body = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        let strict = try? EntryPayload.decode(body, fieldCount: fieldCount)
        var values = [UnsafeRawBufferPointer]()
        let seed = EntryPayload.split(body, fieldCount: fieldCount, into: &values)
        agree((strict == nil) == (seed == nil), "decode and split accept different payloads")
        guard let strict, let seed else { return }
        agree(strict.seed == Array(seed) && strict.values == values.map { Array($0) }, "seed or values differ")
        agree(strict.encoded() == Array(body), "the payload does not encode back to its bytes")
    }
}

extension FuzzTargets {
    /// An access-control event: an event leaf (first byte 3) or a bare event body. What decodes re-encodes to the
    /// same bytes (one byte form per event), and replaying it into the grants in force never traps.
    static let event = FuzzTarget("event") { bytes in
        var body = Array(bytes)
        if EventLeaf.isEvent(bytes) {
            guard let leaf = try? EventLeaf.decode(bytes) else { return }
            agree(leaf.encoded() == Array(bytes), "the event leaf does not encode back to its bytes")
            body = leaf.body
        }
        guard let event = try? AccessEvent.decode(body) else { return }
        agree(event.encoded() == body, "the event does not encode back to its body")
        var state = AccessState()
        _ = state.apply(event, seq: 1)
        _ = state.apply(event, seq: 2)
    }
}
