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

/// How to unlock the ledger: the master key (--key-file / LEDGER_KEY_FILE, or a passphrase from a prompt or
/// LEDGER_PASSPHRASE_FILE) or a credential (--credential / LEDGER_CREDENTIAL_FILE). A flag given on the command line
/// wins over the environment; between the two variables, the credential wins (the narrower power).
struct KeyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Master key file, mode 0600 (or LEDGER_KEY_FILE).", valueName: "path"))
    var keyFile: String?

    @Flag(name: .long, help: "Unlock with a passphrase, read from LEDGER_PASSPHRASE_FILE or a prompt without echo.")
    var passphrase = false

    @Option(name: .long, help: ArgumentHelp("A credential from `ledger grant`, mode 0600 (or LEDGER_CREDENTIAL_FILE): "
                                            + "only its role's powers.", valueName: "path"))
    var credential: String?

    /// The credential file to use, if the master key was not asked for explicitly.
    var credentialPath: String? {
        if let credential { return credential }
        if keyFile != nil || passphrase { return nil }
        return Environment.value("LEDGER_CREDENTIAL_FILE").flatMap { $0.isEmpty ? nil : $0 }
    }

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
        if credential != nil && (keyFile != nil || passphrase) {
            throw ValidationError("give either --credential or the master key (--key-file, --passphrase), not both")
        }
        if let path = credentialPath {
            try ledger.unlock(credentialFile: path)
        } else {
            try ledger.unlock(with: source(for: ledger))
        }
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

/// `--reason` on every command that decrypts: recorded in its access entry.
struct ReadReason: ParsableArguments {
    @Option(help: ArgumentHelp("Why you are reading: recorded (in clear, for keyless verify) in the access entry this "
                               + "command appends before it shows anything. No client confidences.", valueName: "text"))
    var reason: String?

    /// Appends the access entry for `scope`: nothing may be printed before this returns.
    func record(_ ledger: Ledger, command: String, matters: [String] = [], seq: UInt64? = nil) throws {
        try ledger.recordAccess(ReadScope(command: command, matters: matters, seq: seq, reason: reason))
    }
}
