import Foundation
import LedgerFormat
import LedgerSupport
import Logging
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

    package var json: JSONValue {
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

    package mutating func fail(_ check: String, _ detail: String, entry: UInt64? = nil, line: Int? = nil) {
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
package enum BundleReader {
    package static func read(_ path: String) throws -> [String: [UInt8]] {
        try readDigested(path).mapValues(\.bytes)
    }

    /// The files of the bundle with the SHA-256 of each (computed while the CRC-32 is checked).
    package static func readDigested(_ path: String) throws -> [String: (bytes: [UInt8], sha256: Hash)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw BundleError.notFound(path: path)
        }
        guard FileManager.default.isReadableFile(atPath: path) else { throw BundleError.unreadable(path: path, detail: "cannot read") }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? UInt64, size > BundleFormat.maxTotalBytes {
            throw BundleError.malformed("the file is over \(BundleFormat.maxTotalBytes >> 20) MiB")
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw BundleError.malformed("not a zip archive (\(error))")
        }
        var entries = [Entry]()
        var names = Set<String>()
        var declaredTotal: UInt64 = 0
        for entry in archive {
            let name = entry.path
            guard entries.count < 32 else { throw BundleError.malformed("too many files in the archive") }
            if name.hasPrefix("/") || name.hasPrefix("\\") || name.contains("..") || name.contains("/") || name.contains("\\")
                || name.contains(":") {
                throw BundleError.malformed("unsafe file name '\(printable(name))' (absolute path, directory or traversal)")
            }
            guard BundleFormat.allowed.contains(name) else { throw BundleError.malformed("unexpected file '\(printable(name))'") }
            guard names.insert(name).inserted else { throw BundleError.malformed("duplicate file '\(name)'") }
            guard entry.type == .file else { throw BundleError.malformed("'\(name)' is not a regular file") }
            guard entry.uncompressedSize <= BundleFormat.maxFileBytes else {
                throw BundleError.malformed("'\(name)' declares \(entry.uncompressedSize) bytes, over the \(BundleFormat.maxFileBytes >> 20) MiB limit per file")
            }
            declaredTotal += entry.uncompressedSize
            guard declaredTotal <= BundleFormat.maxTotalBytes else {
                throw BundleError.malformed("the files declare over \(BundleFormat.maxTotalBytes >> 20) MiB in total")
            }
            entries.append(entry)
        }
        for name in BundleFormat.required where !names.contains(name) {
            throw BundleError.malformed("missing file '\(name)'")
        }
        var extracted = [(entry: Entry, bytes: [UInt8])]()
        for entry in entries {
            let declared = entry.uncompressedSize
            var bytes = [UInt8]()
            bytes.reserveCapacity(Int(declared))
            do {
                // CRC-32 is checked below with a faster implementation than ZIPFoundation's Linux fallback.
                _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: true) { chunk in
                    guard UInt64(bytes.count + chunk.count) <= declared else {
                        throw BundleError.malformed("'\(entry.path)' holds more bytes than it declares")
                    }
                    bytes.append(contentsOf: chunk)
                }
                guard UInt64(bytes.count) == declared else { throw BundleError.malformed("'\(entry.path)' is shorter than it declares") }
            } catch let error as BundleError {
                throw error
            } catch {
                throw BundleError.malformed("'\(entry.path)' cannot be read (\(error))")
            }
            extracted.append((entry, bytes))
        }
        // CRC-32 and SHA-256 of every file, on every core, largest first.
        // The CRC and the SHA-256 of each file are separate jobs, largest first, so both cores stay busy.
        extracted.sort { $0.bytes.count > $1.bytes.count }
        var jobs = [() -> (crc: UInt32?, sha256: Hash?)]()
        for item in extracted {
            jobs.append { (CRC32.checksum(item.bytes), nil) }
            jobs.append { (nil, Hash.sha256(item.bytes)) }
        }
        let sums = try runConcurrently(jobs)
        var files = [String: (bytes: [UInt8], sha256: Hash)]()
        for (i, item) in extracted.enumerated() {
            guard sums[2 * i].crc == item.entry.checksum else { throw BundleError.malformed("'\(item.entry.path)' fails its CRC-32 check") }
            files[item.entry.path] = (item.bytes, sums[2 * i + 1].sha256!)
        }
        return files
    }

    package static func printable(_ s: String) -> String {
        String(s.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    }
}

/// Facts one entry line yields for the cross-checks (privilege log, counts).
private struct EntryFacts {
    package var line = 0
    package var seq: UInt64?
    package var disclosures = 0
    /// Privilege-log metadata columns (`BundleFormat.privilegeLogMetadata` order), spreadsheet-safe: revealed text,
    /// "[redacted]", or "" when absent. Empty when the entry was too malformed to tell (every column then mismatches).
    package var columns: [String] = []
    package var redacted: [(field: String, reason: String)] = []
    package var violations: [BundleViolation] = []
}

public enum BundleVerifier {
    package static let logger = Logger(label: "ledger.export")

    /// Verifies a bundle offline (docs/EXPORT.md, "The checks"). Throws `BundleError` only when the bundle cannot be
    /// read as a bundle at all; every failed check is a violation in the report.
    public static func verify(path: String, options: BundleVerifyOptions = BundleVerifyOptions()) throws -> BundleReport {
        let start = Clock.nowMicros()
        var timer = PhaseTimer(logger: logger)
        defer { logger.debug("verify-bundle", metadata: ["phases": "\(timer)"]) }
        let digested = try BundleReader.readDigested(path)
        timer.lap("read")
        let files = digested.mapValues(\.bytes)
        var report = BundleReport()

        // Manifest: the one file that cannot hash itself.
        guard let manifestBytes = files[BundleFormat.manifest], case .object(let manifest)? = try? JSONParser.parse(manifestBytes) else {
            throw BundleError.malformed("manifest.json is not a JSON object")
        }
        guard manifest["formatVersion"]?.integerValue == Int64(BundleFormat.formatVersion),
              manifest["format"]?.stringValue == BundleFormat.formatName else {
            throw BundleError.malformed("manifest.json does not declare \(BundleFormat.formatName) version \(BundleFormat.formatVersion)")
        }
        if case .object(let listed)? = manifest["files"] {
            for (name, _) in files.sorted(by: { $0.key < $1.key }) where name != BundleFormat.manifest {
                guard let expected = listed[name]?.stringValue else {
                    report.fail("manifest", "\(name) is not listed in the manifest")
                    continue
                }
                let actual = digested[name]!.sha256.hex
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
                throw BundleError.invalidVerifierKey("\(error)")
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

        timer.lap("manifest+checkpoint")
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

        timer.lap("entries")
        checkPrivilegeLog(files[BundleFormat.privilegeLog]!, facts: facts, into: &report)
        timer.lap("privilege-log")

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
        lines.reserveCapacity(bytes.count / 2048 + 1)
        bytes.withUnsafeBufferPointer { b in
            var lineStart = 0
            while lineStart < b.count {
                let end = b[lineStart...].firstIndex(of: 0x0a) ?? b.count
                lines.append(lineStart..<end)
                lineStart = end + 1
            }
        }
        // One contiguous share of lines per core, each with its own node-hash memo; results in line order.
        let workers = max(1, min(availableCores, lines.count / 256))
        let shares = (0..<workers).map { workerRange($0, of: workers, count: lines.count) }
        let facts = try? bytes.withUnsafeBytes { raw in
            try parallelMap(shares, minimumChunk: 1) { share -> [EntryFacts] in
                var memo = NodeHashMemo()
                return share.map { i in
                    checkEntry(UnsafeRawBufferPointer(rebasing: raw[lines[i]]), line: i + 1, treeSize: treeSize, root: root, memo: &memo)
                }
            }
        }
        return facts?.flatMap { $0 } ?? []
    }

    package static let entryKeys: Set<String> = ["index", "leaf", "inclusionProof", "disclosures", "redacted"]

    /// One entries.jsonl line taken apart: each text is a range of `text` (the line itself, or an arena of the
    /// generic parser's strings). nil where the JSON had the wrong type.
    package struct EntryParts {
        package var index: Int64
        package var leaf: Range<Int>?
        package var proof: [Range<Int>]?
        package var disclosures: [Range<Int>?]?
        package var redacted: [(field: Range<Int>, reason: Range<Int>, digest: Range<Int>)?]?
    }

    private static func checkEntry(_ text: UnsafeRawBufferPointer, line: Int, treeSize: UInt64?, root: Hash?,
                                   memo: inout NodeHashMemo) -> EntryFacts {
        var facts = EntryFacts()
        facts.line = line
        if let parts = CanonicalEntryScanner.scan(text) {
            checkParts(parts, text: text, treeSize: treeSize, root: root, memo: &memo, into: &facts)
            return facts
        }
        // Anything but the exporter's exact layout: the strict JSON parser, with the same checks.
        func fail(_ check: String, _ detail: String) {
            facts.violations.append(BundleViolation(check: check, entry: facts.seq, line: line, detail: detail))
        }
        guard case .object(let object)? = try? JSONParser.parse(text) else {
            fail("entry-malformed", "not a JSON object")
            return facts
        }
        for (key, _) in object where !entryKeys.contains(key) {
            fail("entry-malformed", "unknown key '\(key)'")
        }
        guard let index = object["index"]?.integerValue, index >= 0 else {
            fail("entry-malformed", "'index' is not a non-negative integer")
            return facts
        }
        var arena = [UInt8]()
        func put(_ s: String) -> Range<Int> {
            let start = arena.count
            arena.append(contentsOf: s.utf8)
            return start..<arena.count
        }
        var parts = EntryParts(index: index)
        parts.leaf = object["leaf"]?.stringValue.map(put)
        if case .array(let items)? = object["inclusionProof"] {
            let strings = items.compactMap(\.stringValue)
            parts.proof = strings.count == items.count ? strings.map(put) : nil
        }
        if case .array(let items)? = object["disclosures"] { parts.disclosures = items.map { $0.stringValue.map(put) } }
        if case .array(let items)? = object["redacted"] {
            parts.redacted = items.map { item in
                guard case .object(let r) = item, r.count == 3, let field = r["field"]?.stringValue,
                      let reason = r["reason"]?.stringValue, let digest = r["digest"]?.stringValue else { return nil }
                return (put(field), put(reason), put(digest))
            }
        }
        arena.withUnsafeBytes { checkParts(parts, text: $0, treeSize: treeSize, root: root, memo: &memo, into: &facts) }
        return facts
    }

    /// The name and value of a decoded disclosure `["salt","name",value]`, or nil when it is not such a JSON array.
    /// The exporter's form with a plain ASCII string value is read directly; anything else goes to the strict parser.
    private static func disclosureParts(_ json: [UInt8]) -> (name: String, value: JSONValue)? {
        if let parts = json.withUnsafeBytes({ CanonicalEntryScanner.scanDisclosure($0) }) {
            return json.withUnsafeBytes { raw in
                (String(decoding: UnsafeRawBufferPointer(rebasing: raw[parts.name]), as: UTF8.self),
                 .string(String(decoding: UnsafeRawBufferPointer(rebasing: raw[parts.value]), as: UTF8.self)))
            }
        }
        guard case .array(let parts)? = try? JSONParser.parse(json), parts.count == 3,
              case .string = parts[0], case .string(let name) = parts[1] else { return nil }
        return (name, parts[2])
    }

    /// The leaf's fields digest (`Leaf.FieldsHasher`) over the slots, all filled.
    private static func fieldsDigest(names: [String], digests: [Hash?]) -> Hash {
        var hasher = Leaf.FieldsHasher()
        for (name, digest) in zip(names, digests) { hasher.add(name: name, digest: digest!) }
        return hasher.finalize()
    }

    private static let reasonBytes = RedactionReason.allCases.map { ($0, Array($0.rawValue.utf8)) }

    /// The redaction reason spelled exactly by `text`, if any.
    private static func reasonNamed(_ text: UnsafeRawBufferPointer) -> RedactionReason? {
        for (reason, spelling) in reasonBytes where spelling.count == text.count
            && spelling.withUnsafeBytes({ memcmp($0.baseAddress!, text.baseAddress!, text.count) == 0 }) {
            return reason
        }
        return nil
    }

    /// The checks of one entry (docs/EXPORT.md, "The checks"), on its parts.
    private static func checkParts(_ parts: EntryParts, text: UnsafeRawBufferPointer, treeSize: UInt64?, root: Hash?,
                                   memo: inout NodeHashMemo, into facts: inout EntryFacts) {
        let line = facts.line
        func fail(_ check: String, _ detail: String) {
            facts.violations.append(BundleViolation(check: check, entry: facts.seq, line: line, detail: detail))
        }
        func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: text[range]) }
        func string(_ range: Range<Int>) -> String { String(decoding: bytes(range), as: UTF8.self) }
        let index = parts.index
        facts.seq = UInt64(index)
        guard let leafRange = parts.leaf, let leafBytes = PublicBase64.decode(bytes(leafRange), urlSafe: false) else {
            fail("entry-malformed", "'leaf' is not base64")
            return
        }
        let leaf: Leaf
        do { leaf = try Leaf.decode(leafBytes) } catch {
            fail("leaf-malformed", "\(error)")
            return
        }
        if leaf.seq != UInt64(index) { fail("entry-index", "the leaf names seq \(leaf.seq), the entry index \(index)") }

        // Inclusion proof: RFC 6962 audit path from SHA-256(0x00 || leaf) at `index` to the checkpoint's root.
        var proof = [Hash]()
        proof.reserveCapacity(parts.proof?.count ?? 0)
        for range in parts.proof ?? [] {
            guard let h = PublicBase64.decodeHash(bytes(range)) else { break }
            proof.append(h)
        }
        if parts.proof == nil || proof.count != parts.proof!.count {
            fail("entry-malformed", "'inclusionProof' is not an array of base64 32-byte hashes")
        } else if let treeSize, let root {
            if UInt64(index) >= treeSize {
                fail("inclusion-proof", "index \(index) is beyond the checkpoint's tree size \(treeSize)")
            } else {
                do {
                    try checkRecord(proof: proof, treeSize: Int64(treeSize), root: root, index: index,
                                    recordHash: recordHash(leafBytes), memo: &memo)
                } catch {
                    fail("inclusion-proof", "the inclusion proof does not lead to the checkpoint's root (\(error))")
                }
            }
        }

        // Disclosures and redactions must cover the leaf's fields exactly once each: one digest slot per leaf field.
        let names = leaf.fieldNames
        var digests = [Hash?](repeating: nil, count: names.count)
        var redactedSlot = [Bool](repeating: false, count: names.count)
        var metadataText = [String?](repeating: nil, count: BundleFormat.privilegeLogMetadata.count)
        if let items = parts.disclosures {
            for item in items {
                guard let range = item else { fail("disclosure-malformed", "a disclosure is not a string"); continue }
                guard let decoded = PublicBase64.decode(bytes(range), urlSafe: true),
                      let (name, value) = disclosureParts(decoded) else {
                    fail("disclosure-malformed", "a disclosure is not base64url of a JSON array [salt, name, value]")
                    continue
                }
                guard let slot = names.firstIndex(of: name) else {
                    fail("disclosure-name", "a disclosure names field '\(name)', which the leaf does not have")
                    continue
                }
                guard digests[slot] == nil else { fail("disclosure-name", "field '\(name)' is disclosed twice"); continue }
                digests[slot] = Hash.sha256(bytes(range))  // RFC 9901 §4.2.3: SHA-256 of the disclosure's ASCII
                if let column = BundleFormat.privilegeLogMetadata.firstIndex(of: name) {
                    switch value {
                    case .string(let s): metadataText[column] = s
                    case .integer(let i): metadataText[column] = String(i)
                    case .bool(let b): metadataText[column] = b ? "true" : "false"
                    default: metadataText[column] = JSONWriter.string(value)
                    }
                }
                facts.disclosures += 1
            }
        } else {
            fail("entry-malformed", "'disclosures' is not an array")
        }
        if let items = parts.redacted {
            for item in items {
                guard let item else { fail("redaction", "a redaction is not {field, reason, digest}"); continue }
                let field = string(item.field)
                let reason = reasonNamed(bytes(item.reason))
                guard let digest = hexHash(bytes(item.digest)) else { fail("redaction", "the digest of '\(field)' is not 64 lowercase hex digits"); continue }
                guard let slot = names.firstIndex(of: field) else { fail("redaction", "redacted field '\(field)' is not in the leaf"); continue }
                guard digests[slot] == nil else { fail("redaction", "field '\(field)' is both disclosed and redacted, or redacted twice"); continue }
                if reason == nil { fail("redaction-reason", "field '\(field)' has an unknown reason '\(string(item.reason))'") }
                digests[slot] = digest
                redactedSlot[slot] = true
                facts.redacted.append((field, reason?.rawValue ?? string(item.reason)))
            }
        } else {
            fail("entry-malformed", "'redacted' is not an array")
        }
        let missing = names.indices.filter { digests[$0] == nil }
        if !missing.isEmpty {
            fail("field-coverage", "fields neither disclosed nor redacted: \(missing.map { names[$0] }.joined(separator: ", "))")
        } else if fieldsDigest(names: names, digests: digests) != leaf.fieldsDigest {
            fail("fields-digest", "the disclosed and redacted digests do not reproduce the leaf's fields digest")
        }
        facts.columns = BundleFormat.privilegeLogMetadata.enumerated().map { column, name in
            if let slot = names.firstIndex(of: name), redactedSlot[slot] { return BundleFormat.redactedMarker }
            return CSVWriter.formulaSafe(metadataText[column] ?? "")
        }
    }

    /// Lowercase hex digit values; 0xff for every other byte.
    private static let hexValues: [UInt8] = (0..<256).map { c in
        switch c {
        case 0x30...0x39: return UInt8(c - 0x30)
        case 0x61...0x66: return UInt8(c - 0x61 + 10)
        default: return 0xff
        }
    }

    /// 64 lowercase hex digits as a hash.
    private static func hexHash(_ text: UnsafeRawBufferPointer) -> Hash? {
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

    // MARK: - Privilege log

    private static func checkPrivilegeLog(_ bytes: [UInt8], facts: [EntryFacts], into report: inout BundleReport) {
        if privilegeLogIsCanonical(bytes, facts: facts) { return }
        let rows: [CSVRow]
        do { rows = try CSVReader.readAll(bytes) } catch {
            report.fail("privilege-log", "privilege-log.csv is not valid CSV: \(error)")
            return
        }
        guard let header = rows.first, header.fields == BundleFormat.privilegeLogHeader else {
            report.fail("privilege-log", "the header must be \(BundleFormat.privilegeLogHeader.joined(separator: ","))")
            return
        }
        let body = rows.dropFirst()
        let expectedCount = facts.reduce(0) { $0 + ($1.seq == nil ? 0 : $1.redacted.count) }
        if body.count != expectedCount {
            report.fail("privilege-log", "\(body.count) rows for \(expectedCount) redacted fields")
        }
        // Rows pair with the redactions in entries.jsonl order, then leaf order (as zip() pairs them: up to the shorter).
        var next = body.startIndex
        for fact in facts where next < body.endIndex {
            guard let seq = fact.seq, !fact.redacted.isEmpty else { continue }
            let seqText = String(seq)
            for item in fact.redacted where next < body.endIndex {
                let row = body[next]
                next += 1
                let f = row.fields
                guard f.count == BundleFormat.privilegeLogHeader.count else {
                    report.fail("privilege-log", "row has \(f.count) columns", line: row.line)
                    continue
                }
                guard f[0] == seqText, f[6] == item.field, f[7] == item.reason else {
                    report.fail("privilege-log", "row names seq \(f[0]) field \(f[6]) (\(f[7])); the redactions say seq \(seq) field \(item.field) (\(item.reason))",
                                entry: seq, line: row.line)
                    continue
                }
                for (i, column) in BundleFormat.privilegeLogMetadata.enumerated()
                where i >= fact.columns.count || f[i + 1] != fact.columns[i] {
                    report.fail("privilege-log", "column \(column) does not match the entry's disclosure (or [redacted])", entry: seq, line: row.line)
                }
            }
        }
    }

    /// True when privilege-log.csv is, byte for byte, the exporter's rendering of the expected rows (header, then per
    /// redaction: seq, the five metadata cells, field, reason, any plain description, CRLF). Such a file is valid CSV
    /// that passes every row check, so the row-by-row parse below is needed only when this says false.
    private static func privilegeLogIsCanonical(_ bytes: [UInt8], facts: [EntryFacts]) -> Bool {
        bytes.withUnsafeBytes { text -> Bool in
            var at = 0
            func take(_ expected: [UInt8]) -> Bool {
                guard text.count - at >= expected.count,
                      expected.withUnsafeBytes({ memcmp($0.baseAddress!, text.baseAddress! + at, expected.count) == 0 }) else { return false }
                at += expected.count
                return true
            }
            /// An unquoted cell of printable ASCII without comma or quote, then CRLF.
            func plainCellAndLineEnd() -> Bool {
                while at < text.count, text[at] >= 0x20, text[at] < 0x7f, text[at] != 0x2c, text[at] != 0x22 { at += 1 }
                return take([0x0d, 0x0a])
            }
            guard take(Array((BundleFormat.privilegeLogHeader.joined(separator: ",") + "\r\n").utf8)) else { return false }
            var tails = [(field: String, reason: String, bytes: [UInt8])]()  // ",field,reason," per pair seen
            var head = [UInt8]()
            for fact in facts {
                guard let seq = fact.seq, !fact.redacted.isEmpty else { continue }
                guard fact.columns.count == BundleFormat.privilegeLogMetadata.count else { return false }
                head.removeAll(keepingCapacity: true)
                head.append(contentsOf: String(seq).utf8)
                for column in fact.columns {
                    head.append(0x2c)
                    head.append(contentsOf: CSVWriter.cell(column).utf8)
                }
                for item in fact.redacted {
                    var tail = tails.firstIndex { $0.field == item.field && $0.reason == item.reason }
                    if tail == nil {
                        tails.append((item.field, item.reason,
                                      Array(("," + CSVWriter.cell(item.field) + "," + CSVWriter.cell(item.reason) + ",").utf8)))
                        tail = tails.count - 1
                    }
                    guard take(head), take(tails[tail!].bytes), plainCellAndLineEnd() else { return false }
                }
            }
            return at == text.count
        }
    }

    // MARK: - Consistency

    private static func openNote(_ text: String, key: NoteVerifierKey?) throws -> (size: UInt64, root: Hash, origin: String) {
        let note = try SignedNoteText(parsing: text)
        if let key { try note.verify(with: key) }
        let body = try Checkpoint(body: note.text)
        guard let root = Hash(bytes: body.rootHash) else { throw BundleError.malformed("root is not 32 bytes") }
        if let key, body.origin != key.name { throw BundleError.malformed("origin \(body.origin) is not the key's name \(key.name)") }
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
    package func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
