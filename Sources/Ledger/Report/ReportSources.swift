import LedgerBundle
import LedgerFormat
import LedgerReport
import RecordFormats
import Sodium

/// Where a report's records come from: the ledger (decrypted) or a verified bundle (revealed fields only).
public enum ReportSource {
    /// Records of the ledger (the fields the report reads), filtered like `ledger list`.
    public static func records(from ledger: Ledger, filter: EntryFilter) throws -> [ReportRecord] {
        try ledger.reportRecords(matching: filter)
    }

    /// Verifies the bundle with `BundleVerifier` first (throws `bundleRejected` when any check fails), then returns
    /// each entry's revealed fields, seq = the entry's leaf index. Redacted fields are simply absent.
    public static func records(fromBundle path: String, options: BundleVerifyOptions,
                               filter: EntryFilter = EntryFilter()) throws -> (records: [ReportRecord], verification: BundleReport) {
        let verification = try BundleVerifier.verify(path: path, options: options)
        guard verification.isValid else { throw ReportError.bundleRejected(violations: verification.violations.count) }
        let files = try BundleReader.read(path)
        guard let bytes = files[BundleFormat.entries] else { throw BundleError.malformed("missing entries.jsonl") }
        var out = [ReportRecord]()
        for line in bytes.split(separator: 0x0a) where !line.isEmpty {
            // Verified above: every line is an object with an index and well-formed disclosures.
            guard case .object(let object)? = try? JSONParser.parse(Array(line)), let index = object["index"]?.integerValue,
                  case .array(let disclosures)? = object["disclosures"] else { continue }
            var members = [(String, JSONValue)]()
            var seen = Set<String>()
            for item in disclosures {
                guard let text = item.stringValue, let decoded = Base64.decodeURL(text),
                      case .array(let parts)? = try? JSONParser.parse(decoded), parts.count == 3,
                      case .string(let name) = parts[1], seen.insert(name).inserted else { continue }
                members.append((name, parts[2]))
            }
            let record = ReportRecord(seq: UInt64(index), fields: JSONObject(members))
            if let matter = filter.matter, record.fields["matter"]?.stringValue != matter { continue }
            if filter.from != nil || filter.to != nil {
                guard let t = record.fields["occurredAt"]?.stringValue.flatMap(Timestamp.parseRFC3339),
                      filter.from.map({ t >= $0 }) ?? true, filter.to.map({ t <= $0 }) ?? true else { continue }
            }
            out.append(record)
        }
        return (out, verification)
    }
}
