import ArgumentParser
import Foundation
import Ledger
import LedgerFormat

struct Grant: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "Create a credential with one role and record the grant (master key).",
        discussion: """
        Roles: reader decrypts only the --matter matters named; appender appends and imports (to every matter, or \
        only the --matter ones) and decrypts nothing, not even what it wrote; signer signs checkpoints and reads \
        nothing. The credential file (mode 0600) is what the person or service then passes with --credential. \
        See docs/ACCESS.md.
        """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Argument(help: "The credential's name, as it appears in grant and access entries (e.g. p.jones, pms-ingest).")
    var name: String

    @Option(help: "reader, appender or signer.")
    var role: AccessRole

    @Option(help: "A matter the credential may read (reader) or append to (appender); repeatable.")
    var matter: [String] = []

    @Option(name: [.customShort("o"), .long],
            help: ArgumentHelp("Where to write the credential (must not exist); default NAME.cred here.",
                               valueName: "file"))
    var output: String?

    func run() throws {
        let ledger = try openUnlocked(location, keys)
        let summary = try ledger.grant(name, role: role, matters: matter, credentialPath: output ?? "\(name).cred")
        print(summary.seq)
        Terminal.note("granted \(role.rawValue) to '\(name)'"
                      + (matter.isEmpty ? "" : " for \(summary.matters) matter(s)")
                      + " (entry \(summary.seq)); credential written to \(summary.credentialPath)")
    }
}

struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "End a credential's grant, or withdraw some of its matters (master key).",
        discussion: """
        A reader's withdrawn matters get new key pairs: entries appended afterwards are sealed to keys the revoked \
        credential never had. What it could read before stays readable to anyone who kept copies (SECURITY.md).
        """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Argument(help: "The credential's name.")
    var name: String

    @Option(help: "Withdraw only this matter (repeatable); without it the whole grant ends.")
    var matter: [String] = []

    func run() throws {
        let ledger = try openUnlocked(location, keys)
        let summary = try ledger.revoke(name, matters: matter)
        print(summary.lastSeq)
        Terminal.note("revoked '\(name)'" + (matter.isEmpty ? "" : " for \(matter.count) matter(s)")
                      + (summary.rekeyedMatters > 0 ? "; re-keyed \(summary.rekeyedMatters) matter(s)" : ""))
    }
}

extension AccessRole: ExpressibleByArgument {}
