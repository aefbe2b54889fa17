import Foundation
import SignedNote
import Sodium

extension FuzzTargets {
    /// The key that signs the fuzzed checkpoints' twins: fixed, so that a mutated note can still verify.
    static let noteSigner: NoteSigner = {
        try! NoteSigner(name: "fuzz.example/ledger", seed: SecretBytes(copying: Array(repeating: 7, count: 32)))
    }()
    static let noteVerifier = noteSigner.verifierKey

    /// A signed note and the checkpoint in it: strict parse, signature check, body parse, `Checkpoint.open`; a
    /// checkpoint that opens writes back to its body.
    static let signedNote = FuzzTarget("signed-note") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        if let note = try? SignedNoteText(parsing: Array(bytes)) {
            _ = try? note.verify(with: noteVerifier)
            if let body = try? Checkpoint(body: note.text) {
                agree(body.body == note.text, "a parsed checkpoint does not write back to its body")
            }
        }
        if let checkpoint = try? Checkpoint.open(note: text, verifier: noteVerifier) {
            agree(checkpoint.origin == noteVerifier.name, "an opened checkpoint names another origin")
        }
    }

    /// A verifier key text (`--verifier-key` files, bundles' verifier.key): a key that parses prints back as itself.
    static let verifierKey = FuzzTarget("verifier-key") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        guard let key = try? NoteVerifierKey(text: text) else { return }
        agree(key.text == text, "a parsed verifier key does not print back as its text")
    }
}
