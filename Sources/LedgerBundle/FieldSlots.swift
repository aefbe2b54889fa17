import LedgerFormat
import MerkleLog
import RecordFormats

/// One digest slot per field of a leaf: the entry's disclosures and redactions must fill each exactly once.
struct FieldSlots {
    let names: [String]
    private(set) var digests: [Hash?]
    private var redacted: [Bool]
    /// The revealed text of the privilege log's metadata fields (`BundleFormat.privilegeLogMetadata` order).
    private var metadataText: [String?]

    init(names: [String]) {
        self.names = names
        digests = [Hash?](repeating: nil, count: names.count)
        redacted = [Bool](repeating: false, count: names.count)
        metadataText = [String?](repeating: nil, count: BundleFormat.privilegeLogMetadata.count)
    }

    /// Fills `slot` with a disclosure's digest and notes its value when the privilege log shows that field.
    mutating func disclose(_ slot: Int, digest: Hash, value: JSONValue) {
        digests[slot] = digest
        guard let column = BundleFormat.privilegeLogMetadata.firstIndex(of: names[slot]) else { return }
        switch value {
        case .string(let s): metadataText[column] = s
        case .integer(let i): metadataText[column] = String(i)
        case .bool(let b): metadataText[column] = b ? "true" : "false"
        default: metadataText[column] = JSONWriter.string(value)
        }
    }

    /// Fills `slot` with a redaction's digest.
    mutating func redact(_ slot: Int, digest: Hash) {
        digests[slot] = digest
        redacted[slot] = true
    }

    /// The names of the fields neither disclosed nor redacted, in leaf order.
    var unfilled: [String] { names.indices.filter { digests[$0] == nil }.map { names[$0] } }

    /// The leaf's fields digest (`Leaf.FieldsHasher`) over the slots. Precondition: every slot filled.
    var fieldsDigest: Hash {
        var hasher = Leaf.FieldsHasher()
        for (name, digest) in zip(names, digests) { hasher.add(name: name, digest: digest!) }
        return hasher.finalize()
    }

    /// The privilege log's metadata cells for this entry: "[redacted]" for a redacted field, else the revealed text
    /// made spreadsheet-safe, "" when the field is absent.
    var privilegeLogColumns: [String] {
        BundleFormat.privilegeLogMetadata.enumerated().map { column, name in
            if let slot = names.firstIndex(of: name), redacted[slot] { return BundleFormat.redactedMarker }
            return CSVWriter.formulaSafe(metadataText[column] ?? "")
        }
    }
}
