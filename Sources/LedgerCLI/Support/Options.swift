import ArgumentParser
import Foundation
import Ledger
import Sodium

/// Where the ledger is: --ledger or LEDGER_DIR.
struct LedgerLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Ledger directory (or LEDGER_DIR).", valueName: "dir"))
    var ledger: String?

    func directory() throws -> String {
        guard let dir = ledger ?? Environment.value("LEDGER_DIR"), !dir.isEmpty else {
            throw ValidationError("no ledger given: pass --ledger DIR or set LEDGER_DIR")
        }
        return dir
    }
}

/// How to unlock the ledger: --key-file / LEDGER_KEY_FILE, or a passphrase (prompt or LEDGER_PASSPHRASE_FILE).
struct KeyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Master key file, mode 0600 (or LEDGER_KEY_FILE).", valueName: "path"))
    var keyFile: String?

    @Flag(name: .long, help: "Unlock with a passphrase, read from LEDGER_PASSPHRASE_FILE or a prompt without echo.")
    var passphrase = false

    /// The key source for an existing ledger, following its key mode.
    func source(for ledger: Ledger) throws -> KeySource {
        if let path = keyFile ?? Environment.value("LEDGER_KEY_FILE"), !passphrase, ledger.keyMode == "file" {
            return .keyFile(path: path)
        }
        if ledger.keyMode == "passphrase" {
            return .passphrase(try Passphrase.read(prompt: "Ledger passphrase: ", confirm: false))
        }
        throw LedgerError.keyRequired("this command needs the master key: pass --key-file PATH or set LEDGER_KEY_FILE")
    }

    func unlock(_ ledger: Ledger) throws {
        try ledger.unlock(with: source(for: ledger))
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name]
    }
}

/// Opens the ledger named by `location` and unlocks it with `keys`.
func openUnlocked(_ location: LedgerLocation, _ keys: KeyOptions) throws -> Ledger {
    let ledger = try Ledger.open(at: location.directory())
    try keys.unlock(ledger)
    return ledger
}
