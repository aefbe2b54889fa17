import ArgumentParser
import Foundation
import Ledger
import LedgerFormat
import RecordFormats

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List decrypted entries, filtered by matter and occurredAt.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var reason: ReadReason

    @Option(help: "Only this matter.")
    var matter: String?

    @OptionGroup var period: TimeRange

    @Flag(help: "One JSON object per line.")
    var json = false

    func run() throws {
        let filter = try period.filter(matter: matter)
        let ledger = try openUnlocked(location, keys)
        try reason.record(ledger, command: "list", matters: matter.map { [$0] } ?? [])
        var rows = [[String]]()
        try ledger.entries(matching: filter) { entry in
            if json {
                print(EntryJSON.line(entry))
            } else {
                rows.append(EntryJSON.tableRow(entry, truncate: Terminal.stdoutIsTTY))
            }
        }
        if !json {
            Terminal.table(header: ["SEQ", "OCCURRED", "MATTER", "AUTHOR", "CHANNEL", "DIRECTION", "KIND", "SUBJECT"],
                           rows: rows)
        }
    }
}

/// `--from` / `--to` on occurredAt, shared by list, report and export.
struct TimeRange: ParsableArguments {
    @Option(help: ArgumentHelp("Only entries that occurred at or after this RFC 3339 time or date.", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("Only entries that occurred at or before this RFC 3339 time or date.",
                               valueName: "time"))
    var to: String?

    /// The bounds in microseconds (a bare date covers its whole UTC day).
    func bounds() throws -> (from: Int64?, to: Int64?) {
        (try TimeArgument.parse(from, endOfDay: false, option: "--from"),
         try TimeArgument.parse(to, endOfDay: true, option: "--to"))
    }

    func filter(matter: String?) throws -> EntryFilter {
        let (from, to) = try bounds()
        return EntryFilter(matter: matter, from: from, to: to)
    }
}

/// Time arguments: RFC 3339 with offset, or a bare date (start or end of that UTC day).
enum TimeArgument {
    static func parse(_ text: String?, endOfDay: Bool, option: String) throws -> Int64? {
        guard let text else { return nil }
        if let t = Timestamp.parseRFC3339(text) { return t }
        if let days = Timestamp.parseDate(text) { return days * 86_400_000_000 + (endOfDay ? 86_399_999_999 : 0) }
        throw ValidationError("\(option) must be an RFC 3339 time with offset or a date YYYY-MM-DD")
    }
}
