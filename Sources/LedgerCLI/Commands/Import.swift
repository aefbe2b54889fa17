import ArgumentParser
import Foundation
import Ledger
import LedgerFormat
import LedgerImport

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import records from JSON lines or CSV: validated first, batched, idempotent on sourceId.",
        discussion: """
            --from SYSTEM reads a practice-management export as that system writes it (clio, practicepanther, \
            mycase, actionstep) and maps it onto the record schema; docs/IMPORT.md lists every mapping. Times \
            without an offset, and date-only values, are read in --time-zone (UTC by default).
            """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Argument(help: ArgumentHelp("Input file: .jsonl (one JSON record per line) "
                                 + "or .csv (header row of field names); - for standard input.", valueName: "file"))
    var file: String

    @Option(help: "Input format; by default guessed from the file name.")
    var format: ImportFormat?

    @Option(name: .customLong("from"), help: "Read a practice-management system's export (docs/IMPORT.md).")
    var source: PracticeSystem?

    @Option(name: .customLong("time-zone"),
            help: "IANA time zone for --from times without an offset and date-only values (default UTC).")
    var timeZone: String?

    @Flag(help: "Import the valid records and list the rejected ones, instead of refusing the whole file.")
    var skipInvalid = false

    @Option(help: "Records per durable transaction.")
    var batchSize = 8192

    func validate() throws {
        if source != nil && format != nil { throw ValidationError("--from and --format cannot be used together") }
        if timeZone != nil && source == nil { throw ValidationError("--time-zone applies only with --from") }
    }

    /// The adapter of `--from`, reading offset-less times in `--time-zone`.
    func adapter(_ system: PracticeSystem) throws -> any RecordAdapter {
        guard let zone = TimeZone(identifier: timeZone ?? "UTC") else {
            throw ValidationError("--time-zone: not an IANA time zone (e.g. America/New_York)")
        }
        return system.adapter(timeZone: zone)
    }

    func run() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        let ledger = try openUnlocked(location, keys)
        let options = ImportOptions(skipInvalid: skipInvalid, batchSize: batchSize) { done, total in
            Terminal.progress(done, total)
        }
        let summary: ImportSummary
        do {
            if let source {
                summary = try ledger.importRecords(from: file, adapter: try adapter(source), options: options)
            } else {
                summary = try ledger.importRecords(from: file, format: format, options: options)
            }
        } catch LedgerError.invalidRecords(let errors) {
            for error in errors { Terminal.note("rejected: \(error)") }
            Terminal.note("imported 0, skipped 0 duplicates, rejected \(errors.count)")
            throw LedgerError.invalidRecords(
                [RecordError(reason: "nothing was imported; fix the lines above or pass --skip-invalid")])
        }
        for error in summary.rejected { Terminal.note("rejected: \(error)") }
        print(summary.line)
        if summary.imported == 0 && summary.duplicates > 0 {
            Terminal.note("nothing new: every record was already in the ledger")
        }
    }
}

extension ImportFormat: ExpressibleByArgument {}

extension PracticeSystem: ExpressibleByArgument {}
