import RecordFormats

/// An entries.jsonl line in any layout but the exporter's exact one, read with the strict JSON parser into the same
/// parts the canonical scanner yields; the parts' ranges point into an arena of the parser's strings.
package enum StrictEntryReader {
    /// The strict reading of a line as the verifier takes it when the canonical scanner refuses it: its parts and
    /// arena, and whether reading it found any violation (an unknown key); nil when the line is unreadable.
    package static func read(_ text: UnsafeRawBufferPointer)
        -> (parts: BundleVerifier.EntryParts, arena: [UInt8], clean: Bool)? {
        var facts = EntryFacts()
        guard let (parts, arena) = read(text, into: &facts) else { return nil }
        return (parts, arena, facts.violations.isEmpty)
    }

    /// The line's parts and their arena; nil (with the violation in `facts`) when the line is not a JSON object with
    /// a non-negative integer index.
    static func read(_ text: UnsafeRawBufferPointer,
                     into facts: inout EntryFacts) -> (parts: BundleVerifier.EntryParts, arena: [UInt8])? {
        guard case .object(let object)? = try? JSONParser.parse(text) else {
            facts.fail(.entryMalformed, "not a JSON object")
            return nil
        }
        for (key, _) in object where !BundleVerifier.entryKeys.contains(key) {
            facts.fail(.entryMalformed, "unknown key '\(key)'")
        }
        guard let index = object["index"]?.integerValue, index >= 0 else {
            facts.fail(.entryMalformed, "'index' is not a non-negative integer")
            return nil
        }
        var arena = Arena()
        let parts = parts(of: object, index: index, arena: &arena)
        return (parts, arena.bytes)
    }

    /// The strings of one line, end to end.
    private struct Arena {
        var bytes = [UInt8]()

        mutating func put(_ s: String) -> Range<Int> {
            let start = bytes.count
            bytes.append(contentsOf: s.utf8)
            return start..<bytes.count
        }
    }

    /// nil for each part of the wrong JSON type.
    private static func parts(of object: JSONObject, index: Int64,
                              arena: inout Arena) -> BundleVerifier.EntryParts {
        var parts = BundleVerifier.EntryParts(index: index)
        parts.leaf = object["leaf"]?.stringValue.map { arena.put($0) }
        if case .array(let items)? = object["inclusionProof"] {
            let strings = items.compactMap(\.stringValue)
            parts.proof = strings.count == items.count ? strings.map { arena.put($0) } : nil
        }
        if case .array(let items)? = object["disclosures"] {
            parts.disclosures = items.map { $0.stringValue.map { arena.put($0) } }
        }
        if case .array(let items)? = object["redacted"] {
            parts.redacted = items.map { redaction($0, arena: &arena) }
        }
        return parts
    }

    /// A redaction object of exactly {field, reason, digest}, all strings; nil otherwise.
    private static func redaction(_ item: JSONValue, arena: inout Arena) -> BundleVerifier.EntryParts.Redaction? {
        guard case .object(let r) = item, r.count == 3, let field = r["field"]?.stringValue,
              let reason = r["reason"]?.stringValue, let digest = r["digest"]?.stringValue else { return nil }
        return (arena.put(field), arena.put(reason), arena.put(digest))
    }
}
