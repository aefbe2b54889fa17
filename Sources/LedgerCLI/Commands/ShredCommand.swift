import ArgumentParser
import Foundation
import Ledger
import LedgerFormat

struct ShredCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shred",
        abstract: "Destroy matters for good: their keys are deleted and the master key rotated (master key).",
        discussion: """
        Refused for a matter under a legal hold (no flag overrides that), and before the end of its retention period \
        (per --policy) unless --before-retention-end. Deletes every wrapped copy of the matters' keys, rotates the \
        master key (a new key file, or a new passphrase), appends a rotate entry and a destroy entry per matter, signs \
        a checkpoint, then rewrites the data file so that the old key bytes are nowhere in the ledger directory, and \
        checks that. The entries stay in the log and keep verifying; their contents can never be read again. \
        Stop other processes using the ledger first. See docs/RETENTION.md.
        """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var actor: RetentionActor
    @OptionGroup var retention: RetentionPolicyOption
    @OptionGroup var newKey: NewMasterKeyOptions

    @Option(help: "A matter to destroy (repeatable).")
    var matter: [String]

    @Flag(help: "Destroy although the retention period has not ended, or the matter is not closed (say why in --reason).")
    var beforeRetentionEnd = false

    func run() throws {
        let directory = try location.directory()
        let ledger = try Ledger.open(at: directory, exclusive: true)  // nothing else writes until the scrub is done
        let oldPassphrase = try unlockMaster(ledger, keys)
        let (policy, digest) = try retention.loadWithDigest()
        var request = ShredRequest(matters: matter, reason: actor.reason, by: actor.actor, policy: policy,
                                   beforeRetentionEnd: beforeRetentionEnd,
                                   newMasterKey: try newKey.newKey(for: ledger, oldPassphrase: oldPassphrase),
                                   now: Int64(Date().timeIntervalSince1970 * 1_000_000))
        request.policyDigest = digest
        let summary = try ledger.shred(request)
        let access = ledger.closeForCompaction()
        for shredded in summary.matters { print(Self.line(shredded)) }
        print("master key rotated to epoch \(summary.rotation.keyEpoch) (entry \(summary.rotation.seq)); "
              + "\(summary.rotation.rewrappedKeys) other key(s) re-wrapped"
              + (summary.rotation.keyFile.map { "; new key file \($0)" } ?? "; new passphrase in force"))
        if summary.checkpoint == nil {
            Terminal.note("warning: no checkpoint was signed after the destruction: run `ledger checkpoint`")
        }
        // The old key opens nothing in the ledger any more, only older backups: destroy it before anything can fail.
        retireOldKeyFile(keys, keep: newKey.keepOldKeyFile || ledger.keyMode != "file")
        print(try compactAfterRotation(directory, destroyed: summary.destroyedBytes, holding: access).line)
        let readers = Set(summary.matters.flatMap(\.readers)).sorted()
        if !readers.isEmpty {
            Terminal.note("credentials that could read the destroyed matters: \(readers.joined(separator: ", ")). With "
                          + "a backup made before now, such a credential still opens them: revoke and re-grant it")
        }
        Terminal.note("backups made before now open with the old master key only; take a new backup "
                      + "(`ledger backup`) and destroy the old ones according to your policy")
    }

    static func line(_ s: ShreddedMatter) -> String {
        let seqs = s.seqRange.map { ", seq \($0.lowerBound)–\($0.upperBound)" } ?? ""
        let early = s.beforeRetentionEnd ? " BEFORE the end of its retention period" : ""
        return "destroyed matter \(s.matter)\(early): \(s.entries) entries\(seqs); \(s.keys) key(s) and "
            + "\(s.readerWraps) reader wrap(s) deleted; destruction entry #\(s.destroySeq)"
    }
}

struct RotateMaster: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-master",
        abstract: "Replace the master key: every key is re-wrapped under a new one (master key).",
        discussion: """
        Key-file ledgers get a new key file (--new-key-file); passphrase ledgers a new passphrase \
        (LEDGER_NEW_PASSPHRASE_FILE or a prompt). Afterwards the old key opens nothing in this ledger, and the old \
        wrapped keys are scrubbed from the data file. The old key file is overwritten and deleted unless \
        --keep-old-key-file. Credentials keep working. See docs/RETENTION.md.
        """)

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @OptionGroup var actor: RetentionActor
    @OptionGroup var newKey: NewMasterKeyOptions

    func run() throws {
        let directory = try location.directory()
        let ledger = try Ledger.open(at: directory, exclusive: true)
        let oldPassphrase = try unlockMaster(ledger, keys)
        let summary = try ledger.rotateMaster(to: try newKey.newKey(for: ledger, oldPassphrase: oldPassphrase),
                                              reason: actor.reason, by: actor.actor)
        let access = ledger.closeForCompaction()
        print("master key rotated to epoch \(summary.keyEpoch) (entry \(summary.seq)); \(summary.rewrappedKeys) key(s) "
              + "re-wrapped" + (summary.keyFile.map { "; new key file \($0)" } ?? "; new passphrase in force"))
        retireOldKeyFile(keys, keep: newKey.keepOldKeyFile || ledger.keyMode != "file")
        print(try compactAfterRotation(directory, destroyed: summary.replacedKeyBytes, holding: access).line)
    }
}

struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Rewrite the data file with only its live rows and swap it in (no key needed).",
        discussion: """
        `shred` and `rotate-master` compact by themselves; run this when their compaction could not finish (verify \
        then says so), or to reclaim space. No other process may have the ledger open.
        """)

    @OptionGroup var location: LedgerLocation

    func run() throws {
        print(try Ledger.compact(at: location.directory()).line)
    }
}
