import ArgumentParser
import Foundation
import Ledger
import LedgerReport

struct Retention: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Retention periods, legal holds and what is due for destruction (master key).",
        subcommands: [RetentionStatusCommand.self])
}

struct RetentionStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Each matter: closed at, retain until, holds, eligible for destruction, destroyed.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var retention: RetentionPolicyOption

    @Option(help: ArgumentHelp("Evaluate as of this RFC 3339 time or date (end of that day); default now.",
                               valueName: "time"))
    var asOf: String?

    @Flag(help: "One JSON object per matter and line.")
    var json = false

    @Flag(help: "Exit 1 when a matter is eligible for destruction (after printing).")
    var failOnEligible = false

    func run() throws {
        let policy = try retention.load()
        let now = try TimeArgument.parse(asOf, endOfDay: true, option: "--as-of")
            ?? Int64(Date().timeIntervalSince1970 * 1_000_000)
        let ledger = try Ledger.open(at: location.directory())
        _ = try unlockMaster(ledger, keys)
        let rows = try ledger.retentionFacts(policy: policy).map {
            RetentionStatus.evaluate($0, policy: policy, now: now)
        }
        let text = json ? RetentionStatusRendering.jsonLines(rows) : RetentionStatusRendering.text(rows)
        FileHandle.standardOutput.write(Data(text.utf8))
        if failOnEligible && rows.contains(where: \.eligible) { throw ExitCode(1) }
    }
}
