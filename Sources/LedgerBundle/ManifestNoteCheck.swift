import LedgerFormat
import RecordFormats
import SignedNote

/// Bundle v2's manifest.note (docs/FORMAT.md, "Bundle v2"): signed by the verifier key, the v2 header, canonical JSON
/// of the known schema. Each failure is a `manifest` violation; checked once per bundle.
enum ManifestNoteCheck {
    /// Top-level members: each with the JSON type it must have. Every one is required.
    private static let schema: [(name: String, type: JSONType)] = [
        ("format", .string), ("formatVersion", .integer), ("origin", .string), ("tool", .string),
        ("createdAt", .string), ("checkpoint", .object), ("selection", .object), ("profile", .object),
        ("counts", .object), ("consistencyProof", .bool), ("digestEncoding", .string), ("files", .object),
    ]
    private static let profileSchema: [(name: String, type: JSONType)] = [
        ("name", .string), ("reveal", .array), ("redact", .object), ("defaultReason", .string),
        ("explicitReveal", .array), ("explicitRedact", .object), ("privilegedContentWithheld", .bool),
    ]
    private static let countNames: Set<String> = ["entries", "disclosedFields", "redactedFields", "privilegeLogRows",
                                                  "accessEntries", "retentionEvents", "destroyedEntries"]

    enum JSONType: String { case string, integer, bool, object, array }

    /// Every check of a v2 manifest: signature (when there is a key to check it with), header, canonical form, schema.
    static func check(_ manifest: Manifest, key: NoteVerifierKey?, into report: inout BundleReport) {
        guard let note = manifest.note else { return }
        checkSignature(note, key: key, into: &report)
        let lines = note.text.utf8.dropLast().split(separator: 0x0a, omittingEmptySubsequences: false)
        let header = String(decoding: lines[0], as: UTF8.self)
        if header != BundleFormat.manifestHeader {
            report.fail(.manifest, "manifest.note's header is not the bundle v2 manifest header",
                        expected: BundleFormat.manifestHeader, found: BundleReader.printable(header))
        }
        if !JSONWriter.serialize(.object(manifest.object)).elementsEqual(lines[1]) {
            report.fail(.manifest, "manifest.note's JSON is not canonical (keys sorted, no whitespace)")
        }
        checkSchema(manifest.object, into: &report)
    }

    /// The note carries a signature by the verifier key, and every such signature verifies over its text.
    private static func checkSignature(_ note: SignedNoteText, key: NoteVerifierKey?, into report: inout BundleReport) {
        guard let key else {
            report.fail(.manifest, "the signature cannot be checked: there is no verifier key")
            return
        }
        do {
            try note.verify(with: key)
        } catch NoteError.unknownKey {
            report.fail(.manifest, "the signature is not by the verifier key (\(BundleReader.printable(key.name)))")
        } catch {
            report.fail(.manifest, "the signature does not verify")
        }
    }

    /// Exactly the known members, each of its type; the profile's likewise; counts integers of known names.
    private static func checkSchema(_ object: JSONObject, into report: inout BundleReport) {
        checkMembers(object, schema, where: "the manifest", into: &report)
        if case .object(let profile)? = object["profile"] {
            checkMembers(profile, profileSchema, where: "the manifest's profile", into: &report)
        }
        if case .object(let counts)? = object["counts"] {
            for (name, value) in counts where !countNames.contains(name) || !has(value, .integer) {
                report.fail(.manifest, "the manifest's counts.\(BundleReader.printable(name)) is unknown or not an "
                            + "integer")
            }
        }
        if case .object(let selection)? = object["selection"] {
            let known: Set<String> = ["matters", "matterCount", "from", "to"]
            for name in selection.keys where !known.contains(name) {
                report.fail(.manifest, "the manifest's selection has an unknown member '\(BundleReader.printable(name))'")
            }
        }
    }

    /// `object` has exactly the members of `schema`, each of its type.
    private static func checkMembers(_ object: JSONObject, _ schema: [(name: String, type: JSONType)],
                                     where place: String, into report: inout BundleReport) {
        for (name, type) in schema {
            guard let value = object[name] else {
                report.fail(.manifest, "\(place) has no '\(name)'")
                continue
            }
            if !has(value, type) { report.fail(.manifest, "\(place)'s '\(name)' is not a JSON \(type.rawValue)") }
        }
        let known = Set(schema.map(\.name))
        for name in object.keys where !known.contains(name) {
            report.fail(.manifest, "\(place) has an unknown member '\(BundleReader.printable(name))'")
        }
    }

    private static func has(_ value: JSONValue, _ type: JSONType) -> Bool {
        switch (value, type) {
        case (.string, .string), (.integer, .integer), (.bool, .bool), (.object, .object), (.array, .array):
            return true
        default:
            return false
        }
    }
}
