import Age
import ArgumentParser
import Foundation
import Ledger
import LedgerFormat
import MerkleLog
import SignedNote

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a matter's entries as a verifiable bundle (zip) with fields redacted by profile.",
        discussion: """
        Profiles: insurer (default) reveals matter, author, channel, direction, kind, urgency, occurredAt, outcome, \
        durationMinutes, followUpDue, inReplyTo, corrects and redacts everything else; metadata also redacts author; \
        full reveals everything and needs --i-understand-this-reveals-privileged-content. Entries marked privileged \
        keep their content fields redacted unless --reveal names the field. Reasons: 'attorney-client privilege' \
        (default), 'work product', 'personal data', 'not requested'. See docs/EXPORT.md.
        """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var reason: ReadReason
    @OptionGroup var selection: ExportSelection

    @Option(help: ArgumentHelp("A checkpoint the recipient already holds: include a consistency proof from it.",
                               valueName: "file"))
    var sinceCheckpoint: String?

    @Flag(help: "Deflate entries.jsonl too: a bundle about 3.5 times smaller, slower to write and to verify.")
    var compact = false

    @Flag(help: "Add access-log.jsonl: the recorded reads of the exported matters, with inclusion proofs (master key).")
    var includeAccessLog = false

    @Flag(help: ArgumentHelp("Prove against the newest stored checkpoint (the one `ledger checkpoint --witness` "
                             + "had cosigned) instead of signing a fresh one; entries after it are left out."))
    var witnessed = false

    @Flag(help: "Add receipts/SEQ.tlog-proof, a c2sp.org/tlog-proof receipt per entry (implies --witnessed).")
    var receipts = false

    @Option(help: ArgumentHelp("Seal the bundle to this age recipient: a file with an age1… line, or an identity "
                               + "file's '# public key:' line. The output must end in .age.", valueName: "file"))
    var toRecipient: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Output zip (must not exist).", valueName: "out.zip"))
    var output: String

    func validate() throws {
        if toRecipient != nil && !output.hasSuffix(".age") {
            throw ValidationError("a bundle sealed with --to-recipient is written to a name ending in .age "
                                  + "(e.g. -o \(output).age)")
        }
    }

    func run() throws {
        var options = try selection.exportOptions()
        options.compactEntries = compact
        options.includeAccessLog = includeAccessLog
        options.witnessed = witnessed
        options.receipts = receipts
        if let sinceCheckpoint { options.sinceCheckpoint = try BundleFiles.readText(sinceCheckpoint) }
        if let toRecipient {
            let recipients = try AgeKeyFiles.recipients(toRecipient)
            options.seal = { clear, write in try AgeEncryptor.seal(clear, to: recipients, write: write) }
            // The export's entry names the recipient by its key's SHA-256 (several recipients: of their keys, sorted).
            options.recipientFingerprint = Hash.sha256(recipients.map(\.publicKey).sorted { $0.lexicographicallyPrecedes($1) }
                .flatMap { $0 }).hex
        }
        let ledger = try openUnlocked(location, keys)
        guard !FileManager.default.fileExists(atPath: output) else { throw ExportError.outputExists(output) }
        // Refused before the read is recorded: only the master key may give the access log away.
        if includeAccessLog && !ledger.isUnlockedWithMasterKey { throw LedgerError.masterKeyRequired }
        try ledger.checkCanExport(witnessed: witnessed || receipts)
        if witnessed || receipts, let (_, note) = try ledger.latestStoredCheckpoint(),
           let lines = try? SignedNoteText(parsing: note).signatures, lines.count < 2 {
            Terminal.warning("the newest stored checkpoint carries no witness cosignature: run `ledger checkpoint "
                             + "--witness` first if the recipient checks with --policy")
        }
        try reason.record(ledger, command: "export", matters: selection.matter)
        let summary = try ledger.export(options, to: output)
        let destroyed = summary.destroyedEntries > 0
            ? ", \(summary.destroyedEntries) entries of destroyed matters (leaf and proof only)" : ""
        Terminal.note("wrote \(summary.path): \(summary.entries) entries\(destroyed), \(summary.revealedFields) fields revealed, "
                      + "\(summary.redactedFields) redacted; checkpoint size \(summary.treeSize), root \(summary.root)")
    }
}

enum BundleFiles {
    /// A small text input (checkpoint, verifier key): at most 1 MiB.
    static func readText(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw ExportError.inputNotFound(path) }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw ExportError.io(path: path, detail: "cannot read (unreadable or over 1 MiB)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
