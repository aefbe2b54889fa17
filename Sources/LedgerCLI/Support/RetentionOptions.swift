import ArgumentParser
import Foundation
import Ledger
import LedgerReport
import MerkleLog
import Sodium
#if canImport(Glibc)
import Glibc
#endif

/// `--policy`: the retention policy file (docs/RETENTION.md), or LEDGER_RETENTION_POLICY; without either, the
/// defaults (7 years, no matter closed: nothing is due).
struct RetentionPolicyOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Retention policy JSON (or LEDGER_RETENTION_POLICY); default: 7 years "
                                            + "after closedAt, no matter closed.", valueName: "file"))
    var policy: String?

    func load() throws -> RetentionPolicy { try loadWithDigest().policy }

    /// The policy and the SHA-256 (hex) of the file's bytes (nil for the built-in defaults).
    func loadWithDigest() throws -> (policy: RetentionPolicy, digest: String?) {
        guard let path = policy ?? Environment.value("LEDGER_RETENTION_POLICY").flatMap({ $0.isEmpty ? nil : $0 })
        else { return (RetentionPolicy(), nil) }
        let bytes = Array(try BundleFiles.readText(path).utf8)
        return (try RetentionPolicy.parse(bytes), Hash.sha256(bytes).hex)
    }
}

/// `--reason` (required) and `--by` (default: the login name) of holds, destructions and rotations.
struct RetentionActor: ParsableArguments {
    @Option(help: "Why: recorded in the entry, readable by anyone who verifies the ledger (no client details).")
    var reason: String

    @Option(help: ArgumentHelp("Who is acting, recorded in the entry (default: the login name).", valueName: "name"))
    var by: String?

    var actor: String {
        if let by { return by }
        if let user = Environment.value("USER"), !user.isEmpty { return user }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }
}

/// The new master key of a rotation: `--new-key-file` in key-file mode; in passphrase mode a new passphrase from
/// LEDGER_NEW_PASSPHRASE_FILE or a prompt, which must differ from the old one (with the old passphrase, a backup
/// from before the rotation would still open).
struct NewMasterKeyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Key-file ledgers: where to write the new master key (must not exist).",
                                            valueName: "path"))
    var newKeyFile: String?

    @Flag(name: .long, help: "Keep the old key file (default: overwrite it with zeros and delete it).")
    var keepOldKeyFile = false

    func newKey(for ledger: Ledger, oldPassphrase: SecretBytes?) throws -> NewMasterKey {
        if ledger.keyMode == "file" {
            guard let newKeyFile else { throw ValidationError("pass --new-key-file PATH: every rotation makes a new master key") }
            return .keyFile(path: newKeyFile, allowInsideLedger: false)
        }
        let new: SecretBytes
        if let path = Environment.value("LEDGER_NEW_PASSPHRASE_FILE") {
            new = try Passphrase.fromFile(path)
        } else {
            new = try Passphrase.read(prompt: "New ledger passphrase: ", confirm: true, useEnvironment: false)
        }
        if let oldPassphrase, new.constantTimeEquals(oldPassphrase) {
            throw ValidationError("the new passphrase must differ from the old one")
        }
        return .passphrase(new, .moderate())
    }
}

/// Unlocks with the master key, returning the passphrase used (a rotation compares the new one with it).
func unlockMaster(_ ledger: Ledger, _ keys: KeyOptions) throws -> SecretBytes? {
    if keys.credential != nil { throw LedgerError.masterKeyRequired }  // master-only: the credential env var is ignored
    let source = try keys.source(for: ledger)
    try ledger.unlock(with: source)
    if case .passphrase(let secret) = source { return secret }
    return nil
}

/// After a rotation: the old key file opens nothing in the ledger; with a backup from before, it would. Overwrite it
/// and delete it (unless kept on purpose).
func retireOldKeyFile(_ keys: KeyOptions, keep: Bool) {
    guard let path = keys.keyFile ?? Environment.value("LEDGER_KEY_FILE"), !path.isEmpty else { return }
    if keep {
        Terminal.note("old key file kept at \(path): destroy it (and every copy) yourself; with it, a backup made "
                      + "before now still opens")
        return
    }
    do {
        try MasterKeyFile.destroy(at: path)
        Terminal.note("old key file \(path) overwritten and deleted; destroy any other copy of it too")
    } catch {
        Terminal.note("warning: could not destroy the old key file \(path) (\(error)): destroy it yourself")
    }
}

/// Compacts after a rotation or destruction, reporting the scrub; a failure leaves a note and a non-zero exit.
func compactAfterRotation(_ directory: String, destroyed: [[UInt8]],
                          holding access: ExclusiveAccess?) throws -> CompactionSummary {
    do {
        return try Ledger.compact(at: directory, destroyedBytes: destroyed, holding: access)
    } catch {
        Terminal.note("the keys are destroyed and the master key rotated, but the data file was not compacted: "
                      + "\(error). Old wrapped keys may remain in its free pages until `ledger compact` succeeds")
        throw error
    }
}

extension CompactionSummary {
    var line: String {
        String(format: "compacted data.mdb: %.1f MB -> %.1f MB in %.2f s; searched %d file(s) for %d destroyed byte "
               + "string(s): none found", Double(bytesBefore) / 1e6, Double(bytesAfter) / 1e6, seconds, filesSearched,
               patternsChecked)
    }
}
