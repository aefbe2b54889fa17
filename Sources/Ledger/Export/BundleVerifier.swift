import Foundation
import MerkleLog
import RecordFormats
import SignedNote
import Sodium
import ZIPFoundation

/// One failed check of a bundle. `check` names the check (docs/EXPORT.md lists them); `entry` the seq when known.
public struct BundleViolation: Sendable, CustomStringConvertible {
    public let check: String
    public let entry: UInt64?
    /// 1-based line of entries.jsonl or privilege-log.csv, when the check is about one line.
    public let line: Int?
    public let detail: String

    public var description: String {
        var where_ = ""
        if let entry { where_ = "entry \(entry): " } else if let line { where_ = "line \(line): " }
        return "\(where_)[\(check)] \(detail)"
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [("check", .string(check)), ("detail", .string(detail))]
        if let entry { members.append(("entry", .integer(Int64(entry)))) }
        if let line { members.append(("line", .integer(Int64(line)))) }
        return .object(JSONObject(members))
    }
}

public struct BundleVerifyOptions: Sendable {
    /// Verifier key text kept outside the bundle; without it the bundle's own verifier.key is used (weaker).
    public var pinnedVerifierKey: String?
    /// A checkpoint (signed note) the recipient already holds: the bundle's tree must extend it.
    public var trustedCheckpoint: String?

    public init(pinnedVerifierKey: String? = nil, trustedCheckpoint: String? = nil) {
        self.pinnedVerifierKey = pinnedVerifierKey
        self.trustedCheckpoint = trustedCheckpoint
    }
}

public struct BundleReport: Sendable {
    public var origin = ""
    public var treeSize: UInt64 = 0
    public var root = ""
    public var entries = 0
    public var disclosures = 0
    public var redactions = 0
    public var verifierKeyPinned = false
    public var consistencyChecked = false
    public var trustedChecked = false
    public var warnings: [String] = []
    public var violations: [BundleViolation] = []
    public var durationMicroseconds: Int64 = 0

    public var isValid: Bool { violations.isEmpty }

    mutating func fail(_ check: String, _ detail: String, entry: UInt64? = nil, line: Int? = nil) {
        violations.append(BundleViolation(check: check, entry: entry, line: line, detail: detail))
    }

    public var json: JSONValue {
        .object(JSONObject([
            ("ok", .bool(isValid)),
            ("origin", .string(origin)),
            ("treeSize", .integer(Int64(treeSize))),
            ("root", .string(root)),
            ("entries", .integer(Int64(entries))),
            ("disclosures", .integer(Int64(disclosures))),
            ("redactions", .integer(Int64(redactions))),
            ("verifierKeyPinned", .bool(verifierKeyPinned)),
            ("consistencyChecked", .bool(consistencyChecked)),
            ("trustedChecked", .bool(trustedChecked)),
            ("durationMicroseconds", .integer(durationMicroseconds)),
            ("warnings", .array(warnings.map { .string($0) })),
            ("violationCount", .integer(Int64(violations.count))),
            ("violations", .array(violations.prefix(1000).map(\.json))),
        ]))
    }

    public var summaryLines: [String] {
        let seconds = Double(durationMicroseconds) / 1e6
        let rate = seconds > 0 ? Int(Double(entries) / seconds) : entries
        return [
            "origin:       \(origin)",
            "checkpoint:   size \(treeSize), root \(root)",
            "entries:      \(entries) (\(disclosures) fields disclosed, \(redactions) redacted)",
            "verifier key: \(verifierKeyPinned ? "pinned" : "the bundle's own (not pinned)")",
            "consistency:  \(consistencyChecked ? "proof checked" : "no proof in bundle")\(trustedChecked ? ", trusted checkpoint checked" : "")",
            String(format: "time:         %.3f s (%d entries/s)", seconds, rate),
            "result:       \(isValid ? "VALID" : "INVALID (\(violations.count) violations)")",
        ]
    }
}

/// Reads a bundle zip defensively: only the known file names, no duplicates, size caps, CRC checked.
enum BundleReader {
    static func read(_ path: String) throws -> [String: [UInt8]] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ExportError.inputNotFound(path)
        }
        guard FileManager.default.isReadableFile(atPath: path) else { throw ExportError.io(path: path, detail: "cannot read") }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? UInt64, size > BundleFormat.maxTotalBytes {
            throw ExportError.malformedBundle("the file is over \(BundleFormat.maxTotalBytes >> 20) MiB")
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ExportError.malformedBundle("not a zip archive (\(error))")
        }
        var entries = [Entry]()
        var names = Set<String>()
        var declaredTotal: UInt64 = 0
        for entry in archive {
            let name = entry.path
            guard entries.count < 32 else { throw ExportError.malformedBundle("too many files in the archive") }
            if name.hasPrefix("/") || name.hasPrefix("\\") || name.contains("..") || name.contains("/") || name.contains("\\")
                || name.contains(":") {
                throw ExportError.malformedBundle("unsafe file name '\(printable(name))' (absolute path, directory or traversal)")
            }
            guard BundleFormat.allowed.contains(name) else { throw ExportError.malformedBundle("unexpected file '\(printable(name))'") }
            guard names.insert(name).inserted else { throw ExportError.malformedBundle("duplicate file '\(name)'") }
            guard entry.type == .file else { throw ExportError.malformedBundle("'\(name)' is not a regular file") }
            guard entry.uncompressedSize <= BundleFormat.maxFileBytes else {
                throw ExportError.malformedBundle("'\(name)' declares \(entry.uncompressedSize) bytes, over the \(BundleFormat.maxFileBytes >> 20) MiB limit per file")
            }
            declaredTotal += entry.uncompressedSize
            guard declaredTotal <= BundleFormat.maxTotalBytes else {
                throw ExportError.malformedBundle("the files declare over \(BundleFormat.maxTotalBytes >> 20) MiB in total")
            }
            entries.append(entry)
        }
        for name in BundleFormat.required where !names.contains(name) {
            throw ExportError.malformedBundle("missing file '\(name)'")
        }
        var files = [String: [UInt8]]()
        for entry in entries {
            let declared = entry.uncompressedSize
            var bytes = [UInt8]()
            bytes.reserveCapacity(Int(declared))
            do {
                let crc = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: false) { chunk in
                    guard UInt64(bytes.count + chunk.count) <= declared else {
                        throw ExportError.malformedBundle("'\(entry.path)' holds more bytes than it declares")
                    }
                    bytes.append(contentsOf: chunk)
                }
                guard UInt64(bytes.count) == declared else { throw ExportError.malformedBundle("'\(entry.path)' is shorter than it declares") }
                guard crc == entry.checksum else { throw ExportError.malformedBundle("'\(entry.path)' fails its CRC-32 check") }
            } catch let error as ExportError {
                throw error
            } catch {
                throw ExportError.malformedBundle("'\(entry.path)' cannot be read (\(error))")
            }
            files[entry.path] = bytes
        }
        return files
    }

    static func printable(_ s: String) -> String {
        String(s.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    }
}

/// Facts one entry line yields for the cross-checks (privilege log, counts).
private struct EntryFacts {
    var line = 0
    var seq: UInt64?
    var disclosures = 0
    /// Privilege-log columns: revealed text, "[redacted]", or "" when absent.
    var columns: [String: String] = [:]
    var redacted: [(field: String, reason: String)] = []
    var violations: [BundleViolation] = []
}

public enum BundleVerifier {
    /// Verifies a bundle offline (docs/EXPORT.md, "The checks"). Throws `ExportError` only when the bundle cannot be
    /// read as a bundle at all; every failed check is a violation in the report.
    public static func verify(path: String, options: BundleVerifyOptions = BundleVerifyOptions()) throws -> BundleReport {
        let start = Clock.nowMicros()
        let files = try BundleReader.read(path)
        var report = BundleReport()

        // Manifest: the one file that cannot hash itself.
        guard let manifestBytes = files[BundleFormat.manifest], case .object(let manifest)? = try? JSONParser.parse(manifestBytes) else {
            throw ExportError.malformedBundle("manifest.json is not a JSON object")
        }
        guard manifest["formatVersion"]?.integerValue == Int64(BundleFormat.formatVersion),
              manifest["format"]?.stringValue == BundleFormat.formatName else {
            throw ExportError.malformedBundle("manifest.json does not declare \(BundleFormat.formatName) version \(BundleFormat.formatVersion)")
        }
        if case .object(let listed)? = manifest["files"] {
            for (name, bytes) in files.sorted(by: { $0.key < $1.key }) where name != BundleFormat.manifest {
                guard let expected = listed[name]?.stringValue else {
                    report.fail("manifest", "\(name) is not listed in the manifest")
                    continue
                }
                let actual = Hash.sha256(bytes).hex
                if expected != actual { report.fail("manifest", "SHA-256 of \(name) is \(actual), the manifest says \(expected)") }
            }
            for name in listed.keys where files[name] == nil || name == BundleFormat.manifest {
                report.fail("manifest", "the manifest lists \(name), which is not in the bundle")
            }
        } else {
            report.fail("manifest", "the manifest has no 'files' object")
        }

        // Verifier key and checkpoint.
        let key: NoteVerifierKey?
        if let pinned = options.pinnedVerifierKey {
            do {
                key = try NoteVerifierKey(text: pinned.trimmingSuffix("\n"))
            } catch {
                throw ExportError.invalidArgument("--verifier-key: not a verifier key (\(error))")
            }
            report.verifierKeyPinned = true
            if let own = try? NoteVerifierKey(text: String(decoding: files[BundleFormat.verifierKey]!, as: UTF8.self).trimmingSuffix("\n")),
               own != key {
                report.warnings.append("the bundle's verifier.key differs from the pinned key; checking with the pinned key")
            }
        } else {
            report.warnings.append("no --verifier-key given: checking the checkpoint with the key inside the bundle. Anyone who can rewrite the bundle can replace that key too; pin the firm's key obtained separately.")
            do {
                key = try NoteVerifierKey(text: String(decoding: files[BundleFormat.verifierKey]!, as: UTF8.self).trimmingSuffix("\n"))
            } catch {
                report.fail("verifier-key", "verifier.key is not a verifier key: \(error)")
                key = nil
            }
        }
        let noteText = String(decoding: files[BundleFormat.checkpoint]!, as: UTF8.self)
        var checkpoint: Checkpoint?
        do {
            let note = try SignedNoteText(parsing: noteText)
            checkpoint = try Checkpoint(body: note.text)
            if let key {
                do { try note.verify(with: key) } catch { report.fail("checkpoint-signature", "checkpoint.txt does not verify: \(error)") }
            }
        } catch {
            report.fail("checkpoint-signature", "checkpoint.txt is not a signed checkpoint: \(error)")
        }
        var root: Hash?
        if let checkpoint {
            report.origin = checkpoint.origin
            report.treeSize = checkpoint.size
            root = Hash(bytes: checkpoint.rootHash)
            report.root = Base64.encode(checkpoint.rootHash)
            if let key, key.name != checkpoint.origin {
                report.fail("checkpoint-origin", "the checkpoint's origin \(checkpoint.origin) is not the verifier key's name \(key.name)")
            }
            if manifest["origin"]?.stringValue != checkpoint.origin {
                report.fail("manifest", "the manifest's origin differs from the checkpoint's")
            }
            if case .object(let m)? = manifest["checkpoint"],
               m["size"]?.integerValue != Int64(checkpoint.size) || m["root"]?.stringValue != report.root {
                report.fail("manifest", "the manifest's checkpoint size or root differs from checkpoint.txt")
            }
        }

        // Entries, in parallel chunks.
        let facts = checkEntries(files[BundleFormat.entries]!, treeSize: checkpoint?.size, root: root)
        var previous: UInt64?
        var redactionCount = 0
        for fact in facts {
            report.violations.append(contentsOf: fact.violations)
            report.entries += 1
            report.disclosures += fact.disclosures
            redactionCount += fact.redacted.count
            if let seq = fact.seq {
                if let previous, seq <= previous {
                    report.fail("entry-order", "entries must be in strictly ascending index order (after \(previous))", entry: seq, line: fact.line)
                }
                previous = seq
            }
        }
        report.redactions = redactionCount
        if report.entries == 0 { report.fail("entries", "entries.jsonl holds no entries") }
        if case .object(let counts)? = manifest["counts"] {
            if counts["entries"]?.integerValue != Int64(report.entries) { report.fail("manifest", "counts.entries differs from entries.jsonl (\(report.entries))") }
            if counts["redactedFields"]?.integerValue != Int64(redactionCount) { report.fail("manifest", "counts.redactedFields differs from entries.jsonl (\(redactionCount))") }
            if counts["disclosedFields"]?.integerValue != Int64(report.disclosures) { report.fail("manifest", "counts.disclosedFields differs from entries.jsonl (\(report.disclosures))") }
        } else {
            report.fail("manifest", "the manifest has no 'counts' object")
        }

        checkPrivilegeLog(files[BundleFormat.privilegeLog]!, facts: facts, into: &report)

        // Consistency with an older checkpoint.
        var proven: (size: UInt64, root: Hash)?
        if let bytes = files[BundleFormat.consistency], let checkpoint, let root {
            proven = checkConsistency(bytes, key: key, size: checkpoint.size, root: root, into: &report)
            report.consistencyChecked = true
        }
        if manifest["consistencyProof"]?.boolValue == true, files[BundleFormat.consistency] == nil {
            report.fail("manifest", "the manifest announces a consistency proof that is not in the bundle")
        }
        if let trusted = options.trustedCheckpoint, let key {
            report.trustedChecked = true
            checkTrusted(trusted, key: key, checkpoint: checkpoint, root: root, proven: proven, into: &report)
        }
        report.durationMicroseconds = Clock.nowMicros() - start
        return report
    }

    // MARK: - Entries

    private static func checkEntries(_ bytes: [UInt8], treeSize: UInt64?, root: Hash?) -> [EntryFacts] {
        var lines = [Range<Int>]()
        var lineStart = 0
        for (i, b) in bytes.enumerated() where b == 0x0a {
            lines.append(lineStart..<i)
            lineStart = i + 1
        }
        if lineStart < bytes.count { lines.append(lineStart..<bytes.count) }
        let numbered = Array(lines.enumerated())
        let facts = try? bytes.withUnsafeBytes { raw in
            try parallelMap(numbered, minimumChunk: 256) { item in
                checkEntry(UnsafeRawBufferPointer(rebasing: raw[item.element]), line: item.offset + 1, treeSize: treeSize, root: root)
            }
        }
        return facts ?? []
    }

    private static func checkEntry(_ text: UnsafeRawBufferPointer, line: Int, treeSize: UInt64?, root: Hash?) -> EntryFacts {
        var facts = EntryFacts()
        facts.line = line
        func fail(_ check: String, _ detail: String) {
            facts.violations.append(BundleViolation(check: check, entry: facts.seq, line: line, detail: detail))
        }
        guard case .object(let object)? = try? JSONParser.parse(text) else {
            fail("entry-malformed", "not a JSON object")
            return facts
        }
        for key in object.keys where !["index", "leaf", "inclusionProof", "disclosures", "redacted"].contains(key) {
            fail("entry-malformed", "unknown key '\(key)'")
        }
        guard let index = object["index"]?.integerValue, index >= 0 else {
            fail("entry-malformed", "'index' is not a non-negative integer")
            return facts
        }
        facts.seq = UInt64(index)
        guard let leafText = object["leaf"]?.stringValue, let leafBytes = Base64.decode(leafText) else {
            fail("entry-malformed", "'leaf' is not base64")
            return facts
        }
        let leaf: Leaf
        do { leaf = try Leaf.decode(leafBytes) } catch {
            fail("leaf-malformed", "\(error)")
            return facts
        }
        if leaf.seq != UInt64(index) { fail("entry-index", "the leaf names seq \(leaf.seq), the entry index \(index)") }

        // Inclusion proof.
        var proof = [Hash]()
        var proofOK = true
        if case .array(let items)? = object["inclusionProof"] {
            for item in items {
                guard let s = item.stringValue, let h = Hash(base64: s) else { proofOK = false; break }
                proof.append(h)
            }
        } else { proofOK = false }
        if !proofOK {
            fail("entry-malformed", "'inclusionProof' is not an array of base64 32-byte hashes")
        } else if let treeSize, let root {
            if UInt64(index) >= treeSize {
                fail("inclusion-proof", "index \(index) is beyond the checkpoint's tree size \(treeSize)")
            } else {
                do {
                    try checkRecord(proof: proof, treeSize: Int64(treeSize), root: root, index: index, recordHash: recordHash(leafBytes))
                } catch {
                    fail("inclusion-proof", "the inclusion proof does not lead to the checkpoint's root (\(error))")
                }
            }
        }

        // Disclosures and redactions must cover the leaf's fields exactly once each.
        let names = leaf.fieldNames
        var digests = [String: Hash]()
        var valuesText = [String: String]()
        if case .array(let items)? = object["disclosures"] {
            for item in items {
                guard let disclosure = item.stringValue else { fail("disclosure-malformed", "a disclosure is not a string"); continue }
                guard let decoded = Base64.decodeURL(disclosure),
                      case .array(let parts)? = try? JSONParser.parse(decoded), parts.count == 3,
                      case .string = parts[0], case .string(let name) = parts[1] else {
                    fail("disclosure-malformed", "a disclosure is not base64url of a JSON array [salt, name, value]")
                    continue
                }
                guard names.contains(name) else {
                    fail("disclosure-name", "a disclosure names field '\(name)', which the leaf does not have")
                    continue
                }
                guard digests[name] == nil else { fail("disclosure-name", "field '\(name)' is disclosed twice"); continue }
                digests[name] = Hash.sha256(Array(disclosure.utf8))
                switch parts[2] {
                case .string(let s): valuesText[name] = s
                case .integer(let i): valuesText[name] = String(i)
                case .bool(let b): valuesText[name] = b ? "true" : "false"
                default: valuesText[name] = JSONWriter.string(parts[2])
                }
                facts.disclosures += 1
            }
        } else {
            fail("entry-malformed", "'disclosures' is not an array")
        }
        if case .array(let items)? = object["redacted"] {
            for item in items {
                guard case .object(let r) = item, r.count == 3, let field = r["field"]?.stringValue,
                      let reason = r["reason"]?.stringValue, let digestText = r["digest"]?.stringValue else {
                    fail("redaction", "a redaction is not {field, reason, digest}")
                    continue
                }
                guard let digest = hexHash(digestText) else { fail("redaction", "the digest of '\(field)' is not 64 lowercase hex digits"); continue }
                guard names.contains(field) else { fail("redaction", "redacted field '\(field)' is not in the leaf"); continue }
                guard digests[field] == nil else { fail("redaction", "field '\(field)' is both disclosed and redacted, or redacted twice"); continue }
                if RedactionReason(rawValue: reason) == nil { fail("redaction-reason", "field '\(field)' has an unknown reason '\(reason)'") }
                digests[field] = digest
                facts.redacted.append((field, reason))
            }
        } else {
            fail("entry-malformed", "'redacted' is not an array")
        }
        let missing = names.filter { digests[$0] == nil }
        if !missing.isEmpty {
            fail("field-coverage", "fields neither disclosed nor redacted: \(missing.joined(separator: ", "))")
        } else if Leaf.fieldsDigest(names: names, digests: names.map { digests[$0]! }) != leaf.fieldsDigest {
            fail("fields-digest", "the disclosed and redacted digests do not reproduce the leaf's fields digest")
        }
        let redactedNames = Set(facts.redacted.map(\.field))
        for column in BundleFormat.privilegeLogMetadata {
            facts.columns[column] = redactedNames.contains(column) ? BundleFormat.redactedMarker : (valuesText[column] ?? "")
        }
        return facts
    }

    private static func hexHash(_ text: String) -> Hash? {
        let bytes = Array(text.utf8)
        guard bytes.count == 64 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(32)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var i = 0
        while i < 64 {
            guard let hi = nibble(bytes[i]), let lo = nibble(bytes[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return Hash(bytes: out)
    }

    // MARK: - Privilege log

    private static func checkPrivilegeLog(_ bytes: [UInt8], facts: [EntryFacts], into report: inout BundleReport) {
        let rows: [CSVRow]
        do { rows = try CSVReader.readAll(bytes) } catch {
            report.fail("privilege-log", "privilege-log.csv is not valid CSV: \(error)")
            return
        }
        guard let header = rows.first, header.fields == BundleFormat.privilegeLogHeader else {
            report.fail("privilege-log", "the header must be \(BundleFormat.privilegeLogHeader.joined(separator: ","))")
            return
        }
        var expected = [(seq: UInt64, columns: [String: String], field: String, reason: String)]()
        for fact in facts {
            guard let seq = fact.seq else { continue }
            for item in fact.redacted { expected.append((seq, fact.columns, item.field, item.reason)) }
        }
        let body = rows.dropFirst()
        if body.count != expected.count {
            report.fail("privilege-log", "\(body.count) rows for \(expected.count) redacted fields")
        }
        for (row, want) in zip(body, expected) {
            let f = row.fields
            guard f.count == BundleFormat.privilegeLogHeader.count else {
                report.fail("privilege-log", "row has \(f.count) columns", line: row.line)
                continue
            }
            guard f[0] == String(want.seq), f[6] == want.field, f[7] == want.reason else {
                report.fail("privilege-log", "row names seq \(f[0]) field \(f[6]) (\(f[7])); the redactions say seq \(want.seq) field \(want.field) (\(want.reason))",
                            entry: want.seq, line: row.line)
                continue
            }
            for (i, column) in BundleFormat.privilegeLogMetadata.enumerated()
            where f[i + 1] != want.columns[column].map(BundleFormat.spreadsheetSafe) {
                report.fail("privilege-log", "column \(column) does not match the entry's disclosure (or [redacted])", entry: want.seq, line: row.line)
            }
        }
    }

    // MARK: - Consistency

    private static func openNote(_ text: String, key: NoteVerifierKey?) throws -> (size: UInt64, root: Hash, origin: String) {
        let note = try SignedNoteText(parsing: text)
        if let key { try note.verify(with: key) }
        let body = try Checkpoint(body: note.text)
        guard let root = Hash(bytes: body.rootHash) else { throw ExportError.malformedBundle("root is not 32 bytes") }
        if let key, body.origin != key.name { throw ExportError.malformedBundle("origin \(body.origin) is not the key's name \(key.name)") }
        return (body.size, root, body.origin)
    }

    private static func checkConsistency(_ bytes: [UInt8], key: NoteVerifierKey?, size: UInt64, root: Hash,
                                         into report: inout BundleReport) -> (size: UInt64, root: Hash)? {
        guard case .object(let object)? = try? JSONParser.parse(bytes), let noteText = object["oldCheckpoint"]?.stringValue,
              let newSize = object["newSize"]?.integerValue, case .array(let items)? = object["proof"] else {
            report.fail("consistency", "consistency.json is not {oldCheckpoint, newSize, proof}")
            return nil
        }
        let proof = items.compactMap { $0.stringValue.flatMap { Hash(base64: $0) } }
        guard proof.count == items.count else {
            report.fail("consistency", "the consistency proof is not an array of base64 32-byte hashes")
            return nil
        }
        guard newSize == Int64(size) else {
            report.fail("consistency", "consistency.json proves size \(newSize), the checkpoint has \(size)")
            return nil
        }
        let old: (size: UInt64, root: Hash, origin: String)
        do { old = try openNote(noteText, key: key) } catch {
            report.fail("consistency", "the old checkpoint does not verify: \(error)")
            return nil
        }
        do {
            if old.size > size {
                report.fail("consistency", "the old checkpoint (size \(old.size)) is larger than the bundle's (\(size))")
                return nil
            } else if old.size == size || old.size == 0 {
                guard proof.isEmpty, old.size == 0 || old.root == root else { throw MerkleError.proofMismatch }
            } else {
                try checkTree(proof: proof, newSize: Int64(size), newRoot: root, oldSize: Int64(old.size), oldRoot: old.root)
            }
        } catch {
            report.fail("consistency", "the consistency proof from size \(old.size) does not check (\(error))")
            return nil
        }
        return (old.size, old.root)
    }

    private static func checkTrusted(_ text: String, key: NoteVerifierKey, checkpoint: Checkpoint?, root: Hash?,
                                     proven: (size: UInt64, root: Hash)?, into report: inout BundleReport) {
        let trusted: (size: UInt64, root: Hash, origin: String)
        do { trusted = try openNote(text, key: key) } catch {
            report.fail("trusted-checkpoint", "the trusted checkpoint does not verify: \(error)")
            return
        }
        guard let checkpoint, let root else { return }
        if trusted.size > checkpoint.size {
            report.fail("trusted-checkpoint", "the bundle's checkpoint (size \(checkpoint.size)) is older than the trusted one (size \(trusted.size))")
        } else if trusted.size == checkpoint.size {
            if trusted.root != root { report.fail("trusted-checkpoint", "same size \(trusted.size), different root: the log forked") }
        } else if trusted.size == 0 {
            return
        } else if let proven, proven.size == trusted.size {
            if proven.root != trusted.root { report.fail("trusted-checkpoint", "the bundle's consistency proof starts from another root at size \(trusted.size): the log forked") }
        } else {
            report.fail("trusted-checkpoint", "the bundle has no consistency proof from size \(trusted.size); ask for an export with --since-checkpoint")
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
