import Foundation
import LMDB
import LedgerFormat
import LedgerReport
import LedgerSupport
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
    /// Deflate entries.jsonl as well: a bundle about 3.5 times smaller, slower to write and to verify.
    public var compactEntries = false

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
    var proof: [Hash]
    /// Revealed disclosures (leaf order): name, exact disclosure string, parsed value.
    var revealed: [(name: String, disclosure: String, value: JSONValue)]
    /// Withheld fields (leaf order): name, reason, disclosure digest.
    var redacted: [(name: String, reason: RedactionReason, digest: Hash)]

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

extension Ledger {
    /// Writes an export bundle (zip) to `path`: the selected entries with the profile's fields revealed, every other
    /// field redacted with its reason and disclosure digest, inclusion proofs against a freshly signed checkpoint,
    /// a privilege log, a report and a README. Refuses to overwrite `path`.
    public func export(_ options: ExportOptions, to path: String) throws -> ExportSummary {
        guard !options.matters.isEmpty else { throw ExportError.noMatter }
        guard !FileManager.default.fileExists(atPath: path) else { throw ExportError.outputExists(path) }
        var timer = PhaseTimer(logger: Self.logger)
        defer { Self.logger.debug("export", metadata: ["phases": "\(timer)"]) }
        let ring = try requireKeys()
        let (note, size, root) = try signTreeHead()  // stored once the bundle is written: a failed export leaves no trace
        timer.lap("sign")
        let (entries, consistency) = try selectEntries(options, ring: ring, size: size, root: root)
        guard !entries.isEmpty else { throw ExportError.emptySelection }
        timer.lap("select")

        let context = BundleWriter.Context(origin: origin, size: size, root: root, options: options, createdAt: Clock.nowMicros(),
                                           entries: entries)
        let members = try BundleWriter.members(context, note: note, verifierKey: storedVerifierKey, consistency: consistency)
        timer.lap("render")
        let bytes = try BundleWriter.writeZip(members, to: path)
        timer.lap("write")
        try storeCheckpoint(note, size: size)
        timer.lap("store")
        let redacted = entries.reduce(0) { $0 + $1.redacted.count }
        let revealed = entries.reduce(0) { $0 + $1.revealed.count }
        return ExportSummary(path: path, entries: entries.count, revealedFields: revealed, redactedFields: redacted,
                             treeSize: size, root: root.base64, bytes: bytes, files: members.map(\.name))
    }

    /// The selected entries (seq order, with inclusion proofs against `size`) and, with --since-checkpoint, the
    /// consistency proof. Entries are copied out of the transaction, then decrypted and split on every core.
    private func selectEntries(_ options: ExportOptions, ring: KeyRing, size: UInt64, root: Hash) throws
        -> (entries: [BundleEntry], consistency: (note: String, proof: [Hash])?) {
        let filter = EntryFilter(matter: nil, from: options.from, to: options.to)
        let wanted = Set(options.matters)
        return try LedgerError.wrap("export") {
            try store.environment.read { txn in
                var seqs = Set<UInt64>()
                for matter in options.matters {
                    do {
                        for seq in try self.seqs(matter: matter, ring: ring, txn: txn) where seq < size { seqs.insert(seq) }
                    } catch LedgerError.unknownMatter {
                        throw ExportError.unknownMatter(matter)
                    }
                }
                let sealed = try seqs.sorted().map { try sealedEntry($0, ring: ring, txn: txn) }
                let opened = try parallelMap(sealed, minimumChunk: 64) {
                    try self.openForExport($0, profile: options.profile, wanted: wanted, filter: filter)
                }
                var entries = [BundleEntry]()
                entries.reserveCapacity(opened.count)
                let reader = CachingHashReader(TreeHashReader(transaction: txn, store: store))
                for case var entry? in opened {
                    entry.proof = try proveRecord(treeSize: Int64(size), index: Int64(entry.seq), reader: reader)
                    entries.append(entry)
                }
                let consistency = try options.sinceCheckpoint.map { try consistencyProof(from: $0, to: size, root: root, reader: reader) }
                return (entries, consistency)
            }
        }
    }

    /// Decrypts one entry, checks it against its leaf (as `decryptEntry` does) and splits its fields by the profile:
    /// revealed fields keep their disclosure and value, withheld ones only their digest. nil when the time range
    /// excludes it. The proof is filled in by the caller.
    func openForExport(_ sealed: SealedEntry, profile: ExportProfile, wanted: Set<String>,
                       filter: EntryFilter) throws -> BundleEntry? {
        let seq = sealed.seq, names = sealed.leaf.fieldNames
        let payload = try sealed.ciphertext.withUnsafeBytes {
            try openPayload(seq: seq, leaf: sealed.leaf, ciphertext: $0, key: sealed.key)
        }
        let values = try parsedValues(payload, names: names, seq: seq)
        func value(_ field: String) -> JSONValue? { names.firstIndex(of: field).map { values[$0] } }
        var entry = BundleEntry(seq: seq, leaf: sealed.rawLeaf, proof: [], revealed: [], redacted: [])
        var fields = Leaf.FieldsHasher()
        let salts = SaltDeriver(seed: payload.seed, count: names.count)
        let digester = DisclosureDigester()
        let privileged = value("privileged")?.boolValue == true
        for (index, name) in names.enumerated() {
            let raw = payload.values[index]
            switch profile.decide(name, privileged: privileged) {
            case .reveal:
                var disclosure = Disclosure(salt: salts.withSalt(index: index) { Array($0) }, name: name, value: raw).encoded
                fields.add(name: name, digest: disclosure.withUTF8 { Hash.sha256(UnsafeRawBufferPointer($0)) })  // RFC 9901 §4.2.3
                entry.revealed.append((name, disclosure, values[index]))
            case .redact(let reason):
                let digest = salts.withSalt(index: index) { salt in
                    raw.withUnsafeBytes { digester.digest(salt: salt, name: name, value: $0) }
                }
                fields.add(name: name, digest: digest)
                entry.redacted.append((name, reason, digest))
            }
        }
        guard fields.finalize() == sealed.leaf.fieldsDigest else {
            throw LedgerError.corrupt("entry \(seq): the decrypted fields do not match the leaf's fields digest")
        }
        guard case .string(let matter)? = value("matter"), wanted.contains(matter) else {
            throw LedgerError.corrupt("the matter index lists entry \(seq) under a matter it does not belong to")
        }
        return filter.admits(occurredAt: value("occurredAt")) ? entry : nil
    }

    /// Every value of a decrypted payload, parsed (leaf order). A value that is not JSON is corruption.
    private func parsedValues(_ payload: EntryPayload, names: [String], seq: UInt64) throws -> [JSONValue] {
        var values = [JSONValue]()
        values.reserveCapacity(names.count)
        for (name, value) in zip(names, payload.values) {
            do { values.append(try JSONParser.parse(value)) } catch {
                throw LedgerError.corrupt("entry \(seq): field '\(name)' is not valid JSON")
            }
        }
        return values
    }

    /// Checks an older checkpoint against this ledger and proves the current tree extends it.
    private func consistencyProof(from note: String, to size: UInt64, root: Hash, reader: any HashReader) throws -> (note: String, proof: [Hash]) {
        let old: (size: UInt64, root: Hash)
        do {
            old = try openCheckpoint(note, key: try NoteVerifierKey(text: storedVerifierKey))
        } catch let error as LedgerError {
            throw error
        } catch {
            throw ExportError.olderCheckpointInvalid("\(error)")
        }
        guard old.size <= size else {
            throw LedgerError.corrupt("the older checkpoint names \(old.size) entries but the ledger has \(size): it was truncated or rolled back")
        }
        let ours = try treeHash(size: Int64(old.size), reader: reader)
        guard ours == old.root else {
            throw LedgerError.corrupt("the ledger's tree at size \(old.size) differs from the older checkpoint's root: history was rewritten")
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

    /// RFC 4180 rows, CRLF: the entry's metadata cells are escaped once per entry, not once per withheld field.
    static func privilegeLog(_ entries: [BundleEntry]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(entries.reduce(0) { $0 + $1.redacted.count } * 160 + 128)
        out.append(contentsOf: (BundleFormat.privilegeLogHeader.joined(separator: ",") + "\r\n").utf8)
        var tails = [String: [UInt8]]()  // ",field,reason,description\r\n" per (field, reason)
        for entry in entries {
            var head = Array(String(entry.seq).utf8)
            for column in BundleFormat.privilegeLogMetadata {
                head.append(0x2c)
                head.append(contentsOf: CSVWriter.cell(entry.column(column)).utf8)
            }
            for item in entry.redacted {
                out.append(contentsOf: head)
                let key = item.name + "\u{0}" + item.reason.rawValue
                if tails[key] == nil {
                    tails[key] = Array(("," + CSVWriter.cell(item.name) + "," + CSVWriter.cell(item.reason.rawValue) + ","
                                        + CSVWriter.cell(BundleFormat.describe(item.name)) + "\r\n").utf8)
                }
                out.append(contentsOf: tails[key]!)
            }
        }
        return out
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

    static func manifest(_ c: Context, files: [ZipMember], consistency: Bool) -> [UInt8] {
        var hashes = JSONObject()
        for file in files { _ = hashes.updateValue(.string(file.sha256.hex), forKey: file.name) }
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
        h += timelineRows(c.entries)
        h += "</table>\n"
        // The communication-standards report over what this bundle reveals, with the default policy as of the export.
        let records = c.entries.map { ReportRecord(seq: $0.seq, fields: JSONObject($0.revealed.map { ($0.name, $0.value) })) }
        let communication = CommunicationReport(records: records, policy: ReportPolicy(), asOf: c.createdAt)
        h += "<h2>Communication standards (revealed fields, default policy)</h2>\n"
            + "<p class=\"meta\">Computed as by <code>ledger report --bundle</code>; withheld fields are simply absent.</p>\n"
            + communication.htmlSections(policy: ReportPolicy())
        return Array(CommunicationReport.page(title: "Ledger export: \(c.origin)", body: h).utf8)
    }

    static let timelineFields = ["occurredAt", "matter", "author", "channel", "direction", "kind", "urgency", "outcome"]

    /// One table row per entry, rendered into one byte buffer (the report's largest part).
    static func timelineRows(_ entries: [BundleEntry]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(entries.count * 320)
        func put(_ s: String) { out.append(contentsOf: s.utf8) }
        for entry in entries {
            put("<tr><td>"); put(String(entry.seq)); put("</td>")
            for field in timelineFields {
                let value = entry.column(field)
                if value == BundleFormat.redactedMarker {
                    put("<td class=\"redacted\">[redacted]</td>")
                } else {
                    put("<td>"); put(html(value)); put("</td>")
                }
            }
            put("<td class=\"wrap\">")
            for (i, item) in entry.redacted.enumerated() {
                if i > 0 { put(", ") }
                put(html(item.name))
            }
            put("</td></tr>\n")
        }
        return String(decoding: out, as: UTF8.self)
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

    /// Renders, digests and compresses every file on every core, then the manifest over their digests.
    /// entries.jsonl is stored unless `compactEntries`: it is mostly base64 and hex that deflate shrinks only 3.6x at
    /// several times the cost of everything else in an export (and of inflating it in verify-bundle); the text files
    /// are deflated.
    static func members(_ c: Context, note: String, verifierKey: String, consistency: (note: String, proof: [Hash])?) throws -> [ZipMember] {
        var jobs: [() throws -> ZipMember] = [
            { try ZipMember.make(BundleFormat.entries, entriesJSONL(c.entries), method: c.options.compactEntries ? .deflate : .none) },
            { try ZipMember.make(BundleFormat.privilegeLog, privilegeLog(c.entries), method: .deflate) },
            { try ZipMember.make(BundleFormat.report, report(c), method: .deflate) },
            { try ZipMember.make(BundleFormat.checkpoint, Array(note.utf8), method: .deflate) },
            { try ZipMember.make(BundleFormat.verifierKey, Array((verifierKey + "\n").utf8), method: .deflate) },
            { try ZipMember.make(BundleFormat.readme, readme(c), method: .deflate) },
        ]
        if let consistency {
            jobs.append { try ZipMember.make(BundleFormat.consistency, consistencyJSON(note: consistency.note, proof: consistency.proof,
                                                                                     newSize: c.size), method: .deflate) }
        }
        var files = try runConcurrently(jobs)
        // Same member order as before: checkpoint, verifier key, entries, privilege log, report, README, [consistency].
        files = [files[3], files[4], files[0], files[1], files[2], files[5]] + files.dropFirst(6)
        files.append(try ZipMember.make(BundleFormat.manifest, manifest(c, files: files, consistency: consistency != nil), method: .deflate))
        return files
    }

    /// Writes the zip atomically (temp file in the same directory, then rename). Returns its size.
    static func writeZip(_ members: [ZipMember], to path: String) throws -> Int {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
                throw ExportError.io(path: path, detail: "cannot create \(temp.path)")
            }
            let handle = try FileHandle(forWritingTo: temp)
            var size = 0
            do {
                try ZipWriter.write(members, date: Date()) { chunk in
                    try chunk.withUnsafeBytes { try handle.write(contentsOf: $0) }
                    size += chunk.count
                }
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard !FileManager.default.fileExists(atPath: path) else {
                try? FileManager.default.removeItem(at: temp)
                throw ExportError.outputExists(path)
            }
            try FileManager.default.moveItem(at: temp, to: url)
            return size
        } catch let error as ExportError {
            try? FileManager.default.removeItem(at: temp)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ExportError.io(path: path, detail: "cannot write: \(error.localizedDescription)")
        }
    }
}

/// Remembers stored tree hashes across the proofs of one export: neighbouring entries share most of their audit paths.
final class CachingHashReader: HashReader {
    private let base: any HashReader
    private var cache = [Int64: Hash]()

    init(_ base: any HashReader) { self.base = base }

    func readHashes(_ indexes: [Int64]) throws -> [Hash] {
        let missing = indexes.filter { cache[$0] == nil }
        if !missing.isEmpty {
            let hashes = try base.readHashes(missing)
            guard hashes.count == missing.count else { throw MerkleError.readerCount(requested: missing.count, returned: hashes.count) }
            for (index, hash) in zip(missing, hashes) { cache[index] = hash }
        }
        return indexes.map { cache[$0]! }
    }
}
