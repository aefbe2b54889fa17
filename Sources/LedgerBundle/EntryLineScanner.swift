/// Takes apart an entries.jsonl line written exactly as the exporter writes it (docs/FORMAT.md, "Bundle v1"):
///
///     {"index":N,"leaf":"…","inclusionProof":["…",…],"disclosures":["…",…],
///      "redacted":[{"field":"…","reason":"…","digest":"…"},…]}
///
/// with no whitespace and strings of printable ASCII without escapes. Such a line is valid JSON whose strings are
/// their bytes, so its parts are byte ranges of the line: no value tree, no string copies. Anything else (other
/// key order, whitespace, escapes, non-ASCII, a leading zero, a huge index) returns nil and the verifier uses the
/// strict JSON parser instead, so this accepts nothing that parser would refuse or read differently.
package enum CanonicalEntryScanner {
    package static func scan(_ line: UnsafeRawBufferPointer) -> BundleVerifier.EntryParts? {
        var s = Cursor(bytes: line)
        guard s.literal(#"{"index":"#), let index = s.index() else { return nil }
        guard s.literal(#","leaf":"#), let leaf = s.string() else { return nil }
        guard s.literal(#","inclusionProof":"#), let proof = s.stringArray() else { return nil }
        guard s.literal(#","disclosures":"#), let disclosures = s.stringArray() else { return nil }
        guard s.literal(#","redacted":["#) else { return nil }
        var redacted = [BundleVerifier.EntryParts.Redaction?]()
        if !s.literal("]") {
            repeat {
                guard s.literal(#"{"field":"#), let field = s.string(),
                      s.literal(#","reason":"#), let reason = s.string(),
                      s.literal(#","digest":"#), let digest = s.string(), s.literal("}") else { return nil }
                redacted.append((field, reason, digest))
            } while s.literal(",")
            guard s.literal("]") else { return nil }
        }
        guard s.literal("}"), s.atEnd else { return nil }
        return BundleVerifier.EntryParts(index: index, leaf: leaf, proof: proof, disclosures: disclosures.map { $0 },
                                         redacted: redacted)
    }

    /// The name and value ranges of a decoded disclosure written as the exporter writes it, `["salt","name","value"]`
    /// with plain ASCII strings (no escapes): valid JSON whose strings are their bytes. nil for anything else.
    package static func scanDisclosure(_ json: UnsafeRawBufferPointer) -> (name: Range<Int>, value: Range<Int>)? {
        var s = Cursor(bytes: json)
        guard s.literal("["), s.string() != nil, s.literal(","), let name = s.string(), s.literal(","),
              let value = s.string(), s.literal("]"), s.atEnd else { return nil }
        return (name, value)
    }

    private struct Cursor {
        package let bytes: UnsafeRawBufferPointer
        package var at = 0

        package var atEnd: Bool { at == bytes.count }

        package mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard bytes.count - at >= count else { return false }
            let p = text.utf8Start
            for i in 0..<count where bytes[at + i] != p[i] { return false }
            at += count
            return true
        }

        /// A JSON integer without sign or leading zero, at most 18 digits (always an Int64).
        package mutating func index() -> Int64? {
            var value: Int64 = 0
            let start = at
            while at < bytes.count, (0x30...0x39).contains(bytes[at]), at - start < 18 {
                value = value * 10 + Int64(bytes[at] - 0x30)
                at += 1
            }
            let digits = at - start
            guard digits > 0, at == bytes.count || !(0x30...0x39).contains(bytes[at]) else { return nil }
            guard digits == 1 || bytes[start] != 0x30 else { return nil }
            return value
        }

        /// A quoted string of printable ASCII other than `"` and `\`: its content range.
        package mutating func string() -> Range<Int>? {
            guard at < bytes.count, bytes[at] == 0x22 else { return nil }
            let start = at + 1
            var i = start
            // Eight bytes at a time while none is special (a quote, a backslash, a control or non-ASCII byte).
            while i + 8 <= bytes.count,
                  !Self.hasSpecialByte(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
            while i < bytes.count {
                let c = bytes[i]
                if c == 0x22 { break }
                guard c >= 0x20, c < 0x7f, c != 0x5c else { return nil }
                i += 1
            }
            guard i < bytes.count else { return nil }
            at = i + 1
            return start..<i
        }

        /// Whether any byte of `w` is below 0x20, 0x7f or above, `"` or `\` (bit tricks over the eight bytes at once).
        package static func hasSpecialByte(_ w: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
            return w & highs != 0 || (w &- ones &* 0x20) & ~w & highs != 0
                || hasZeroByte(w ^ (ones &* 0x7f)) || hasZeroByte(w ^ (ones &* 0x22)) || hasZeroByte(w ^ (ones &* 0x5c))
        }

        package mutating func stringArray() -> [Range<Int>]? {
            guard literal("[") else { return nil }
            var out = [Range<Int>]()
            if literal("]") { return out }
            repeat {
                guard let r = string() else { return nil }
                out.append(r)
            } while literal(",")
            return literal("]") ? out : nil
        }
    }
}
