import ArgumentParser
import Foundation
import Ledger
import LedgerFormat
import LedgerImport

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import records from JSON lines or CSV: validated first, batched, idempotent on sourceId.",
        discussion: """
            --from SYSTEM reads a practice-management export as that system writes it (clio, practicepanther, \
            mycase, actionstep) and maps it onto the record schema; docs/IMPORT.md lists every mapping. --mapping \
            MAP.json maps any other CSV or JSON-lines export as the mapping file says (docs/MAPPING.md). Times \
            without an offset, and date-only values, are read in --time-zone (UTC by default).
            """)

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
        if source != nil && mapping != nil { throw ValidationError("--from and --mapping cannot be used together") }
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
            } else if let source {
                summary = try ledger.importRecords(from: file, adapter: try self.adapter(source), options: options)
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

extension PracticeSystem: ExpressibleByArgument {}
