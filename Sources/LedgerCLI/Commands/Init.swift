import ArgumentParser
import Foundation
import Ledger
import Sodium

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a ledger: storage, ledger id, master key, signing key; print the verifier key.")

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("Log name in every checkpoint and the verifier key's name, "
                               + "e.g. example-firm.com/client-ledger.", valueName: "name"))
    var origin: String

    @Option(name: .long, help: ArgumentHelp("Where to create the new master key file (mode 0600), or LEDGER_KEY_FILE.",
                                            valueName: "path"))
    var keyFile: String?

    @Flag(help: "Derive the master key from a passphrase (Argon2id) instead of a key file.")
    var passphrase = false

    @Flag(help: "Allow the key file inside the ledger directory (not recommended: keep keys apart from data).")
    var allowKeyInside = false

    /// An older storage format (docs/FORMAT.md, "Storage"), for a ledger an older build must read, and for tests.
    @Option(help: .hidden)
    var storageFormat: UInt32?

    func run() throws {
        let directory = try location.directory()
        let masterKey: NewMasterKey
        if passphrase {
            guard keyFile == nil else { throw ValidationError("use either --key-file or --passphrase, not both") }
            masterKey = .passphrase(try Passphrase.read(prompt: "New ledger passphrase: ", confirm: true), .moderate())
        } else {
            guard let path = keyFile ?? Environment.value("LEDGER_KEY_FILE") else {
                throw ValidationError("pass --key-file PATH (a new file for the master key) or --passphrase")
            }
            masterKey = .keyFile(path: path, allowInsideLedger: allowKeyInside)
        }
        let ledger = try storageFormat.map {
            try Ledger.create(at: directory, origin: origin, masterKey: masterKey, storageFormat: $0)
        } ?? Ledger.create(at: directory, origin: origin, masterKey: masterKey)
        print(ledger.storedVerifierKey)
        Terminal.note("created ledger \(directory); "
                      + "verifier key written to \(directory)/\(Ledger.verifierKeyFileName). "
                      + "Keep a copy of it, and of the master key, off this machine.")
    }
}
