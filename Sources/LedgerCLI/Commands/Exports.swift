import ArgumentParser
import Foundation
import Ledger
import LedgerFormat
import RecordFormats

struct Exports: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exports",
        abstract: "What went to whom: every recorded export (master key).",
        discussion: """
        Each `ledger export` appends an entry after writing its bundle: who exported, the matters, the SHA-256 of \
        the bundle's manifest (compare it with the manifest of a bundle you hold), the recipient's key fingerprint \
        when the bundle was sealed, the entry count and the checkpoint size. See docs/EXPORT.md.
        """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Option(help: "Only exports of this matter.")
    var matter: String?

    @Flag(help: "One JSON object per line.")
    var json = false

    func run() throws {
        let ledger = try openUnlocked(location, keys)
        let entries = try ledger.exportLog(matter: matter)
        if json {
            for entry in entries { print(JSONWriter.string(Self.json(entry))) }
            return
        }
        print(["SEQ", "AT", "WHO", "MATTERS", "ENTRIES", "PROFILE", "RECIPIENT", "MANIFEST"].joined(separator: "  "))
        for entry in entries {
            let e = entry.export
            print([String(entry.seq), Timestamp.formatRFC3339(micros: entry.recordedAt), e.credential,
                   entry.matterNames.joined(separator: ","), String(e.entries), e.profile,
                   e.recipient.map { String($0.prefix(16)) } ?? "(in clear)", String(e.manifest.prefix(16))]
                .map { EntryJSON.display(.string($0)) }.joined(separator: "  "))
        }
    }

    static func json(_ entry: ExportLogEntry) -> JSONValue {
        let e = entry.export
        var members: [(String, JSONValue)] = [
            ("seq", .integer(Int64(entry.seq))), ("at", .string(Timestamp.formatRFC3339(micros: entry.recordedAt))),
            ("credential", .string(e.credential)), ("matters", .array(entry.matterNames.map { .string($0) })),
            ("manifestSHA256", .string(e.manifest)), ("entries", .integer(Int64(e.entries))),
            ("treeSize", .integer(Int64(e.treeSize))), ("profile", .string(e.profile)),
        ]
        members.append(("recipient", e.recipient.map { .string($0) } ?? .null))
        return .object(JSONObject(members))
    }
}
