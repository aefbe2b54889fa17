import LedgerFormat
import LedgerSupport
import MerkleLog
import RecordFormats

/// Facts one entry line yields for the cross-checks (privilege log, counts) and, when asked, for a report.
struct EntryFacts {
    var line = 0
    var seq: UInt64?
    /// The leaf's ledger id and matter tag, once it decoded (what access-log.jsonl is checked against).
    var ledgerID: [UInt8]?
    var matterTag: Hash?
    /// The RFC 6962 record hash SHA-256(0x00 || leaf), once the leaf decoded (what a receipt is checked against).
    var recordHash: Hash?
    var disclosures = 0
    /// Privilege-log metadata columns (`BundleFormat.privilegeLogMetadata` order), spreadsheet-safe: revealed text,
    /// "[redacted]", or "" when absent. Empty when the entry was too malformed to tell (every column then mismatches).
    var columns: [String] = []
    var redacted: [(field: String, reason: String)] = []
    /// The revealed fields in disclosure order, kept only when the context asks (`BundleVerifier.open`).
    var revealed: [(name: String, value: JSONValue)] = []
    var violations: [BundleViolation] = []

    mutating func fail(_ kind: BundleViolation.Kind, _ detail: String, expected: String? = nil,
                       found: String? = nil) {
        violations.append(BundleViolation(kind: kind, entry: seq, line: line, detail: detail, expected: expected,
                                          found: found))
    }
}

/// What every entry is checked against: the checkpoint's tree (nil when there is none to check proofs against);
/// and whether to keep each entry's revealed values.
struct EntryCheckContext {
    var treeSize: UInt64?
    var root: Hash?
    var keepRevealed = false
}

/// The checks of each entries.jsonl line (docs/EXPORT.md, "The checks").
enum EntryChecks {
    /// The facts of every line, in line order. Lines are checked on every core in contiguous shares, each worker
    /// with its own memo of the interior node hashes that neighbouring proofs share.
    static func check(_ bytes: [UInt8], context: EntryCheckContext) -> [EntryFacts] {
        let lines = lineRanges(bytes)
        let facts = try? bytes.withUnsafeBytes { raw in
            try parallelMap(Array(lines.indices), minimumChunk: 256, context: { NodeHashMemo() }) { memo, i in
                checkEntry(raw.slice(lines[i]), line: i + 1, context: context, memo: &memo)
            }
        }
        return facts ?? []
    }

    /// The range of each line (without its newline); a final newline starts no line.
    private static func lineRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var lines = [Range<Int>]()
        lines.reserveCapacity(bytes.count / 2048 + 1)
        bytes.withUnsafeBufferPointer { b in
            var lineStart = 0
            while lineStart < b.count {
                let end = b[lineStart...].firstIndex(of: 0x0a) ?? b.count
                lines.append(lineStart..<end)
                lineStart = end + 1
            }
        }
        return lines
    }

    private static func checkEntry(_ text: UnsafeRawBufferPointer, line: Int, context: EntryCheckContext,
                                   memo: inout NodeHashMemo) -> EntryFacts {
        var facts = EntryFacts()
        facts.line = line
        if let parts = CanonicalEntryScanner.scan(text) {
            checkParts(parts, text: text, context: context, memo: &memo, into: &facts)
            return facts
        }
        // Anything but the exporter's exact layout: the strict JSON parser, with the same checks.
        guard let (parts, arena) = StrictEntryReader.read(text, into: &facts) else { return facts }
        arena.withUnsafeBytes { checkParts(parts, text: $0, context: context, memo: &memo, into: &facts) }
        return facts
    }

    /// The checks of one entry, on its parts (ranges of `text`).
    private static func checkParts(_ parts: BundleVerifier.EntryParts, text: UnsafeRawBufferPointer,
                                   context: EntryCheckContext, memo: inout NodeHashMemo,
                                   into facts: inout EntryFacts) {
        facts.seq = UInt64(parts.index)
        guard let (leaf, leafBytes) = decodeLeaf(parts, text: text, into: &facts) else { return }
        (facts.ledgerID, facts.matterTag) = (leaf.ledgerID, leaf.matterTag)
        let hash = recordHash(leafBytes)
        facts.recordHash = hash
        checkInclusion(parts, text: text, recordHash: hash, context: context, memo: &memo, into: &facts)
        var slots = FieldSlots(names: leaf.fieldNames)
        checkDisclosures(parts.disclosures, text: text, keep: context.keepRevealed, slots: &slots, into: &facts)
        checkRedactions(parts.redacted, text: text, slots: &slots, into: &facts)
        checkCoverage(slots, leaf: leaf, into: &facts)
        facts.columns = slots.privilegeLogColumns
    }

    /// The leaf, decoded strictly, and its bytes; it must name the entry's index.
    private static func decodeLeaf(_ parts: BundleVerifier.EntryParts, text: UnsafeRawBufferPointer,
                                   into facts: inout EntryFacts) -> (leaf: Leaf, bytes: [UInt8])? {
        guard let range = parts.leaf, let bytes = PublicBase64.decode(text.slice(range), urlSafe: false) else {
            facts.fail(.entryMalformed, "'leaf' is not base64")
            return nil
        }
        let leaf: Leaf
        do { leaf = try Leaf.decode(bytes) } catch {
            facts.fail(.leafMalformed, "\(error)")
            return nil
        }
        if leaf.seq != UInt64(parts.index) {
            facts.fail(.entryIndex, "the leaf names seq \(leaf.seq), the entry index \(parts.index)",
                       expected: String(parts.index), found: String(leaf.seq))
        }
        return (leaf, bytes)
    }

    /// The inclusion proof leads from the leaf at `index` to the checkpoint's root.
    private static func checkInclusion(_ parts: BundleVerifier.EntryParts, text: UnsafeRawBufferPointer,
                                       recordHash hash: Hash, context: EntryCheckContext, memo: inout NodeHashMemo,
                                       into facts: inout EntryFacts) {
        guard let proof = decodeProof(parts.proof, text: text) else {
            facts.fail(.entryMalformed, "'inclusionProof' is not an array of base64 32-byte hashes")
            return
        }
        guard let treeSize = context.treeSize, let root = context.root else { return }
        let index = parts.index
        guard UInt64(index) < treeSize else {
            facts.fail(.inclusionProof, "index \(index) is beyond the checkpoint's tree size \(treeSize)")
            return
        }
        do {
            // RFC 6962 §2.1.1: the audit path from the record hash SHA-256(0x00 || leaf) at `index` yields the root.
            try checkRecord(proof: proof, treeSize: Int64(treeSize), root: root, index: index,
                            recordHash: hash, memo: &memo)
        } catch {
            facts.fail(.inclusionProof, "the inclusion proof does not lead to the checkpoint's root (\(error))")
        }
    }

    /// The proof's hashes; nil when it is not an array of base64 32-byte hashes.
    private static func decodeProof(_ ranges: [Range<Int>]?, text: UnsafeRawBufferPointer) -> [Hash]? {
        guard let ranges else { return nil }
        var proof = [Hash]()
        proof.reserveCapacity(ranges.count)
        for range in ranges {
            guard let hash = PublicBase64.decodeHash(text.slice(range)) else { return nil }
            proof.append(hash)
        }
        return proof
    }

    /// `keep`: keep each revealed (name, value) in `facts.revealed`.
    private static func checkDisclosures(_ items: [Range<Int>?]?, text: UnsafeRawBufferPointer, keep: Bool,
                                         slots: inout FieldSlots, into facts: inout EntryFacts) {
        guard let items else {
            facts.fail(.entryMalformed, "'disclosures' is not an array")
            return
        }
        for item in items { checkDisclosure(item, text: text, keep: keep, slots: &slots, into: &facts) }
    }

    /// A disclosure is base64url of [salt, name, value] for a field of the leaf not yet filled; it fills that slot.
    private static func checkDisclosure(_ item: Range<Int>?, text: UnsafeRawBufferPointer, keep: Bool,
                                        slots: inout FieldSlots, into facts: inout EntryFacts) {
        guard let range = item else {
            facts.fail(.disclosureMalformed, "a disclosure is not a string")
            return
        }
        let encoded = text.slice(range)
        guard let decoded = PublicBase64.decode(encoded, urlSafe: true),
              let (name, value) = EntryDecoding.disclosureParts(decoded) else {
            facts.fail(.disclosureMalformed, "a disclosure is not base64url of a JSON array [salt, name, value]")
            return
        }
        guard let slot = slots.names.firstIndex(of: name) else {
            facts.fail(.disclosureName, "a disclosure names field '\(name)', which the leaf does not have")
            return
        }
        guard slots.digests[slot] == nil else {
            facts.fail(.disclosureName, "field '\(name)' is disclosed twice")
            return
        }
        slots.disclose(slot, digest: Hash.sha256(encoded), value: value)  // RFC 9901 §4.2.3: SHA-256 of the ASCII
        facts.disclosures += 1
        if keep { facts.revealed.append((name, value)) }
    }

    private static func checkRedactions(_ items: [BundleVerifier.EntryParts.Redaction?]?,
                                        text: UnsafeRawBufferPointer, slots: inout FieldSlots,
                                        into facts: inout EntryFacts) {
        guard let items else {
            facts.fail(.entryMalformed, "'redacted' is not an array")
            return
        }
        for item in items { checkRedaction(item, text: text, slots: &slots, into: &facts) }
    }

    /// A redaction names a field of the leaf not yet filled, a 64-hex digest and a known reason; it fills that slot.
    private static func checkRedaction(_ item: BundleVerifier.EntryParts.Redaction?, text: UnsafeRawBufferPointer,
                                       slots: inout FieldSlots, into facts: inout EntryFacts) {
        guard let item else {
            facts.fail(.redaction, "a redaction is not {field, reason, digest}")
            return
        }
        let field = text.string(item.field)
        let reason = EntryDecoding.reasonNamed(text.slice(item.reason))
        guard let digest = EntryDecoding.hexHash(text.slice(item.digest)) else {
            facts.fail(.redaction, "the digest of '\(field)' is not 64 lowercase hex digits")
            return
        }
        guard let slot = slots.names.firstIndex(of: field) else {
            facts.fail(.redaction, "redacted field '\(field)' is not in the leaf")
            return
        }
        guard slots.digests[slot] == nil else {
            facts.fail(.redaction, "field '\(field)' is both disclosed and redacted, or redacted twice")
            return
        }
        if reason == nil {
            facts.fail(.redactionReason, "field '\(field)' has an unknown reason '\(text.string(item.reason))'")
        }
        slots.redact(slot, digest: digest)
        facts.redacted.append((field, reason?.rawValue ?? text.string(item.reason)))
    }

    /// Every field is disclosed or redacted, and the digests reproduce the leaf's fields digest.
    private static func checkCoverage(_ slots: FieldSlots, leaf: Leaf, into facts: inout EntryFacts) {
        let missing = slots.unfilled
        guard missing.isEmpty else {
            facts.fail(.fieldCoverage, "fields neither disclosed nor redacted: \(missing.joined(separator: ", "))")
            return
        }
        let digest = slots.fieldsDigest
        if digest != leaf.fieldsDigest {
            facts.fail(.fieldsDigest, "the disclosed and redacted digests do not reproduce the leaf's fields digest",
                       expected: leaf.fieldsDigest.hex, found: digest.hex)
        }
    }

    /// Adds each line's violations and counts to the report, and checks that the indexes strictly ascend. (That
    /// entries.jsonl holds an entry is checked once retention.jsonl is: `checkNotEmpty`.)
    static func tally(_ facts: [EntryFacts], into report: inout BundleReport) {
        var previous: UInt64?
        for fact in facts {
            report.violations.append(contentsOf: fact.violations)
            report.entries += 1
            report.disclosures += fact.disclosures
            report.redactions += fact.redacted.count
            guard let seq = fact.seq else { continue }
            if let previous, seq <= previous {
                report.fail(.entryOrder, "entries must be in strictly ascending index order (after \(previous))",
                            entry: seq, line: fact.line)
            }
            previous = seq
        }
    }

    /// entries.jsonl holds at least one entry, unless retention.jsonl holds a destroyed matter's record leaf (a
    /// metadata-only bundle of a destroyed matter).
    static func checkNotEmpty(into report: inout BundleReport) {
        if report.entries == 0 && (report.destroyedEntries ?? 0) == 0 {
            report.fail(.noEntries, "entries.jsonl holds no entries (and retention.jsonl no destroyed entry)")
        }
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes at `range` of this buffer.
    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: self[range]) }

    /// The bytes at `range` as a string (invalid UTF-8 repaired).
    func string(_ range: Range<Int>) -> String { String(decoding: slice(range), as: UTF8.self) }
}
