import ArgumentParser
import Foundation
import Ledger
import LedgerFormat

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import records from JSON lines or CSV: validated first, batched, idempotent on sourceId.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Argument(help: ArgumentHelp("Input file: .jsonl (one JSON record per line) "
                                 + "or .csv (header row of field names); - for standard input.", valueName: "file"))
    var file: String

    @Option(help: "Input format; by default guessed from the file name.")
    var format: ImportFormat?

    @Flag(help: "Import the valid records and list the rejected ones, instead of refusing the whole file.")
    var skipInvalid = false

    @Option(help: "Records per durable transaction.")
    var batchSize = 8192

    func run() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        let ledger = try openUnlocked(location, keys)
        let options = ImportOptions(skipInvalid: skipInvalid, batchSize: batchSize) { done, total in
            Terminal.progress(done, total)
        }
        let summary: ImportSummary
        do {
            summary = try ledger.importRecords(from: file, format: format, options: options)
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
