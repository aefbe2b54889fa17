import ArgumentParser
import Foundation
import Ledger
import LedgerFormat
import LedgerImport

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

    @Option(help: ArgumentHelp("A mapping file (docs/MAPPING.md) that maps another system's CSV or JSON-lines "
                               + "export onto the record schema.", valueName: "map.json"))
    var mapping: String?

    @Flag(help: "Import the valid records and list the rejected ones, instead of refusing the whole file.")
    var skipInvalid = false

    @Option(help: "Records per durable transaction.")
    var batchSize = 8192

    func run() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard mapping == nil || format == nil else { throw ValidationError("--mapping and --format exclude each other") }
        let adapter = try mapping.map(Self.mappingAdapter)
        let ledger = try openUnlocked(location, keys)
        let options = ImportOptions(skipInvalid: skipInvalid, batchSize: batchSize) { done, total in
            Terminal.progress(done, total)
        }
        let summary: ImportSummary
        do {
            if let adapter {
                summary = try ledger.importRecords(from: file, adapter: adapter, options: options)
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

extension Import {
    /// The adapter of `--mapping`: a missing file exits 66, a bad one 64 naming the key path at fault.
    static func mappingAdapter(_ path: String) throws -> MappingAdapter {
        guard FileManager.default.fileExists(atPath: path) else { throw LedgerError.inputNotFound(path: path) }
        // Read at most one byte more than a mapping file may hold: a huge file (or a device) is refused, not slurped.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LedgerError.io(path: path, detail: "cannot read the mapping file")
        }
        defer { try? handle.close() }
        let data = handle.readData(ofLength: MappingFile.maxBytes + 1)
        do {
            return try MappingAdapter(mapping: [UInt8](data))
        } catch {
            throw LedgerError.invalidArgument("--mapping \(path): \(error)")
        }
    }
}

extension ImportFormat: ExpressibleByArgument {}
