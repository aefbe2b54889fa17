import ArgumentParser
import Foundation
import Ledger

struct Hold: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place a legal hold on a matter, or release one (master key).",
        discussion: """
        A hold is an entry (who, when, why). While any hold on a matter is in force, `ledger shred` refuses it, \
        whatever flags are given. A matter can carry several holds; `--release` ends the one named by --hold SEQ (the \
        seq printed when it was placed), or the only one in force. See docs/RETENTION.md.
        """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var actor: RetentionActor

    @Option(help: "The matter number.")
    var matter: String

    @Flag(help: "Release a hold instead of placing one.")
    var release = false

    @Option(help: ArgumentHelp("With --release: the seq of the hold entry to end.", valueName: "seq"))
    var hold: UInt64?

    func run() throws {
        if hold != nil && !release { throw ValidationError("--hold names the hold to release: use it with --release") }
        let ledger = try Ledger.open(at: location.directory())
        _ = try unlockMaster(ledger, keys)
        if release {
            let seq = try ledger.releaseHold(matter: matter, hold: hold, reason: actor.reason, by: actor.actor)
            print(seq)
            Terminal.note("released the hold on matter \(matter) (entry \(seq))")
        } else {
            let seq = try ledger.placeHold(matter: matter, reason: actor.reason, by: actor.actor)
            print(seq)
            Terminal.note("placed a legal hold on matter \(matter) (entry \(seq)); release it with "
                          + "`ledger hold --release --matter \(matter) --hold \(seq) --reason …`")
        }
    }
}
