import ArgumentParser
import Ledger

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the current tree head (C2SP tlog-checkpoint signed note), store it, and print it.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    func run() throws {
        print(try openUnlocked(location, keys).signCheckpoint(), terminator: "")
    }
}
