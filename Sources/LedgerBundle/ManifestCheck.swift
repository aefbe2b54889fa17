import LedgerFormat
import RecordFormats
import SignedNote

/// manifest.json, the one file that cannot hash itself: its claims checked against the other files.
enum ManifestCheck {
    /// The manifest as a JSON object declaring this format and version; anything else is not a bundle.
    static func parse(_ bytes: [UInt8]?) throws -> JSONObject {
        guard let bytes, case .object(let manifest)? = try? JSONParser.parse(bytes) else {
            throw BundleError.malformed("manifest.json is not a JSON object")
        }
        guard manifest["formatVersion"]?.integerValue == Int64(BundleFormat.formatVersion),
              manifest["format"]?.stringValue == BundleFormat.formatName else {
            throw BundleError.malformed(
                "manifest.json does not declare \(BundleFormat.formatName) version \(BundleFormat.formatVersion)")
        }
        return manifest
    }

    /// Every other file is listed with its SHA-256, and every listed file is in the bundle.
    static func checkDigests(_ manifest: JSONObject, files: [String: BundleReader.DigestedFile],
                             into report: inout BundleReport) {
        guard case .object(let listed)? = manifest["files"] else {
            report.fail(.manifest, "the manifest has no 'files' object")
            return
        }
        for (name, file) in files.sorted(by: { $0.key < $1.key }) where name != BundleFormat.manifest {
            guard let expected = listed[name]?.stringValue else {
                report.fail(.manifest, "\(name) is not listed in the manifest")
                continue
            }
            let actual = file.sha256.hex
            if expected != actual {
                report.fail(.manifest, "SHA-256 of \(name) is \(actual), the manifest says \(expected)",
                            expected: expected, found: actual)
            }
        }
        for name in listed.keys where files[name] == nil || name == BundleFormat.manifest {
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
