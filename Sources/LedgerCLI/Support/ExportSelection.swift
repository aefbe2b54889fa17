import ArgumentParser
import Ledger
import LedgerFormat

/// What `export` and `produce` select and withhold: the matters, the time range and the redaction profile with its
/// overrides (docs/EXPORT.md, "Profiles"). One set of flags, one reading of them.
struct ExportSelection: ParsableArguments {
    @Option(help: "A matter to select (repeat for several).")
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

    func validate() throws {
        if matter.isEmpty { throw ValidationError("name at least one --matter") }
        if profile != nil && profileFile != nil { throw ValidationError("give --profile or --profile-file, not both") }
    }

    /// The export options these flags give: the profile (built in or from a file), refused when it reveals content
    /// without the acknowledgement, with the overrides applied, and the time range.
    func exportOptions() throws -> ExportOptions {
        var chosen = try chosenProfile()
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

    private func chosenProfile() throws -> ExportProfile {
        if let profileFile { return try ExportProfile.load(file: profileFile) }
        let name = profile ?? "insurer"
        guard let builtIn = ExportProfile.builtIn[name] else {
            throw ExportError.invalidProfile("unknown profile '\(name)'; use insurer, metadata or full (or --profile-file)")
        }
        return builtIn
    }
}
