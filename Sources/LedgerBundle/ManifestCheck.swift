import LedgerFormat
import RecordFormats
import SignedNote

/// The bundle's manifest: manifest.json (bundle v1, unsigned) or manifest.note (bundle v2, signed by the firm), the
/// one file that cannot hash itself; its claims checked against the other files.
struct Manifest {
    /// The manifest's JSON object.
    let object: JSONObject
    /// 1 or 2: which manifest file the bundle has.
    let formatVersion: Int
    /// Bundle v2: manifest.note as parsed (its signature not yet checked).
    let note: SignedNoteText?
    /// The file holding it: manifest.json or manifest.note.
    var fileName: String { note == nil ? BundleFormat.manifest : BundleFormat.manifestNote }
}

enum ManifestCheck {
    /// The bundle's one manifest: manifest.note (v2) or manifest.json (v1), never both or neither. Throws
    /// `BundleError.malformed` when the bundle cannot be read as either version.
    static func load(_ files: [String: [UInt8]]) throws -> Manifest {
        switch (files[BundleFormat.manifest], files[BundleFormat.manifestNote]) {
        case (nil, nil):
            throw BundleError.malformed("missing file '\(BundleFormat.manifestNote)' (or '\(BundleFormat.manifest)')")
        case (_?, _?):
            throw BundleError.malformed("both \(BundleFormat.manifest) and \(BundleFormat.manifestNote): a bundle has one")
        case (let json?, nil):
            return Manifest(object: try parse(json, version: BundleFormat.formatVersion1, file: BundleFormat.manifest),
                            formatVersion: BundleFormat.formatVersion1, note: nil)
        case (nil, let note?):
            return try loadNote(note)
        }
    }

    /// manifest.note: a signed note whose text is two lines, a header and a JSON object declaring version 2.
    private static func loadNote(_ bytes: [UInt8]) throws -> Manifest {
        let file = BundleFormat.manifestNote
        let note: SignedNoteText
        do { note = try SignedNoteText(parsing: bytes) } catch {
            throw BundleError.malformed("\(file) is not a signed note (\(error))")
        }
        let lines = note.text.utf8.dropLast().split(separator: 0x0a, omittingEmptySubsequences: false)
        guard lines.count == 2 else { throw BundleError.malformed("\(file)'s text is not a header line and a JSON line") }
        let object = try parse(Array(lines[1]), version: BundleFormat.formatVersion, file: file)
        return Manifest(object: object, formatVersion: BundleFormat.formatVersion, note: note)
    }

    /// The manifest as a JSON object declaring this format and `version`; anything else is not a bundle.
    private static func parse(_ bytes: [UInt8], version: Int, file: String) throws -> JSONObject {
        guard case .object(let manifest)? = try? JSONParser.parse(bytes) else {
            throw BundleError.malformed("\(file) is not a JSON object")
        }
        guard manifest["formatVersion"]?.integerValue == Int64(version),
              manifest["format"]?.stringValue == BundleFormat.formatName else {
            throw BundleError.malformed("\(file) does not declare \(BundleFormat.formatName) version \(version)")
        }
        return manifest
    }

    /// Every other file is listed with its SHA-256, and every listed file is in the bundle.
    static func checkDigests(_ manifest: Manifest, files: [String: BundleReader.DigestedFile],
                             into report: inout BundleReport) {
        guard case .object(let listed)? = manifest.object["files"] else {
            report.fail(.manifest, "the manifest has no 'files' object")
            return
        }
        let signed = manifest.note != nil
        for (name, file) in files.sorted(by: { $0.key < $1.key }) where name != manifest.fileName {
            guard let expected = listed[name]?.stringValue else {
                report.fail(.manifest, "\(name) is not listed in the \(signed ? "signed " : "")manifest")
                continue
            }
            let actual = file.sha256.hex
            if expected != actual {
                report.fail(.manifest, signed ? "\(name) does not match the signed manifest's digest"
                                              : "SHA-256 of \(name) is \(actual), the manifest says \(expected)",
                            expected: expected, found: actual)
            }
        }
        for name in listed.keys where files[name] == nil || name == manifest.fileName {
            report.fail(.manifest, "the manifest lists \(name), which is not in the bundle")
        }
    }

    /// The manifest's origin and checkpoint size and root are checkpoint.txt's.
    static func checkCheckpoint(_ manifest: JSONObject, checkpoint: Checkpoint, into report: inout BundleReport) {
        if manifest["origin"]?.stringValue != checkpoint.origin {
            report.fail(.manifest, "the manifest's origin differs from the checkpoint's",
                        expected: shown(manifest["origin"]), found: checkpoint.origin)
        }
        if case .object(let m)? = manifest["checkpoint"],
           m["size"]?.integerValue != Int64(checkpoint.size) || m["root"]?.stringValue != report.root {
            report.fail(.manifest, "the manifest's checkpoint size or root differs from checkpoint.txt",
                        expected: "size \(shown(m["size"])), root \(shown(m["root"]))",
                        found: "size \(checkpoint.size), root \(report.root)")
        }
    }

    /// The manifest's counts are those of entries.jsonl (already tallied in `report`).
    static func checkCounts(_ manifest: JSONObject, into report: inout BundleReport) {
        guard case .object(let counts)? = manifest["counts"] else {
            report.fail(.manifest, "the manifest has no 'counts' object")
            return
        }
        let tallies = [("entries", report.entries), ("redactedFields", report.redactions),
                       ("disclosedFields", report.disclosures)]
        for (name, count) in tallies where counts[name]?.integerValue != Int64(count) {
            report.fail(.manifest, "counts.\(name) differs from entries.jsonl (\(count))",
                        expected: shown(counts[name]), found: String(count))
        }
    }

    /// counts.accessEntries is there exactly when access-log.jsonl is, and equals its line count.
    static func checkAccessCount(_ manifest: JSONObject, into report: inout BundleReport) {
        guard case .object(let counts)? = manifest["counts"] else { return }  // reported by checkCounts
        let declared = counts["accessEntries"]
        guard declared != nil || report.accessEntries != nil else { return }
        if declared?.integerValue != report.accessEntries.map(Int64.init) {
            report.fail(.manifest, "counts.accessEntries differs from access-log.jsonl",
                        expected: shown(declared), found: report.accessEntries.map(String.init) ?? "none")
        }
    }

    /// counts.retentionEvents and counts.destroyedEntries are there exactly when retention.jsonl is, and equal its
    /// event and record line counts.
    static func checkRetentionCounts(_ manifest: JSONObject, into report: inout BundleReport) {
        guard case .object(let counts)? = manifest["counts"] else { return }  // reported by checkCounts
        for (name, count) in [("retentionEvents", report.retentionEvents),
                              ("destroyedEntries", report.destroyedEntries)] {
            let declared = counts[name]
            guard declared != nil || count != nil else { continue }
            if declared?.integerValue != count.map(Int64.init) {
                report.fail(.manifest, "counts.\(name) differs from retention.jsonl",
                            expected: shown(declared), found: count.map(String.init) ?? "none")
            }
        }
    }

    /// A manifest value as the report shows it: a string as itself, anything else as JSON, "none" when absent.
    private static func shown(_ value: JSONValue?) -> String {
        guard let value else { return "none" }
        return value.stringValue ?? JSONWriter.string(value)
    }

    /// A consistency proof the manifest announces is in the bundle.
    static func checkAnnouncedProof(_ manifest: JSONObject, present: Bool, into report: inout BundleReport) {
        if manifest["consistencyProof"]?.boolValue == true, !present {
            report.fail(.manifest, "the manifest announces a consistency proof that is not in the bundle")
        }
    }
}
