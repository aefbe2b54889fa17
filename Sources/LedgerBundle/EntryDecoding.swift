import Foundation
import LedgerFormat
import MerkleLog
import RecordFormats

/// The small decoders of an entry's parts: hex digests, redaction reasons, disclosures.
enum EntryDecoding {
    /// Lowercase hex digit values; 0xff for every other byte.
    private static let hexValues: [UInt8] = (0..<256).map { c in
        switch c {
        case 0x30...0x39: return UInt8(c - 0x30)
        case 0x61...0x66: return UInt8(c - 0x61 + 10)
        default: return 0xff
        }
    }

    /// 64 lowercase hex digits as a hash.
    static func hexHash(_ text: UnsafeRawBufferPointer) -> Hash? {
        guard text.count == 64 else { return nil }
        var h = Hash.zero
        var bad: UInt8 = 0
        hexValues.withUnsafeBufferPointer { t in
            withUnsafeMutableBytes(of: &h) { out in
                for i in 0..<32 {
                    let hi = t[Int(text[2 * i])], lo = t[Int(text[2 * i + 1])]
                    bad |= (hi | lo) & 0x80
                    out[i] = hi << 4 | (lo & 0x0f)
                }
            }
        }
        return bad == 0 ? h : nil
    }

    private static let reasonBytes = RedactionReason.allCases.map { ($0, Array($0.rawValue.utf8)) }

    /// The redaction reason spelled exactly by `text`, if any.
    static func reasonNamed(_ text: UnsafeRawBufferPointer) -> RedactionReason? {
        for (reason, spelling) in reasonBytes where spelling.count == text.count
            && spelling.withUnsafeBytes({ memcmp($0.baseAddress!, text.baseAddress!, text.count) == 0 }) {
            return reason
        }
        return nil
    }

    /// The name and value of a decoded disclosure `["salt","name",value]`, or nil when it is not such a JSON array.
    /// The exporter's form with a plain ASCII string value is read directly; anything else goes to the strict parser.
    static func disclosureParts(_ json: [UInt8]) -> (name: String, value: JSONValue)? {
        if let parts = json.withUnsafeBytes({ CanonicalEntryScanner.scanDisclosure($0) }) {
            return json.withUnsafeBytes { raw in (raw.string(parts.name), .string(raw.string(parts.value))) }
        }
        guard case .array(let parts)? = try? JSONParser.parse(json), parts.count == 3,
              case .string = parts[0], case .string(let name) = parts[1] else { return nil }
        return (name, parts[2])
    }
}
