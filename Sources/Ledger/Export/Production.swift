#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LedgerBundle
import LedgerFormat
import MerkleLog
import RecordFormats

/// What to produce and how (docs/PRODUCE.md): the export's selection and profile, plus the production's numbering.
public struct ProductionOptions: Sendable {
    /// Load-file formats. Only Concordance DAT for now.
    public enum Format: String, Sendable, CaseIterable { case dat }

    /// Matters, time range and redaction profile: exactly the export's.
    public var export: ExportOptions
    public var format: Format = .dat
    /// BEGDOC prefix: 1 to 32 of A–Z, a–z, 0–9, `-`, `_`.
    public var prefix = "PROD"
    /// The first BEGDOC number (zero-padded to 7 digits).
    public var start = 1
    /// CUSTODIAN of every record; nil: the record's author.
    public var custodian: String?

    public init(export: ExportOptions) { self.export = export }

    /// A BEGDOC prefix of 1–32 safe characters (it names files) and a start in 0…9,999,999.
    public func validate() throws {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        guard (1...32).contains(prefix.count), prefix.allSatisfy(allowed.contains) else {
            throw ExportError.invalidArgument("--prefix must be 1 to 32 of A-Z, a-z, 0-9, '-', '_'")
        }
        guard (0...Ledger.maxBates).contains(start) else {
            throw ExportError.invalidArgument("--start must be 0 to \(Ledger.maxBates)")
        }
    }
}

/// What a production wrote.
public struct ProductionSummary: Sendable {
    public let directory: String
    public let loadFile: String
    public let records: Int
    /// Records with withheld content: the rows of the production's privilege log.
    public let withheldRecords: Int
    public let firstBates: String
    public let lastBates: String
    /// The export bundle written beside the load file.
    public let bundle: ExportSummary
}

/// One produced record, built only from what the verified bundle reveals: a withheld value is never at hand.
struct ProducedRecord {
    let bates: String
    let seq: UInt64
    /// SHA-256(0x00 ‖ leaf), lowercase hex: the RFC 6962 leaf hash the bundle proves.
    let leafHash: String
    let revealed: [String: JSONValue]
    /// Withheld fields (leaf order) and why.
    let withheld: [(field: String, reason: RedactionReason)]

    /// A revealed field as one line of text; "" when withheld or absent. Lists are joined with "; ".
    func text(_ field: String) -> String {
        switch revealed[field] {
        case .string(let s)?: return s
        case .integer(let i)?: return String(i)
        case .bool(let b)?: return b ? "true" : "false"
        case .array(let items)?: return items.map { $0.stringValue ?? JSONWriter.string($0) }.joined(separator: "; ")
        case let value?: return JSONWriter.string(value)
        case nil: return ""
        }
    }

    /// The reason `field` is withheld, nil when it is not.
    func reason(_ field: String) -> RedactionReason? { withheld.first { $0.field == field }?.reason }

    /// The distinct reasons of the withheld content fields (client, subject, summary, …), in leaf order.
    var contentReasons: [RedactionReason] {
        var seen = [RedactionReason]()
        for item in withheld where ExportProfile.isContentField(item.field) && !seen.contains(item.reason) {
            seen.append(item.reason)
        }
        return seen
    }
}

extension Ledger {
    /// Writes an e-discovery production into `directory` (absent or empty; created 0700): the export bundle for the
    /// selection (`<PREFIX>-bundle.zip`), then, from that bundle's verified entries, the Concordance DAT load file,
    /// one text file per record and the privilege log. The caller records the access first (as for `export`).
    public func produce(_ options: ProductionOptions, to directory: String) throws -> ProductionSummary {
        try options.validate()
        try Self.prepareDirectory(directory)
        let bundlePath = Self.join(directory, options.prefix + "-bundle.zip")
        let bundle = try export(options.export, to: bundlePath)
        let records = try producedRecords(bundlePath: bundlePath, options: options)
        guard records.count + options.start - 1 <= Self.maxBates else {
            throw ExportError.invalidArgument("--start \(options.start) leaves no room for \(records.count) records "
                                              + "in 7 digits")
        }
        try Self.writeProduction(records, options: options, to: directory)
        return ProductionSummary(directory: directory, loadFile: Self.join(directory, options.prefix + ".dat"),
                                 records: records.count,
                                 withheldRecords: records.filter { !$0.contentReasons.isEmpty }.count,
                                 firstBates: records.first?.bates ?? "", lastBates: records.last?.bates ?? "",
                                 bundle: bundle)
    }

    static let maxBates = 9_999_999

    /// The output directory: created 0700 when absent; an existing one must be an empty directory (made 0700).
    static func prepareDirectory(_ path: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try? fm.contentsOfDirectory(atPath: path))?.isEmpty == true else {
                throw ExportError.outputExists(path)
            }
            do { try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path) } catch {
                throw ExportError.io(path: path, detail: "cannot make the directory private (0700)")
            }
            return
        }
        do {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: false,
                                   attributes: [.posixPermissions: 0o700])
        } catch {
            throw ExportError.io(path: path, detail: "cannot create the output directory")
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        (directory as NSString).appendingPathComponent(name)
    }
}

// MARK: - Reading the records back from the bundle

extension Ledger {
    /// The bundle just written, read once, verified against this ledger's verifier key, and its entries numbered.
    /// A bundle that does not verify is corruption: nothing is produced from it.
    func producedRecords(bundlePath: String, options: ProductionOptions) throws -> [ProducedRecord] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: bundlePath)) } catch {
            throw ExportError.io(path: bundlePath, detail: "cannot read the bundle just written")
        }
        let report = try BundleVerifier.verify(data: data,
                                               options: BundleVerifyOptions(pinnedVerifierKey: storedVerifierKey))
        guard report.isValid else {
            throw LedgerError.corrupt("the bundle just written (\(bundlePath)) does not verify: "
                                      + "\(report.violations.count) violations; nothing produced")
        }
        guard let lines = try BundleReader.readDigested(data: data)[BundleFormat.entries]?.bytes else {
            throw LedgerError.corrupt("the bundle just written has no \(BundleFormat.entries)")
        }
        var records = [ProducedRecord]()
        for line in lines.split(separator: 0x0a) where !line.isEmpty {
            let bates = Self.bates(options.prefix, options.start + records.count)
            records.append(try Self.producedRecord(Array(line), bates: bates))
        }
        return records
    }

    /// PREFIX + the number zero-padded to 7 digits.
    static func bates(_ prefix: String, _ number: Int) -> String {
        let digits = String(number)
        return prefix + String(repeating: "0", count: max(0, 7 - digits.count)) + digits
    }

    /// One entries.jsonl line (already verified): index, leaf hash, revealed values, withheld fields and reasons.
    static func producedRecord(_ line: [UInt8], bates: String) throws -> ProducedRecord {
        func bad(_ what: String) -> LedgerError { .corrupt("\(BundleFormat.entries) of the bundle just written: \(what)") }
        guard case .object(let object) = try? JSONParser.parse(line),
              let index = object["index"]?.integerValue, index >= 0,
              let leaf = object["leaf"]?.stringValue.flatMap(PublicBase64.decode) else { throw bad("malformed line") }
        var revealed = [String: JSONValue]()
        for item in object["disclosures"]?.arrayValue ?? [] {
            guard let json = item.stringValue.flatMap(PublicBase64.decodeURL),
                  case .array(let parts)? = try? JSONParser.parse(json), parts.count == 3,
                  let name = parts[1].stringValue else { throw bad("entry \(index): malformed disclosure") }
            revealed[name] = parts[2]
        }
        var withheld = [(field: String, reason: RedactionReason)]()
        for item in object["redacted"]?.arrayValue ?? [] {
            guard let field = item.objectValue?["field"]?.stringValue,
                  let reason = item.objectValue?["reason"]?.stringValue.flatMap(RedactionReason.init(rawValue:)) else {
                throw bad("entry \(index): malformed redaction")
            }
            withheld.append((field, reason))
        }
        return ProducedRecord(bates: bates, seq: UInt64(index), leafHash: recordHash(leaf).hex,
                              revealed: revealed, withheld: withheld)
    }
}

// MARK: - Writing the load file, text files and privilege log

extension Ledger {
    /// The DAT header (docs/PRODUCE.md, "The load file").
    public static let productionFields = ["BEGDOC", "ENDDOC", "DATESENT", "TIMESENT", "FROM", "TO", "CC", "SUBJECT",
                                          "CUSTODIAN", "CHANNEL", "DIRECTION", "KIND", "MATTER", "LEDGERSEQ", "HASH",
                                          "TEXTPATH", "PRIVILEGE"]
    /// The production privilege log's header (the Sedona Conference metadata-plus-topic form, docs/PRODUCE.md).
    public static let productionPrivilegeLogHeader = ["BEGDOC", "Date", "Author", "Recipients", "Document Type",
                                                      "Privilege Asserted", "Description", "Basis", "Withheld Fields",
                                                      "Ledger Seq"]

    /// Writes TEXT/, the load file and the privilege log (each file 0600, created new).
    static func writeProduction(_ records: [ProducedRecord], options: ProductionOptions, to directory: String) throws {
        let textDirectory = join(directory, "TEXT")
        do {
            try FileManager.default.createDirectory(atPath: textDirectory, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw ExportError.io(path: textDirectory, detail: "cannot create the text directory")
        }
        for record in records {
            try writeNew(Array(recordText(record).utf8), to: join(directory, textPath(record)))
        }
        let rows = records.map { datRow($0, custodian: options.custodian) }
        try writeNew(ConcordanceDAT.file(header: productionFields, rows: rows),
                     to: join(directory, options.prefix + ".dat"))
        try writeNew(Array(productionPrivilegeLog(records).utf8), to: join(directory, "privilege-log.csv"))
    }

    /// Creates `path` (it must not exist) with mode 0600 and writes `bytes`.
    /// Creates `path` (never over an existing file or through a symlink), mode 0600 from the start, and writes it.
    static func writeNew(_ bytes: [UInt8], to path: String) throws {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw ExportError.outputExists(path) }
            throw ExportError.io(path: path, detail: "cannot create")
        }
        defer { Glibc.close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            guard n > 0 else { throw ExportError.io(path: path, detail: "cannot write") }
            written += n
        }
    }

    /// The record's text file, relative to the production directory: TEXT/<BEGDOC>.txt.
    static func textPath(_ record: ProducedRecord) -> String { "TEXT/\(record.bates).txt" }

    /// One DAT row, in `productionFields` order. A withheld field's cell is empty.
    static func datRow(_ record: ProducedRecord, custodian: String?) -> [String] {
        let (date, time) = sentDateTime(record.revealed["occurredAt"]?.stringValue)
        let privilege = record.contentReasons.map(\.rawValue).joined(separator: "; ")
        return [record.bates, record.bates, date, time, record.text("author"), record.text("recipients"), "",
                record.text("subject"), custodian ?? record.text("author"), record.text("channel"),
                record.text("direction"), record.text("kind"), record.text("matter"), String(record.seq),
                record.leafHash, textPath(record), privilege]
    }

    /// occurredAt in UTC as (YYYY-MM-DD, HH:MM:SS); empty strings when withheld or unparsable.
    static func sentDateTime(_ occurredAt: String?) -> (String, String) {
        guard let occurredAt, let micros = Timestamp.parseRFC3339(occurredAt) else { return ("", "") }
        let perDay: Int64 = 86_400_000_000
        let days = micros >= 0 ? micros / perDay : (micros - perDay + 1) / perDay
        let seconds = (micros - days * perDay) / 1_000_000
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : String(n) }
        return (Timestamp.formatDate(days: days), "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))")
    }

    /// The record's text: subject, summary and decisions as revealed, a withheld one as `[withheld: <reason>]`,
    /// an absent one left out. UTF-8, LF line ends; values verbatim.
    static func recordText(_ record: ProducedRecord) -> String {
        var out = "\(record.bates)\nLedger entry \(record.seq), leaf hash \(record.leafHash)\n"
        for (field, title) in [("subject", "Subject"), ("summary", "Summary"), ("decisions", "Decisions")] {
            if let reason = record.reason(field) {
                out += "\n\(title):\n[withheld: \(reason.rawValue)]\n"
            } else if record.revealed[field] != nil {
                out += "\n\(title):\n\(record.text(field))\n"
            }
        }
        return out
    }
}

// MARK: - The production privilege log

extension Ledger {
    /// RFC 4180, CRLF, every cell through `CSVWriter.cell` (the bundle's quoting and formula-injection rule): one row
    /// per record whose content is withheld. Built from revealed values only: a withheld cell reads `[redacted]`.
    static func productionPrivilegeLog(_ records: [ProducedRecord]) -> String {
        var out = CSVWriter.row(productionPrivilegeLogHeader)
        for record in records {
            let reasons = record.contentReasons
            guard !reasons.isEmpty else { continue }
            func cell(_ field: String) -> String {
                record.reason(field) != nil ? BundleFormat.redactedMarker : record.text(field)
            }
            let withheld = record.withheld.filter { ExportProfile.isContentField($0.field) }.map(\.field)
            out += CSVWriter.row([record.bates, cell("occurredAt"), cell("author"), cell("recipients"),
                                  cell("channel"), reasons.map(\.rawValue).joined(separator: "; "),
                                  topic(kind: record.revealed["kind"]?.stringValue),
                                  reasons.map(basis).joined(separator: "; "),
                                  withheld.joined(separator: "; "), String(record.seq)])
        }
        return out
    }

    /// A description of the subject matter that reveals none of it: a generic topic from the record's kind.
    static func topic(kind: String?) -> String {
        switch kind {
        case "advice": return "communication providing legal advice"
        case "inquiry": return "communication requesting legal advice or information"
        case "response": return "communication responding to a request for legal advice or information"
        case "update": return "communication reporting on the status of the matter"
        case "decision": return "communication recording client instructions on legal advice"
        case "meeting": return "record of an attorney-client meeting"
        case "deadline": return "communication concerning a deadline in the matter"
        case "court-ruling": return "communication concerning a court ruling in the matter"
        case "settlement": return "communication concerning settlement of the matter"
        case "feedback": return "communication concerning the client's feedback on the representation"
        case "correction": return "communication correcting an earlier record"
        case "note": return "attorney note concerning the matter"
        default: return "communication concerning the matter"
        }
    }

    /// Why the assertion holds, in the log's words.
    static func basis(_ reason: RedactionReason) -> String {
        switch reason {
        case .attorneyClientPrivilege:
            return "confidential communication between attorney and client for the purpose of legal advice"
        case .workProduct: return "prepared by or for counsel in anticipation of litigation"
        case .personalData: return "personal data withheld under applicable data-protection law"
        case .notRequested: return "outside the scope of the request"
        }
    }
}
