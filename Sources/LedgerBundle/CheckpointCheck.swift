import LedgerFormat
import MerkleLog
import SignedNote
import Sodium

/// The verifier key to check with, and checkpoint.txt checked with it.
enum CheckpointCheck {
    /// The pinned key (a malformed one is a usage error), else the bundle's own verifier.key with a warning.
    /// nil when the bundle's own key is all there is and it is not a key (a `verifier-key` violation).
    static func verifierKey(pinned: String?, bundled: [UInt8], into report: inout BundleReport) throws
        -> NoteVerifierKey? {
        let own = Result { try NoteVerifierKey(text: String(decoding: bundled, as: UTF8.self).trimmingSuffix("\n")) }
        guard let pinned else {
            report.warnings.append(BundleReport.unpinnedKeyWarning)
            do { return try own.get() } catch {
                report.fail(.verifierKey, "verifier.key is not a verifier key: \(error)")
                return nil
            }
        }
        let key: NoteVerifierKey
        do { key = try NoteVerifierKey(text: pinned.trimmingSuffix("\n")) } catch {
            throw BundleError.invalidVerifierKey("\(error)")
        }
        report.verifierKeyPinned = true
        if let bundledKey = try? own.get(), bundledKey != key {
            report.warnings.append(
                "the bundle's verifier.key differs from the pinned key; checking with the pinned key")
        }
        return key
    }

    /// checkpoint.txt as read (for the report and the manifest's cross-checks) and as opened with the verifier key
    /// (signature and origin checked): only the opened one is trusted to check proofs against.
    struct Outcome {
        var shown: Checkpoint?
        var verified: Checkpoint?
    }

    /// checkpoint.txt: a signed checkpoint whose signature verifies with `key` and whose origin is the key's name.
    /// Its origin, size and root go into the report even when it does not verify.
    static func check(_ text: String, key: NoteVerifierKey?, into report: inout BundleReport) -> Outcome {
        let shown: Checkpoint
        do { shown = try Checkpoint(body: SignedNoteText(parsing: text).text) } catch {
            report.fail(.checkpointSignature, "checkpoint.txt is not a signed checkpoint: \(error)")
            return Outcome()
        }
        report.origin = shown.origin
        report.treeSize = shown.size
        report.root = Base64.encode(shown.rootHash)
        guard let key else { return Outcome(shown: shown) }
        return Outcome(shown: shown, verified: open(text, key: key, shown: shown, into: &report))
    }

    /// `Checkpoint.open` with the violations it finds; nil when the signature or the origin does not hold.
    private static func open(_ text: String, key: NoteVerifierKey, shown: Checkpoint,
                             into report: inout BundleReport) -> Checkpoint? {
        do {
            return try Checkpoint.open(note: text, verifier: key)
        } catch NoteError.originMismatch {
            // A good signature over another origin: reported below.
        } catch {
            report.fail(.checkpointSignature, "checkpoint.txt does not verify: \(error)")
        }
        // The origin is checked even when the signature fails, as tools/verify_bundle.py does.
        if !shown.origin.utf8.elementsEqual(key.name.utf8) {
            report.fail(.checkpointOrigin,
                        "the checkpoint's origin \(shown.origin) is not the verifier key's name \(key.name)",
                        expected: key.name, found: shown.origin)
        }
        return nil
    }
}

extension Checkpoint {
    /// The root hash as a `Hash` (a checkpoint's root is always 32 bytes).
    var root: Hash { Hash(bytes: rootHash)! }
}

extension String {
    package func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
