import ArgumentParser
import Foundation
import Ledger
import LedgerFormat

/// `ledger produce`: an e-discovery production (Concordance DAT load file, text, privilege log, export bundle).
struct Produce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce a matter's records for e-discovery: a Concordance DAT load file, text files, a privilege "
            + "log and the export bundle that proves them.",
        discussion: """
        Selection and redaction are exactly the export's (--matter, --from/--to, --profile, --reveal, --redact): \
        a withheld field is an empty cell, and a record whose content is withheld is in privilege-log.csv. DIR must \
        not exist or be empty. The load file is UTF-8 with BOM, fields in þ separated by ASCII 20, CRLF. \
        See docs/PRODUCE.md.
        """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var reason: ReadReason
    @OptionGroup var selection: ExportSelection

    @Option(help: ArgumentHelp("Load-file format: dat (Concordance).", valueName: "format"))
    var format: String = "dat"

    @Option(help: ArgumentHelp("BEGDOC prefix (1-32 of A-Z a-z 0-9 - _).", valueName: "prefix"))
    var prefix: String = "PROD"

    @Option(help: ArgumentHelp("The first BEGDOC number.", valueName: "n"))
    var start: Int = 1

    @Option(help: ArgumentHelp("CUSTODIAN of every record (default: the record's author).", valueName: "name"))
    var custodian: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Output directory (must not exist or be empty).", valueName: "dir"))
    var output: String

    func validate() throws {
        if ProductionOptions.Format(rawValue: format) == nil { throw ValidationError("--format must be dat") }
    }

    func run() throws {
        var options = ProductionOptions(export: try selection.exportOptions())
        options.prefix = prefix
        options.start = start
        options.custodian = custodian
        try options.validate()
        let ledger = try openUnlocked(location, keys)
        try refuseUsedOutput()
        try ledger.checkCanExport()
        // The read is recorded before anything is written.
        try reason.record(ledger, command: "produce", matters: selection.matter)
        let summary = try ledger.produce(options, to: output)
        Terminal.note("wrote \(summary.directory): \(summary.records) records \(summary.firstBates)-\(summary.lastBates), "
                      + "\(summary.withheldRecords) in the privilege log; bundle \(summary.bundle.path), "
                      + "checkpoint size \(summary.bundle.treeSize), root \(summary.bundle.root)")
    }

    /// A file, or a directory with anything in it, is refused (73) before the read is recorded.
    private func refuseUsedOutput() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) else { return }
        let empty = isDirectory.boolValue && (try? FileManager.default.contentsOfDirectory(atPath: output))?.isEmpty == true
        if !empty { throw ExportError.outputExists(output) }
    }
}
