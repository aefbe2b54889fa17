import ArgumentParser
import Foundation
import Ledger
import LedgerFormat

/// `ledger produce`: an e-discovery production (Concordance DAT load file, text, privilege log, export bundle).
struct Produce: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    @Option(help: "A matter to produce (repeat for several).")
    var matter: [String] = []

    @OptionGroup var period: TimeRange

    @Option(help: ArgumentHelp("Redaction profile: insurer, metadata or full.", valueName: "name"))
    var profile: String?

    @Option(help: ArgumentHelp("A JSON profile {name, reveal, redact, defaultReason} instead of --profile.",
                               valueName: "file"))
    var profileFile: String?

    @Option(help: ArgumentHelp("Reveal this field, even in privileged entries (repeatable).", valueName: "field"))
    var reveal: [String] = []

    @Option(help: ArgumentHelp("Redact this field, with an optional reason (repeatable).", valueName: "field[:reason]"))
    var redact: [String] = []

    @Flag(name: .customLong("i-understand-this-reveals-privileged-content"),
          help: "Required for --profile full or a profile file that reveals content fields.")
    var acknowledgePrivileged = false

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
        if matter.isEmpty { throw ValidationError("name at least one --matter") }
        if profile != nil && profileFile != nil { throw ValidationError("give --profile or --profile-file, not both") }
        if ProductionOptions.Format(rawValue: format) == nil { throw ValidationError("--format must be dat") }
    }

    func run() throws {
        var options = ProductionOptions(export: try exportOptions())
        options.prefix = prefix
        options.start = start
        options.custodian = custodian
        try options.validate()
        let ledger = try openUnlocked(location, keys)
        try refuseUsedOutput()
        try ledger.checkCanExport()
        // The read is recorded before anything is written.
        try reason.record(ledger, command: "produce", matters: matter)
        let summary = try ledger.produce(options, to: output)
        Terminal.note("wrote \(summary.directory): \(summary.records) records \(summary.firstBates)-\(summary.lastBates), "
                      + "\(summary.withheldRecords) in the privilege log; bundle \(summary.bundle.path), "
                      + "checkpoint size \(summary.bundle.treeSize), root \(summary.bundle.root)")
    }

    /// The export's options from the shared flags (profile, acknowledgement, overrides, time range).
    private func exportOptions() throws -> ExportOptions {
        var chosen: ExportProfile
        if let profileFile {
            chosen = try ExportProfile.load(file: profileFile)
        } else {
            let name = profile ?? "insurer"
            guard let builtIn = ExportProfile.builtIn[name] else {
                throw ExportError.invalidProfile("unknown profile '\(name)'; "
                                                 + "use insurer, metadata or full (or --profile-file)")
            }
            chosen = builtIn
        }
        if chosen.revealsContent && !acknowledgePrivileged {
            throw ExportError.acknowledgementRequired(
                "profile '\(chosen.name)' reveals privileged content (client, subject, summary, …); "
                + "pass --i-understand-this-reveals-privileged-content if that is intended")
        }
        try chosen.applyOverrides(reveal: reveal, redact: redact)
        var options = ExportOptions(matters: matter, profile: chosen, tool: "ledger \(LedgerVersion.string)")
        (options.from, options.to) = try period.bounds()
        return options
    }

    /// A file, or a directory with anything in it, is refused (73) before the read is recorded.
    private func refuseUsedOutput() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) else { return }
        let empty = isDirectory.boolValue && (try? FileManager.default.contentsOfDirectory(atPath: output))?.isEmpty == true
        if !empty { throw ExportError.outputExists(output) }
    }
}
