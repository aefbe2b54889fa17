import ArgumentParser
import Foundation
import Ledger
import RecordFormats

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one decrypted entry with its seq, recordedAt and leaf hash.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Argument(help: "The entry's sequence number.")
    var seq: UInt64

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        try Failure.run {
            let entry = try openUnlocked(location, keys).entry(seq)
            if json {
                print(EntryJSON.line(entry))
                return
            }
            var rows = [("seq", String(entry.seq)), ("recordedAt", Timestamp.formatRFC3339(micros: entry.recordedAt)),
                        ("leafHash", entry.leafHash.hex)]
            rows += entry.record.map { ($0.key, EntryJSON.display($0.value)) }
            let width = rows.map(\.0.count).max()! + 2
            for (name, value) in rows { print("\(name):".padding(toLength: width, withPad: " ", startingAt: 0) + value) }
        }
    }
}

/// JSON and table renderings of entries shared by list and show.
enum EntryJSON {
    static func line(_ entry: LedgerEntry) -> String {
        let object = JSONObject([
            ("seq", .integer(Int64(entry.seq))),
            ("recordedAt", .string(Timestamp.formatRFC3339(micros: entry.recordedAt))),
            ("leafHash", .string(entry.leafHash.hex)),
            ("record", .object(entry.record)),
        ])
        return JSONWriter.string(.object(object))
    }

    static func display(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        return JSONWriter.string(value)
    }

    static func tableRow(_ entry: LedgerEntry, truncate: Bool) -> [String] {
        func cell(_ name: String, _ width: Int = 40) -> String {
            let text = entry.record[name].map(display) ?? ""
            let flat = text.replacingOccurrences(of: "\n", with: " ")
            return truncate && flat.count > width ? String(flat.prefix(width - 1)) + "…" : flat
        }
        return [String(entry.seq), cell("occurredAt"), cell("matter", 20), cell("author", 20), cell("channel"),
                cell("direction"), cell("kind"), cell("subject", 50)]
    }
}
