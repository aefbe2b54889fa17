import Foundation
import LMDB
import MerkleLog
import RecordFormats
import SignedNote
import Sodium
import ZIPFoundation

/// What to export and how (docs/EXPORT.md).
public struct ExportOptions: Sendable {
    public var matters: [String]
    /// Inclusive bounds on occurredAt, microseconds since the epoch.
    public var from: Int64?
    public var to: Int64?
    public var profile: ExportProfile
    /// An older checkpoint (signed note text) the recipient holds: the bundle then carries a consistency proof from it.
    public var sinceCheckpoint: String?
    /// Written into the manifest, e.g. "ledger 0.1.0".
    public var tool: String

    public init(matters: [String], from: Int64? = nil, to: Int64? = nil, profile: ExportProfile = .insurer,
                sinceCheckpoint: String? = nil, tool: String = "ledger") {
        self.matters = matters
        self.from = from
        self.to = to
        self.profile = profile
        self.sinceCheckpoint = sinceCheckpoint
        self.tool = tool
    }
}

/// What an export wrote.
public struct ExportSummary: Sendable {
    public let path: String
    public let entries: Int
    public let revealedFields: Int
    public let redactedFields: Int
    public let treeSize: UInt64
    public let root: String
    public let bytes: Int
    public let files: [String]
}

/// One selected entry, reduced to what may leave the firm: never a redacted value.
struct BundleEntry {
    let seq: UInt64
    let leaf: [UInt8]
    let proof: [Hash]
    /// Revealed disclosures (leaf order): name, exact disclosure string, parsed value.
    let revealed: [(name: String, disclosure: String, value: JSONValue)]
    /// Withheld fields (leaf order): name, reason, disclosure digest.
    let redacted: [(name: String, reason: RedactionReason, digest: Hash)]

    func revealedValue(_ name: String) -> JSONValue? { revealed.first { $0.name == name }?.value }
    func isRedacted(_ name: String) -> Bool { redacted.contains { $0.name == name } }

    /// A metadata column for the privilege log and report: the revealed text, "[redacted]", or "" when absent.
    func column(_ name: String) -> String {
        if isRedacted(name) { return BundleFormat.redactedMarker }
        switch revealedValue(name) {
        case .string(let s)?: return s
        case .integer(let i)?: return String(i)
        case .bool(let b)?: return b ? "true" : "false"
        case let value?: return JSONWriter.string(value)
        case nil: return ""
        }
    }
}

/// Bundle v1 names and limits (docs/FORMAT.md, "Bundle v1").
public enum BundleFormat {
    public static let formatVersion = 1
    public static let formatName = "client-ledger-export-bundle"
    public static let manifest = "manifest.json"
    public static let checkpoint = "checkpoint.txt"
    public static let verifierKey = "verifier.key"
    public static let entries = "entries.jsonl"
    public static let privilegeLog = "privilege-log.csv"
    public static let report = "report.html"
    public static let readme = "README.txt"
    public static let consistency = "consistency.json"
    public static let required = [manifest, checkpoint, verifierKey, entries, privilegeLog, report, readme]
    public static let allowed = Set(required + [consistency])
    public static let maxFileBytes: UInt64 = 64 << 20
    public static let maxTotalBytes: UInt64 = 512 << 20
    public static let redactedMarker = "[redacted]"
    public static let privilegeLogHeader = ["seq", "occurredAt", "matter", "author", "channel", "direction", "field", "reason", "description"]
    static let privilegeLogMetadata = ["occurredAt", "matter", "author", "channel", "direction"]

    /// Spreadsheet-safe cell text (OWASP CSV injection): a value that a spreadsheet would run as a formula
    /// (starting with = + - @, tab or CR) is written with a leading single quote. Verifiers apply the same rule.
    public static func spreadsheetSafe(_ value: String) -> String {
        guard let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return value }
        return "'" + value
    }

    /// What the privilege log says about a withheld field: its kind only, never its value.
    static func describe(_ field: String) -> String {
        switch field {
        case "client": return "client name or identifier withheld"
        case "subject": return "subject line of the communication withheld"
        case "summary": return "summary of what was communicated withheld"
        case "decisions": return "advice given and client decisions withheld"
        case "recipients": return "list of recipients withheld"
        case "attachments": return "names and digests of attached documents withheld"
        case "tags": return "internal classification tags withheld"
        case "sourceSystem", "sourceId": return "practice-management system reference withheld"
        case "privileged": return "privilege flag withheld"
        case "author": return "name of the staff member withheld"
        default: return field.hasPrefix("x-") ? "firm-specific field withheld" : "\(field) withheld"
        }
    }
}

extension Ledger {
    /// Writes an export bundle (zip) to `path`: the selected entries with the profile's fields revealed, every other
    /// field redacted with its reason and disclosure digest, inclusion proofs against a freshly signed checkpoint,
    /// a privilege log, a report and a README. Refuses to overwrite `path`.
    public func export(_ options: ExportOptions, to path: String) throws -> ExportSummary {
        guard !options.matters.isEmpty else { throw ExportError.invalidProfile("name at least one matter (--matter)") }
        guard !FileManager.default.fileExists(atPath: path) else { throw ExportError.outputExists(path) }
        let ring = try requireKeys()
        let note = try signTreeHead()  // stored only once the bundle is written, so a failed export leaves no trace
        let checkpoint = try Checkpoint(body: try SignedNoteText(parsing: note).text)
        guard let root = Hash(bytes: checkpoint.rootHash) else { throw LedgerError.corrupt("checkpoint root is not 32 bytes") }
        let size = checkpoint.size
        let filter = EntryFilter(matter: nil, from: options.from, to: options.to)
        let wanted = Set(options.matters)

        var entries = [BundleEntry]()
        var consistency: (note: String, proof: [Hash])?
        try LedgerError.wrap("export") {
            try store.environment.read { txn in
                let reader = TreeHashReader(transaction: txn, store: store)
                var seqs = Set<UInt64>()
                for matter in options.matters {
                    do {
                        for seq in try self.seqs(matter: matter, ring: ring, txn: txn) where seq < size { seqs.insert(seq) }
                    } catch LedgerError.unknownMatter {
                        throw ExportError.unknownMatter(matter)
                    }
                }
                for seq in seqs.sorted() {
                    guard let entry = try decryptEntry(seq, ring: ring, txn: txn),
                          let (rawLeaf, _) = try txn.storedEntry(store, seq) else {
                        throw LedgerError.corrupt("the matter index names entry \(seq), which does not exist")
                    }
                    guard let matter = entry.string("matter"), wanted.contains(matter) else {
                        throw LedgerError.corrupt("the matter index lists entry \(seq) under a matter it does not belong to")
                    }
                    guard filter.admits(entry) else { continue }
                    let proof = try proveRecord(treeSize: Int64(size), index: Int64(seq), reader: reader)
                    entries.append(Self.bundleEntry(entry, leaf: Array(rawLeaf), proof: proof, profile: options.profile))
                }
                if let since = options.sinceCheckpoint {
                    consistency = try consistencyProof(from: since, to: size, root: root, reader: reader)
                }
            }
        }
        guard !entries.isEmpty else { throw ExportError.emptySelection }

        var files: [(name: String, bytes: [UInt8])] = []
        files.append((BundleFormat.checkpoint, Array(note.utf8)))
        files.append((BundleFormat.verifierKey, Array((storedVerifierKey + "\n").utf8)))
        files.append((BundleFormat.entries, BundleWriter.entriesJSONL(entries)))
        files.append((BundleFormat.privilegeLog, BundleWriter.privilegeLog(entries)))
        let context = BundleWriter.Context(origin: origin, size: size, root: root, options: options, createdAt: Clock.nowMicros(),
                                           entries: entries)
        files.append((BundleFormat.report, BundleWriter.report(context)))
        files.append((BundleFormat.readme, BundleWriter.readme(context)))
        if let consistency {
            files.append((BundleFormat.consistency, BundleWriter.consistencyJSON(note: consistency.note, proof: consistency.proof,
                                                                            newSize: size)))
        }
        files.append((BundleFormat.manifest, BundleWriter.manifest(context, files: files, consistency: consistency != nil)))

        let bytes = try BundleWriter.writeZip(files, to: path)
        try storeCheckpoint(note, size: size)
        let redacted = entries.reduce(0) { $0 + $1.redacted.count }
        let revealed = entries.reduce(0) { $0 + $1.revealed.count }
        return ExportSummary(path: path, entries: entries.count, revealedFields: revealed, redactedFields: redacted,
                             treeSize: size, root: root.base64, bytes: bytes, files: files.map(\.name))
    }

    static func bundleEntry(_ entry: LedgerEntry, leaf: [UInt8], proof: [Hash], profile: ExportProfile) -> BundleEntry {
        let privileged = entry.record["privileged"]?.boolValue == true
        var revealed = [(name: String, disclosure: String, value: JSONValue)]()
        var redacted = [(name: String, reason: RedactionReason, digest: Hash)]()
        for disclosure in entry.disclosures {
            switch profile.decide(disclosure.name, privileged: privileged) {
            case .reveal:
                revealed.append((disclosure.name, disclosure.encoded, entry.record[disclosure.name] ?? .null))
            case .redact(let reason):
                redacted.append((disclosure.name, reason, disclosure.digest))
            }
        }
        return BundleEntry(seq: entry.seq, leaf: leaf, proof: proof, revealed: revealed, redacted: redacted)
    }

    /// Checks an older checkpoint against this ledger and proves the current tree extends it.
    private func consistencyProof(from note: String, to size: UInt64, root: Hash, reader: TreeHashReader) throws -> (note: String, proof: [Hash]) {
        let old: (size: UInt64, root: Hash)
        do {
            old = try openCheckpoint(note, key: try NoteVerifierKey(text: storedVerifierKey))
        } catch let error as LedgerError {
            throw error
        } catch {
            throw ExportError.invalidProfile("--since-checkpoint: the checkpoint does not verify with this ledger's key: \(error)")
        }
        guard old.size <= size else {
            throw LedgerError.corrupt("--since-checkpoint names \(old.size) entries but the ledger has \(size): it was truncated or rolled back")
        }
        let ours = try treeHash(size: Int64(old.size), reader: reader)
        guard ours == old.root else {
            throw LedgerError.corrupt("the ledger's tree at size \(old.size) differs from the --since-checkpoint root: history was rewritten")
        }
        let proof = old.size >= 1 && old.size < size ? try proveTree(newSize: Int64(size), oldSize: Int64(old.size), reader: reader) : []
        _ = root
        return (note, proof)
    }
}

/// Renders the bundle's files. Works only from `BundleEntry` values, which hold no redacted value.
enum BundleWriter {
    struct Context {
        let origin: String
        let size: UInt64
        let root: Hash
        let options: ExportOptions
        let createdAt: Int64
        let entries: [BundleEntry]

        /// Matter numbers may be listed only if the profile reveals the matter field.
        var mattersShown: Bool { !options.profile.withholds("matter") }
    }

    static func entriesJSONL(_ entries: [BundleEntry]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(entries.count * 3072)
        func ascii(_ s: String) { out.append(contentsOf: s.utf8) }
        for entry in entries {
            ascii(#"{"index":"#)
            ascii(String(entry.seq))
            ascii(#","leaf":""#)
            ascii(Base64.encode(entry.leaf))
            ascii(#"","inclusionProof":["#)
            for (i, hash) in entry.proof.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                ascii(hash.base64)
                out.append(UInt8(ascii: "\""))
            }
            ascii(#"],"disclosures":["#)
            for (i, item) in entry.revealed.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(item.disclosure, into: &out)
            }
            ascii(#"],"redacted":["#)
            for (i, item) in entry.redacted.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                ascii(#"{"field":"#)
                JSONWriter.writeString(item.name, into: &out)
                ascii(#","reason":"#)
                JSONWriter.writeString(item.reason.rawValue, into: &out)
                ascii(#","digest":""#)
                ascii(item.digest.hex)
                ascii("\"}")
            }
            ascii("]}\n")
        }
        return out
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func privilegeLog(_ entries: [BundleEntry]) -> [UInt8] {
        var text = BundleFormat.privilegeLogHeader.joined(separator: ",") + "\r\n"
        for entry in entries {
            let metadata = BundleFormat.privilegeLogMetadata.map { csvField(BundleFormat.spreadsheetSafe(entry.column($0))) }
            for item in entry.redacted {
                let row = [String(entry.seq)] + metadata + [csvField(item.name), csvField(item.reason.rawValue), csvField(BundleFormat.describe(item.name))]
                text += row.joined(separator: ",") + "\r\n"
            }
        }
        return Array(text.utf8)
    }

    static func consistencyJSON(note: String, proof: [Hash], newSize: UInt64) -> [UInt8] {
        JSONWriter.serialize(.object(JSONObject([
            ("oldCheckpoint", .string(note)),
            ("newSize", .integer(Int64(newSize))),
            ("proof", .array(proof.map { .string($0.base64) })),
        ]))) + [0x0a]
    }

    static func selectionJSON(_ c: Context) -> JSONValue {
        var members: [(String, JSONValue)] = []
        if c.mattersShown {
            members.append(("matters", .array(c.options.matters.sorted().map { .string($0) })))
        } else {
            members.append(("matters", .string(BundleFormat.redactedMarker)))
        }
        members.append(("matterCount", .integer(Int64(Set(c.options.matters).count))))
        if let from = c.options.from { members.append(("from", .string(Timestamp.formatRFC3339(micros: from)))) }
        if let to = c.options.to { members.append(("to", .string(Timestamp.formatRFC3339(micros: to)))) }
        return .object(JSONObject(members))
    }

    static func manifest(_ c: Context, files: [(name: String, bytes: [UInt8])], consistency: Bool) -> [UInt8] {
        var hashes = JSONObject()
        for file in files { _ = hashes.updateValue(.string(Hash.sha256(file.bytes).hex), forKey: file.name) }
        let redacted = c.entries.reduce(0) { $0 + $1.redacted.count }
        let revealed = c.entries.reduce(0) { $0 + $1.revealed.count }
        return JSONWriter.serialize(.object(JSONObject([
            ("format", .string(BundleFormat.formatName)),
            ("formatVersion", .integer(Int64(BundleFormat.formatVersion))),
            ("origin", .string(c.origin)),
            ("tool", .string(c.options.tool)),
            ("createdAt", .string(Timestamp.formatRFC3339(micros: c.createdAt))),
            ("checkpoint", .object(JSONObject([("size", .integer(Int64(c.size))), ("root", .string(c.root.base64))]))),
            ("selection", selectionJSON(c)),
            ("profile", c.options.profile.manifestJSON),
            ("counts", .object(JSONObject([
                ("entries", .integer(Int64(c.entries.count))),
                ("disclosedFields", .integer(Int64(revealed))),
                ("redactedFields", .integer(Int64(redacted))),
                ("privilegeLogRows", .integer(Int64(redacted))),
            ]))),
            ("consistencyProof", .bool(consistency)),
            ("digestEncoding", .string("hex")),
            ("files", .object(hashes)),
        ]))) + [0x0a]
    }

    static func html(_ s: String) -> String { CommunicationReport.escape(s) }

    static func report(_ c: Context) -> [UInt8] {
        var byField = [String: Int](), byReason = [String: Int]()
        for entry in c.entries {
            for item in entry.redacted {
                byField[item.name, default: 0] += 1
                byReason[item.reason.rawValue, default: 0] += 1
            }
        }
        let matters = c.mattersShown ? c.options.matters.sorted().joined(separator: ", ") : BundleFormat.redactedMarker
        var h = """
        <h1>Ledger export</h1>
        <p>This report is a convenience view. What counts is what the verifiers check: run
        <code>ledger verify-bundle</code> or <code>python3 verify_bundle.py</code> on the bundle (see README.txt).</p>
        <h2>Checkpoint</h2>
        <table><tr><th>origin</th><td>\(html(c.origin))</td></tr>
        <tr><th>tree size</th><td>\(c.size)</td></tr>
        <tr><th>root</th><td><code>\(html(c.root.base64))</code></td></tr>
        <tr><th>exported at</th><td>\(html(Timestamp.formatRFC3339(micros: c.createdAt)))</td></tr></table>
        <h2>Selection</h2>
        <table><tr><th>matters</th><td>\(html(matters))</td></tr>
        <tr><th>from</th><td>\(html(c.options.from.map { Timestamp.formatRFC3339(micros: $0) } ?? "(any)"))</td></tr>
        <tr><th>to</th><td>\(html(c.options.to.map { Timestamp.formatRFC3339(micros: $0) } ?? "(any)"))</td></tr>
        <tr><th>profile</th><td>\(html(c.options.profile.name))</td></tr>
        <tr><th>entries</th><td>\(c.entries.count)</td></tr></table>
        <h2>Redactions</h2>
        <table><tr><th>field</th><th>entries where withheld</th></tr>

        """
        for (field, count) in byField.sorted(by: { $0.key < $1.key }) {
            h += "<tr><td>\(html(field))</td><td>\(count)</td></tr>\n"
        }
        h += "</table>\n<table><tr><th>reason</th><th>fields withheld</th></tr>\n"
        for (reason, count) in byReason.sorted(by: { $0.key < $1.key }) {
            h += "<tr><td>\(html(reason))</td><td>\(count)</td></tr>\n"
        }
        h += "</table>\n<h2>Timeline</h2>\n<table><tr><th>seq</th><th>occurred</th><th>matter</th><th>author</th><th>channel</th>"
            + "<th>direction</th><th>kind</th><th>urgency</th><th>outcome</th><th>withheld fields</th></tr>\n"
        for entry in c.entries {
            h += "<tr><td>\(entry.seq)</td>"
            for field in ["occurredAt", "matter", "author", "channel", "direction", "kind", "urgency", "outcome"] {
                let value = entry.column(field)
                h += value == BundleFormat.redactedMarker ? "<td class=\"redacted\">[redacted]</td>" : "<td>\(html(value))</td>"
            }
            h += "<td class=\"wrap\">\(html(entry.redacted.map(\.name).joined(separator: ", ")))</td></tr>\n"
        }
        h += "</table>\n"
        // The communication-standards report over what this bundle reveals, with the default policy as of the export.
        let records = c.entries.map { ReportRecord(seq: $0.seq, fields: JSONObject($0.revealed.map { ($0.name, $0.value) })) }
        let communication = CommunicationReport(records: records, policy: ReportPolicy(), asOf: c.createdAt)
        h += "<h2>Communication standards (revealed fields, default policy)</h2>\n"
            + "<p class=\"meta\">Computed as by <code>ledger report --bundle</code>; withheld fields are simply absent.</p>\n"
            + communication.htmlSections(policy: ReportPolicy())
        return Array(CommunicationReport.page(title: "Ledger export: \(c.origin)", body: h).utf8)
    }

    static func readme(_ c: Context) -> [UInt8] {
        let text = """
        Client-ledger export bundle (bundle format \(BundleFormat.formatVersion))
        ===================================================

        Origin:     \(c.origin)
        Checkpoint: tree size \(c.size), root \(c.root.base64)
        Entries:    \(c.entries.count)
        Profile:    \(c.options.profile.name)

        Files
        -----
        manifest.json      format version, origin, selection, profile, counts, SHA-256 of every other file
        checkpoint.txt     the firm's signed checkpoint (C2SP tlog-checkpoint, Ed25519 signed note)
        verifier.key       the public key that signed it (Go sumdb/note verifier key text)
        entries.jsonl      one JSON object per entry: index, leaf, inclusionProof, disclosures, redacted
        privilege-log.csv  one row per withheld field, with the reason
        report.html        a human-readable summary (open in a browser; no external content)
        consistency.json   (only if present) proof that this tree extends an older checkpoint you hold

        Verify with the firm's tool (offline, no keys needed)
        -----------------------------------------------------
            ledger verify-bundle BUNDLE.zip --verifier-key FIRM.key [--trusted OLD-CHECKPOINT.txt]

        Use a verifier key you obtained from the firm separately (not the copy inside this bundle).
        Exit status 0 means every check passed; 1 means an integrity violation (the output names it).

        Verify without the firm's tool
        ------------------------------
        The formats are specified byte for byte in the firm's docs/FORMAT.md ("Bundle v1"). An independent
        verifier in Python (standard library + `cryptography`) is tools/verify_bundle.py:

            python3 verify_bundle.py BUNDLE.zip --verifier-key FIRM.key

        By hand, the checks are:
        1. SHA-256 of every file equals manifest.json "files".
        2. checkpoint.txt is a signed note: Ed25519 signature by verifier.key over its first three lines.
        3. For each line of entries.jsonl: record hash = SHA-256(0x00 || base64-decoded leaf); the RFC 6962
           inclusion proof from that hash at "index" yields the checkpoint's root (node = SHA-256(0x01||l||r)).
        4. Each disclosure is base64url(JSON ["salt","name",value]); its digest is SHA-256 of the disclosure
           string's ASCII. The leaf lists the field names; every field is either disclosed or listed under
           "redacted" with its hex digest. SHA-256 over (u8 name length || name || 32-byte digest) for every
           field in leaf order equals the leaf's fields digest (leaf layout in FORMAT.md, "Leaf v1").
        5. privilege-log.csv has exactly one row per redacted field, with the same seq, field and reason.
        6. With consistency.json: the old checkpoint verifies and the RFC 6962 consistency proof links its
           root to this checkpoint's root.

        A revealed value is authentic because its disclosure hashes into the signed tree; a withheld value is
        committed to by its digest and can be disclosed later and checked against this same bundle.

        """
        return Array(text.utf8)
    }

    /// Writes the zip atomically (temp file in the same directory, then rename). Returns its size.
    static func writeZip(_ files: [(name: String, bytes: [UInt8])], to path: String) throws -> Int {
        let archive: Archive
        do {
            archive = try Archive(data: Data(), accessMode: .create)
            let date = Date()
            for file in files {
                let data = Data(file.bytes)
                try archive.addEntry(with: file.name, type: .file, uncompressedSize: Int64(data.count), modificationDate: date,
                                     compressionMethod: .deflate, bufferSize: 1 << 20) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
        } catch {
            throw ExportError.io(path: path, detail: "cannot build the zip archive: \(error)")
        }
        guard let data = archive.data else { throw ExportError.io(path: path, detail: "cannot build the zip archive") }
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temp)
            guard !FileManager.default.fileExists(atPath: path) else {
                try? FileManager.default.removeItem(at: temp)
                throw ExportError.outputExists(path)
            }
            try FileManager.default.moveItem(at: temp, to: url)
        } catch let error as ExportError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ExportError.io(path: path, detail: "cannot write: \(error.localizedDescription)")
        }
        return data.count
    }
}
