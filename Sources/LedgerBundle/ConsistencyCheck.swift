import LedgerFormat
import MerkleLog
import RecordFormats
import SignedNote

/// consistency.json (the bundle's tree extends an older checkpoint) and the recipient's trusted checkpoint.
enum ConsistencyCheck {
    /// A checkpoint's size and root.
    typealias Tree = (size: UInt64, root: Hash)

    /// The older tree consistency.json proves the bundle's (verified) tree extends; nil (with the violation) when it
    /// does not. The old checkpoint must open with the same key.
    static func check(_ bytes: [UInt8], key: NoteVerifierKey, tree: Tree, into report: inout BundleReport) -> Tree? {
        guard let (noteText, proof) = parse(bytes, tree: tree, into: &report) else { return nil }
        let old: Checkpoint
        do { old = try Checkpoint.open(note: noteText, verifier: key) } catch {
            report.fail(.consistency, "the old checkpoint does not verify: \(error)")
            return nil
        }
        guard old.size <= tree.size else {
            report.fail(.consistency,
                        "the old checkpoint (size \(old.size)) is larger than the bundle's (\(tree.size))")
            return nil
        }
        do { try checkProof(proof, from: (old.size, old.root), to: tree) } catch {
            report.fail(.consistency, "the consistency proof from size \(old.size) does not check (\(error))")
            return nil
        }
        return (old.size, old.root)
    }

    /// The old checkpoint's note and the proof; nil (with the violation) unless consistency.json is
    /// {oldCheckpoint, newSize, proof} with base64 32-byte hashes and newSize the bundle's tree size.
    private static func parse(_ bytes: [UInt8], tree: Tree, into report: inout BundleReport)
        -> (note: String, proof: [Hash])? {
        guard case .object(let object)? = try? JSONParser.parse(bytes), let note = object["oldCheckpoint"]?.stringValue,
              let newSize = object["newSize"]?.integerValue, case .array(let items)? = object["proof"] else {
            report.fail(.consistency, "consistency.json is not {oldCheckpoint, newSize, proof}")
            return nil
        }
        let proof = items.compactMap { $0.stringValue.flatMap { Hash(base64: $0) } }
        guard proof.count == items.count else {
            report.fail(.consistency, "the consistency proof is not an array of base64 32-byte hashes")
            return nil
        }
        guard newSize == Int64(tree.size) else {
            report.fail(.consistency, "consistency.json proves size \(newSize), the checkpoint has \(tree.size)",
                        expected: String(tree.size), found: String(newSize))
            return nil
        }
        return (note, proof)
    }

    /// Precondition: old.size <= new.size. An empty or equal-size old tree needs an empty proof.
    private static func checkProof(_ proof: [Hash], from old: Tree, to new: Tree) throws {
        if old.size == new.size || old.size == 0 {
            guard proof.isEmpty, old.size == 0 || old.root == new.root else { throw MerkleError.proofMismatch }
        } else {
            // RFC 6962 §2.1.2: the consistency proof rebuilds both the old root and the new root.
            try checkTree(proof: proof, newSize: Int64(new.size), newRoot: new.root, oldSize: Int64(old.size),
                          oldRoot: old.root)
        }
    }

    /// The trusted checkpoint verifies with `key`, and the bundle's tree (when known) equals it or extends it by the
    /// bundle's consistency proof (`proven`).
    static func checkTrusted(_ text: String, key: NoteVerifierKey, tree: Tree?, proven: Tree?,
                             into report: inout BundleReport) {
        let trusted: Checkpoint
        do { trusted = try Checkpoint.open(note: text, verifier: key) } catch {
            report.fail(.trustedCheckpoint, "the trusted checkpoint does not verify: \(error)")
            return
        }
        guard let tree else { return }
        if trusted.size > tree.size {
            report.fail(.trustedCheckpoint, "the bundle's checkpoint (size \(tree.size)) is older than the "
                        + "trusted one (size \(trusted.size))")
        } else if trusted.size == tree.size {
            if trusted.root != tree.root {
                report.fail(.trustedCheckpoint, "same size \(trusted.size), different root: the log forked",
                            expected: trusted.root.base64, found: tree.root.base64)
            }
        } else if trusted.size == 0 {
            return
        } else if let proven, proven.size == trusted.size {
            if proven.root != trusted.root {
                report.fail(.trustedCheckpoint, "the bundle's consistency proof starts from another root at size "
                            + "\(trusted.size): the log forked",
                            expected: trusted.root.base64, found: proven.root.base64)
            }
        } else {
            report.fail(.trustedCheckpoint, "the bundle has no consistency proof from size \(trusted.size); "
                        + "ask the firm for an export with a consistency proof from that checkpoint")
        }
    }
}
