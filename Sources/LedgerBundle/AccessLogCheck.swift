import LedgerFormat
import MerkleLog
import RecordFormats

/// The checks of access-log.jsonl, the optional member added with access control (docs/EXPORT.md, "The checks").
enum AccessLogCheck {
    /// What every access entry is checked against: the checkpoint's tree (nil when none opened), and the ledger id
    /// and matter tags of the bundle's entries.
    struct Context {
        var treeSize: UInt64?
        var root: Hash?
        var ledgerID: [UInt8]?
        var matterTags: Set<Hash>
    }

    /// One line, read strictly: `{"index", "leaf", "inclusionProof"}` and nothing else (retention.jsonl's layout too).
    struct Line {
        let number: Int
        let index: UInt64
        let leaf: [UInt8]
        let proof: [Hash]
    }

    static let keys: Set<String> = ["index", "leaf", "inclusionProof"]

    /// The context from the entries' facts: the first decoded entry's ledger id, and every entry's matter tag.
    static func context(_ facts: [EntryFacts], treeSize: UInt64?, root: Hash?) -> Context {
        Context(treeSize: treeSize, root: root, ledgerID: facts.lazy.compactMap(\.ledgerID).first,
                matterTags: Set(facts.compactMap(\.matterTag)))
    }

    /// The lines of a JSON-lines file (without their newlines); a final newline starts no line.
    static func lines(_ bytes: [UInt8]) -> ArraySlice<ArraySlice<UInt8>> {
        let lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false)
        return lines.prefix(bytes.last == 0x0a || bytes.isEmpty ? lines.count - 1 : lines.count)
    }

    /// Checks every line and counts them in `report.accessEntries`.
    static func check(_ bytes: [UInt8], context: Context, into report: inout BundleReport) {
        let lines = lines(bytes)
        let count = lines.count
        var previous: UInt64?
        for (offset, text) in lines.enumerated() {
            guard let line = read(Array(text), number: offset + 1, malformed: .accessEntryMalformed,
                                  into: &report) else { continue }
            if let previous, line.index <= previous {
                report.fail(.accessOrder,
                            "access entries must be in strictly ascending index order (after \(previous))",
                            entry: line.index, line: line.number)
            }
            previous = line.index
            checkEntry(line, context: context, into: &report)
        }
        report.accessEntries = count
    }

    /// The line's parts; nil (with a `kind` violation, e.g. `access-entry-malformed`) when it is not of the
    /// documented shape.
    static func read(_ text: [UInt8], number: Int, malformed kind: BundleViolation.Kind,
                     into report: inout BundleReport) -> Line? {
        func malformed(_ detail: String, entry: UInt64? = nil) -> Line? {
            report.fail(kind, detail, entry: entry, line: number)
            return nil
        }
        guard case .object(let object)? = try? JSONParser.parse(text) else { return malformed("not a JSON object") }
        if let key = object.keys.first(where: { !keys.contains($0) }) { return malformed("unknown key '\(key)'") }
        guard let index = object["index"]?.integerValue, index >= 0 else {
            return malformed("'index' is not a non-negative integer")
        }
        guard let leaf = object["leaf"]?.stringValue.flatMap(PublicBase64.decode) else {
            return malformed("'leaf' is not base64", entry: UInt64(index))
        }
        guard let proof = hashes(object["inclusionProof"]) else {
            return malformed("'inclusionProof' is not an array of base64 32-byte hashes", entry: UInt64(index))
        }
        return Line(number: number, index: UInt64(index), leaf: leaf, proof: proof)
    }

    /// An array of base64 32-byte hashes; nil when the value is anything else.
    private static func hashes(_ value: JSONValue?) -> [Hash]? {
        guard let items = value?.arrayValue else { return nil }
        let proof = items.compactMap { $0.stringValue.flatMap(Hash.init(publicBase64:)) }
        return proof.count == items.count ? proof : nil
    }

    /// The leaf is an access event naming its own index and the entries' ledger id, it read an exported matter (or
    /// every matter), and its proof leads to the checkpoint's root.
    private static func checkEntry(_ line: Line, context: Context, into report: inout BundleReport) {
        func fail(_ kind: BundleViolation.Kind, _ detail: String, expected: String? = nil, found: String? = nil) {
            report.fail(kind, detail, entry: line.index, line: line.number, expected: expected, found: found)
        }
        guard let (leaf, access) = decode(line.leaf, fail: { fail(.accessLeafMalformed, $0) }) else { return }
        if leaf.seq != line.index {
            fail(.accessIndex, "the leaf names seq \(leaf.seq), the access entry index \(line.index)",
                 expected: String(line.index), found: String(leaf.seq))
        }
        if let id = context.ledgerID, leaf.ledgerID != id {
            fail(.accessLedger, "the leaf's ledger id differs from the entries'", expected: Hex.encode(id),
                 found: Hex.encode(leaf.ledgerID))
        }
        // The bundle's rule: an access entry read every matter, or at least one matter of an exported entry.
        if !access.allMatters && !access.matters.contains(where: context.matterTags.contains) {
            fail(.accessMatter, "the access entry reads none of the exported entries' matters")
        }
        if let problem = inclusionProblem(line, treeSize: context.treeSize, root: context.root) {
            fail(.accessInclusionProof, problem)
        }
    }

    /// The event leaf and its access event; nil (after `fail`) when either does not decode or the event is no read.
    private static func decode(_ bytes: [UInt8],
                               fail: (String) -> Void) -> (EventLeaf, AccessEvent.Access)? {
        let leaf: EventLeaf
        do { leaf = try bytes.withUnsafeBytes { try EventLeaf.decode($0) } } catch {
            fail("\(error)")
            return nil
        }
        let event: AccessEvent
        do { event = try AccessEvent.decode(leaf.body) } catch {
            fail("the event body does not decode: \(error)")
            return nil
        }
        guard case .access(let access) = event else {
            fail("the event is not an access event")
            return nil
        }
        return (leaf, access)
    }

    /// Why the inclusion proof fails against the checkpoint (nil when it holds or there is no checkpoint to check).
    static func inclusionProblem(_ line: Line, treeSize: UInt64?, root: Hash?) -> String? {
        guard let treeSize, let root else { return nil }
        guard line.index < treeSize else {
            return "index \(line.index) is beyond the checkpoint's tree size \(treeSize)"
        }
        do {
            // RFC 6962 §2.1.1: the audit path from SHA-256(0x00 || leaf) at `index` yields the root.
            try checkRecord(proof: line.proof, treeSize: Int64(treeSize), root: root, index: Int64(line.index),
                            recordHash: recordHash(line.leaf))
            return nil
        } catch {
            return "the inclusion proof does not lead to the checkpoint's root (\(error))"
        }
    }
}

extension Hash {
    /// A 32-byte hash in standard padded base64, decoded strictly (public data only).
    fileprivate init?(publicBase64 text: String) {
        var text = text
        guard let hash = text.withUTF8({ PublicBase64.decodeHash(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = hash
    }
}
