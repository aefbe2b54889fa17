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

/// Renders the bundle's files. Works only from `BundleEntry` values, which hold no redacted value.
enum BundleWriter {
    struct Context {
        let origin: String
        let size: UInt64
        let root: Hash
        let options: ExportOptions
        let createdAt: Int64
        let entries: [BundleEntry]
        /// The access entries for access-log.jsonl; nil when the bundle has none (no --include-access-log).
        let accessLog: [BundleAccessEntry]?
        /// retention.jsonl's lines; nil when the bundle has none (no hold, release or destroyed matter to show).
        var retention: [BundleRetentionLine]? = nil
        /// The exported matters that were destroyed (report.html describes them).
        var destroyed: [BundleDestroyedMatter] = []
        /// The bundle format written: 2 (manifest.note, signed) or 1 (manifest.json, when the exporter cannot sign).
        var formatVersion = BundleFormat.formatVersion

        /// Matter numbers may be listed only if the profile reveals the matter field.
        var mattersShown: Bool { !options.profile.withholds("matter") }
    }

    /// `{"index":SEQ,"leaf":"BASE64","inclusionProof":[…]` — the start every entries.jsonl and access-log.jsonl line
    /// shares (docs/FORMAT.md, "Bundle v1").
    static func writeLineHead(seq: UInt64, leaf: [UInt8], proof: [Hash], into out: inout [UInt8]) {
        out.append(contentsOf: #"{"index":"#.utf8)
        out.append(contentsOf: String(seq).utf8)
        out.append(contentsOf: #","leaf":""#.utf8)
        out.append(contentsOf: Base64.encode(leaf).utf8)
        out.append(contentsOf: #"","inclusionProof":["#.utf8)
        for (i, hash) in proof.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: hash.base64.utf8)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "]"))
    }

    static func entriesJSONL(_ entries: [BundleEntry]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(entries.count * 3072)
        func ascii(_ s: String) { out.append(contentsOf: s.utf8) }
        for entry in entries {
            writeLineHead(seq: entry.seq, leaf: entry.leaf, proof: entry.proof, into: &out)
            ascii(#","disclosures":["#)
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
                    tails[key] = Array(("," + CSVWriter.cell(item.name) + ","
                                        + CSVWriter.cell(item.reason.rawValue) + ","
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

    /// The manifest JSON (canonical: keys sorted, no whitespace), without a final newline. `version` 2 is signed as
    /// manifest.note; version 1 is the unsigned manifest.json (written only by a process that cannot sign).
    static func manifestJSON(_ c: Context, files: [ZipMember], consistency: Bool, version: Int) -> [UInt8] {
        var hashes = JSONObject()
        for file in files { _ = hashes.updateValue(.string(file.sha256.hex), forKey: file.name) }
        let redacted = c.entries.reduce(0) { $0 + $1.redacted.count }
        let revealed = c.entries.reduce(0) { $0 + $1.revealed.count }
        return JSONWriter.serialize(.object(JSONObject([
            ("format", .string(BundleFormat.formatName)),
            ("formatVersion", .integer(Int64(version))),
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
            ] + accessCount(c) + retentionCounts(c)))),
            ("consistencyProof", .bool(consistency)),
            ("digestEncoding", .string("hex")),
            ("files", .object(hashes)),
        ])))
    }

    /// counts.accessEntries, only in a bundle with access-log.jsonl (bundles without one keep their bytes).
    private static func accessCount(_ c: Context) -> [(String, JSONValue)] {
        c.accessLog.map { [("accessEntries", .integer(Int64($0.count)))] } ?? []
    }

    /// counts.retentionEvents and counts.destroyedEntries, only in a bundle with retention.jsonl.
    private static func retentionCounts(_ c: Context) -> [(String, JSONValue)] {
        guard let lines = c.retention else { return [] }
        let events = lines.filter(\.isEvent).count
        return [("retentionEvents", .integer(Int64(events))),
                ("destroyedEntries", .integer(Int64(lines.count - events)))]
    }

    static func html(_ s: String) -> String { CommunicationReport.escape(s) }

    /// report.html: checkpoint, selection, redaction counts, the timeline, and the communication-standards report
    /// over what the bundle reveals (default policy, as of the export).
    static func report(_ c: Context) -> [UInt8] {
        var h = overview(c) + destroyedSection(c) + redactionTables(c.entries)
        h += "<h2>Timeline</h2>\n<table><tr><th>seq</th><th>occurred</th><th>matter</th><th>author</th><th>channel</th>"
            + "<th>direction</th><th>kind</th><th>urgency</th><th>outcome</th><th>withheld fields</th></tr>\n"
        h += timelineRows(c.entries)
        h += "</table>\n"
        let records = c.entries.map {
            ReportRecord(seq: $0.seq, fields: JSONObject($0.revealed.map { ($0.name, $0.value) }))
        }
        let communication = CommunicationReport(records: records, policy: ReportPolicy(), asOf: c.createdAt)
        h += "<h2>Communication standards (revealed fields, default policy)</h2>\n"
            + "<p class=\"meta\">Computed as by <code>ledger report --bundle</code>; "
            + "withheld fields are simply absent.</p>\n"
            + communication.htmlSections(policy: ReportPolicy())
        return Array(CommunicationReport.page(title: "Ledger export: \(c.origin)", body: h).utf8)
    }

    private static func overview(_ c: Context) -> String {
        let matters = c.mattersShown ? c.options.matters.sorted().joined(separator: ", ") : BundleFormat.redactedMarker
        func time(_ micros: Int64?) -> String { html(micros.map { Timestamp.formatRFC3339(micros: $0) } ?? "(any)") }
        return """
        <h1>Ledger export</h1>
        <p>This report is a convenience view. What counts is what the verifiers check: run
        <code>ledger verify-bundle</code> or <code>python3 verify_bundle.py</code> on the bundle (see README.txt).</p>
        <h2>Checkpoint</h2>
        <table><tr><th>origin</th><td>\(html(c.origin))</td></tr>
        <tr><th>tree size</th><td>\(c.size)</td></tr>
        <tr><th>root</th><td><code>\(html(c.root.base64))</code></td></tr>
        <tr><th>exported at</th><td>\(time(c.createdAt))</td></tr></table>
        <h2>Selection</h2>
        <table><tr><th>matters</th><td>\(html(matters))</td></tr>
        <tr><th>from</th><td>\(time(c.options.from))</td></tr>
        <tr><th>to</th><td>\(time(c.options.to))</td></tr>
        <tr><th>profile</th><td>\(html(c.options.profile.name))</td></tr>
        <tr><th>entries</th><td>\(c.entries.count)</td></tr></table>

        """
    }

    /// How many entries withhold each field, and how many fields each reason withholds.
    private static func redactionTables(_ entries: [BundleEntry]) -> String {
        var byField = [String: Int](), byReason = [String: Int]()
        for entry in entries {
            for item in entry.redacted {
                byField[item.name, default: 0] += 1
                byReason[item.reason.rawValue, default: 0] += 1
            }
        }
        var h = "<h2>Redactions</h2>\n<table><tr><th>field</th><th>entries where withheld</th></tr>\n"
        for (field, count) in byField.sorted(by: { $0.key < $1.key }) {
            h += "<tr><td>\(html(field))</td><td>\(count)</td></tr>\n"
        }
        h += "</table>\n<table><tr><th>reason</th><th>fields withheld</th></tr>\n"
        for (reason, count) in byReason.sorted(by: { $0.key < $1.key }) {
            h += "<tr><td>\(html(reason))</td><td>\(count)</td></tr>\n"
        }
        return h + "</table>\n"
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
        Client-ledger export bundle (bundle format \(c.formatVersion))
        ===================================================

        Origin:     \(c.origin)
        Checkpoint: tree size \(c.size), root \(c.root.base64)
        Entries:    \(c.entries.count)
        Profile:    \(c.options.profile.name)

        Files
        -----
        \(c.formatVersion == BundleFormat.formatVersion1 ? manifestJSONLine : manifestNoteLine)
        checkpoint.txt     the firm's signed checkpoint (C2SP tlog-checkpoint, Ed25519 signed note)
        verifier.key       the public key that signed it (Go sumdb/note verifier key text)
        entries.jsonl      one JSON object per entry: index, leaf, inclusionProof, disclosures, redacted
        privilege-log.csv  one row per withheld field, with the reason
        report.html        a human-readable summary (open in a browser; no external content)
        consistency.json   (only if present) proof that this tree extends an older checkpoint you hold
        \(c.accessLog == nil ? "" : accessLogFileLine)\(c.retention == nil ? "" : retentionFileLine)\(c.options.receipts ? receiptsFileLine : "")
        Verify with the firm's tool (offline, no keys needed)
        -----------------------------------------------------
            ledger verify-bundle BUNDLE.zip --verifier-key FIRM.key [--trusted OLD-CHECKPOINT.txt]

        Use a verifier key you obtained from the firm separately (not the copy inside this bundle).
        Exit status 0 means every check passed; 1 means an integrity violation (the output names it).

        Verify without the firm's tool
        ------------------------------
        The formats are specified byte for byte in the firm's docs/FORMAT.md ("Bundle v\(c.formatVersion)"). An independent
        verifier in Python (standard library + `cryptography`) is tools/verify_bundle.py:

            python3 verify_bundle.py BUNDLE.zip --verifier-key FIRM.key

        By hand, the checks are:
        1. \(c.formatVersion == BundleFormat.formatVersion1 ? manifestJSONStep : manifestNoteStep)
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
        \(c.accessLog == nil ? "" : accessLogStep)\(c.retention == nil ? "" : retentionStep(c))\(c.options.receipts ? receiptsStep(c) : "")
        A revealed value is authentic because its disclosure hashes into the signed tree; a withheld value is
        committed to by its digest and can be disclosed later and checked against this same bundle.

        """
        return Array(text.utf8)
    }

    static let manifestJSONLine =
        "manifest.json      format version, origin, selection, profile, counts, SHA-256 of every other file"
    static let manifestNoteLine = "manifest.note      the same, signed by the firm's key (Ed25519 signed note): "
        + "format version, origin, selection, profile, counts, SHA-256 of every other file"
    static let manifestJSONStep = "SHA-256 of every file equals manifest.json \"files\" (nothing signs manifest.json)."
    static let manifestNoteStep = "manifest.note is a signed note by verifier.key whose text is the line \""
        + BundleFormat.manifestHeader + "\" and the manifest JSON;\n   SHA-256 of every other file equals its \"files\"."

    /// README lines that only a bundle with access-log.jsonl has (a bundle without one keeps its README's bytes).
    static let accessLogFileLine = """
        access-log.jsonl   the access entries that read these matters: index, leaf, inclusionProof

        """
    static let accessLogStep = """
        7. access-log.jsonl: each leaf is an event leaf (FORMAT.md, "Bundle v1") whose JSON body records a
           read ("event":"access") of one of these entries' matter tags, or of every matter ("allMatters":true);
           it names its own index and this bundle's ledger id, indexes ascend, and its inclusion proof checks as
           in step 3. Reads recorded after the checkpoint are not included (this export's own read is: it was
           recorded before the checkpoint was signed).

        """

    /// Renders, digests and compresses every file on every core, then the manifest over their digests (signed by
    /// `signManifest` as manifest.note; manifest.json, bundle v1, without it).
    /// entries.jsonl is stored unless `compactEntries`: it is mostly base64 and hex that deflate shrinks only 3.6x at
    /// several times the cost of everything else in an export (and of inflating it in verify-bundle); the text files
    /// are deflated.
    static func members(_ c: Context, note: String, verifierKey: String,
                        consistency: (note: String, proof: [Hash])?,
                        signManifest: (([UInt8]) throws -> String)?) throws -> [ZipMember] {
        var c = c
        c.formatVersion = signManifest == nil ? BundleFormat.formatVersion1 : BundleFormat.formatVersion
        var jobs: [() throws -> ZipMember] = [
            { try ZipMember.make(BundleFormat.entries, entriesJSONL(c.entries),
                                 method: c.options.compactEntries ? .deflate : .none) },
            { try ZipMember.make(BundleFormat.privilegeLog, privilegeLog(c.entries), method: .deflate) },
            { try ZipMember.make(BundleFormat.report, report(c), method: .deflate) },
            { try ZipMember.make(BundleFormat.checkpoint, Array(note.utf8), method: .deflate) },
            { try ZipMember.make(BundleFormat.verifierKey, Array((verifierKey + "\n").utf8), method: .deflate) },
            { try ZipMember.make(BundleFormat.readme, readme(c), method: .deflate) },
        ]
        if let consistency {
            jobs.append {
                try ZipMember.make(BundleFormat.consistency,
                                   consistencyJSON(note: consistency.note, proof: consistency.proof, newSize: c.size),
                                   method: .deflate)
            }
        }
        if let accessLog = c.accessLog {
            jobs.append { try ZipMember.make(BundleFormat.accessLog, accessLogJSONL(accessLog), method: .deflate) }
        }
        if let retention = c.retention {
            jobs.append { try ZipMember.make(BundleFormat.retention, retentionJSONL(retention), method: .deflate) }
        }
        var files = try runConcurrently(jobs)
        // Same member order as before: checkpoint, verifier key, entries, privilege log, report, README, [consistency],
        // then [access log], then [retention], then [receipts].
        files = [files[3], files[4], files[0], files[1], files[2], files[5]] + files.dropFirst(6)
        if c.options.receipts { files += try receiptMembers(c.entries, note: note) }
        files.append(try manifestMember(c, files: files, consistency: consistency != nil, sign: signManifest))
        return files
    }

    /// manifest.note, the manifest JSON signed by `sign` (bundle v2); manifest.json, unsigned, when there is no
    /// signer (bundle v1: an export by a reader credential, which cannot sign).
    static func manifestMember(_ c: Context, files: [ZipMember], consistency: Bool,
                               sign: (([UInt8]) throws -> String)?) throws -> ZipMember {
        guard let sign else {
            let json = manifestJSON(c, files: files, consistency: consistency, version: BundleFormat.formatVersion1)
            return try ZipMember.make(BundleFormat.manifest, json + [0x0a], method: .deflate)
        }
        let json = manifestJSON(c, files: files, consistency: consistency, version: BundleFormat.formatVersion)
        return try ZipMember.make(BundleFormat.manifestNote, Array(try sign(json).utf8), method: .deflate)
    }

    /// Writes the zip atomically (temp file in the same directory, then rename). Returns its size.
    static func writeZip(_ members: [ZipMember], to path: String, seal: BundleSealer? = nil) throws -> Int {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
                throw ExportError.io(path: path, detail: "cannot create \(temp.path)")
            }
            let handle = try FileHandle(forWritingTo: temp)
            var size = 0
            do {
                if let seal {
                    size = try writeSealed(members, seal: seal, to: handle)
                } else {
                    try ZipWriter.write(members, date: Date()) { chunk in
                        try chunk.withUnsafeBytes { try handle.write(contentsOf: $0) }
                        size += chunk.count
                    }
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

    /// The zip built in memory, sealed, and only the sealed bytes written; the clear zip is zeroed after. Returns the
    /// sealed size.
    private static func writeSealed(_ members: [ZipMember], seal: BundleSealer, to handle: FileHandle) throws -> Int {
        var zip = [UInt8]()
        defer { zeroize(&zip) }
        try ZipWriter.write(members, date: Date()) { chunk in chunk.withUnsafeBytes { zip.append(contentsOf: $0) } }
        var size = 0
        try zip.withUnsafeBytes { clear in
            try seal(clear) { sealed in
                try handle.write(contentsOf: sealed)
                size += sealed.count
            }
        }
        return size
    }
}

/// Seals a bundle's zip bytes (first argument) by writing the sealed form through the second (see
/// `ExportOptions.seal`). The zip bytes are borrowed: the sealer must not keep them.
public typealias BundleSealer = @Sendable (UnsafeRawBufferPointer, (UnsafeRawBufferPointer) throws -> Void) throws
    -> Void
