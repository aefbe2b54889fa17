import ArgumentParser
import Ledger

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the current tree head (C2SP tlog-checkpoint signed note), store it, and print it.",
        discussion: "With --witness, also ask every witness of the policy to cosign it (c2sp.org/tlog-witness) and "
            + "store their cosignatures. Exit 0 when the policy's quorum is met; 1 when a witness refused the "
            + "checkpoint (a fork or a rollback, recorded for `verify --policy`); 69 when the quorum is not met "
            + "otherwise (witnesses down or misconfigured).")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var witnessing: WitnessingOptions

    func run() throws {
        let ledger = try openUnlocked(location, keys)
        guard witnessing.witness else {
            print(try ledger.signCheckpoint(), terminator: "")
            return
        }
        try CheckpointWitnessing(ledger: ledger, options: witnessing).run()
    }
}
