import ArgumentParser
import Foundation
import Ledger
import LedgerFormat
import RecordFormats

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one decrypted entry with its seq, recordedAt and leaf hash.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var reason: ReadReason

    @Argument(help: "The entry's sequence number.")
    var seq: UInt64

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let ledger = try openUnlocked(location, keys)
        try reason.record(ledger, command: "show", seq: seq)
        let entry = try ledger.entry(seq)
        if json {
            print(EntryJSON.line(entry))
            return
        }
        var rows = [("seq", String(entry.seq)), ("recordedAt", Timestamp.formatRFC3339(micros: entry.recordedAt)),
                    ("leafHash", entry.leafHash.hex)]
        rows += entry.record.map { ($0.key, EntryJSON.display($0.value)) }
        if let destroyed = entry.destruction { rows.append(("contents", EntryJSON.destroyedText(destroyed))) }
        let width = rows.map(\.0.count).max()! + 2
        for (name, value) in rows { print("\(name):".padding(toLength: width, withPad: " ", startingAt: 0) + value) }
    }
}

/// JSON and table renderings of entries shared by list and show.
enum EntryJSON {
    static func line(_ entry: LedgerEntry) -> String {
        let object = JSONObject([
            ("seq", .integer(Int64(entry.seq))),
            ("recordedAt", .string(Timestamp.formatRFC3339(micros: entry.recordedAt))),
            ("leafHash", .string(entry.leafHash.hex)),
            entry.destruction.map { ("destroyed", destroyedJSON($0)) } ?? ("record", .object(entry.record)),
        ])
        return JSONWriter.string(.object(object))
    }

    /// "destroyed on DATE by WHO (entry #N): REASON" — a shredded entry's only contents.
    static func destroyedText(_ d: DestroyedMatterRecord) -> String {
        display(.string("destroyed on \(Timestamp.formatRFC3339(micros: d.destroyedAt)) by \(d.destruction.by) "
                        + "(entry #\(d.seq)): \(d.destruction.reason)"))
    }

    static func destroyedJSON(_ d: DestroyedMatterRecord) -> JSONValue {
        .object(JSONObject([("at", .string(Timestamp.formatRFC3339(micros: d.destroyedAt))), ("by", .string(d.destruction.by)),
                            ("entry", .integer(Int64(d.seq))), ("reason", .string(d.destruction.reason))]))
    }

    /// A value as text for a terminal: strings as they are, except control characters other than newline and
    /// tab, which are shown as \u{…} so that stored text can never drive the terminal (escape sequences).
    static func display(_ value: JSONValue) -> String {
        guard case .string(let s) = value else { return JSONWriter.string(value) }
        guard s.unicodeScalars.contains(where: isUnsafeControl) else { return s }
        return s.unicodeScalars.map { isUnsafeControl($0) ? "\\u{\(String($0.value, radix: 16))}" : String($0) }
            .joined()
    }

    private static func isUnsafeControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7f...0x9f).contains(scalar.value)
    }

    static func tableRow(_ entry: LedgerEntry, truncate: Bool) -> [String] {
        func cell(_ name: String, _ width: Int = 40) -> String {
            let text = entry.record[name].map(display) ?? ""
            let flat = text.replacingOccurrences(of: "\n", with: " ")
            return truncate && flat.count > width ? String(flat.prefix(width - 1)) + "…" : flat
        }
        if let destroyed = entry.destruction {
            let text = destroyedText(destroyed)
            return [String(entry.seq), "", "", "", "", "", "",
                    truncate && text.count > 50 ? String(text.prefix(49)) + "…" : text]
        }
        return [String(entry.seq), cell("occurredAt"), cell("matter", 20), cell("author", 20), cell("channel"),
                cell("direction"), cell("kind"), cell("subject", 50)]
    }
}
