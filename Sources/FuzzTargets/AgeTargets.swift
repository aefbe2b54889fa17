import Age

extension FuzzTargets {
    /// The identity the age target opens files with (the C2SP/CCTV vectors' identity: scalar 0x42 × 32).
    static let ageIdentity = try! AgeIdentity(
        parsing: "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX")

    /// Hostile age files (sealed bundles) and key strings: opening must throw `AgeError` or succeed, never trap;
    /// a recipient or identity that parses re-encodes to the same text.
    static let age = FuzzTarget("age") { bytes in
        let input = Array(bytes)
        do { _ = try AgeDecryptor.open(input, identities: [ageIdentity]) } catch {
            agree(error is AgeError, "age: a non-AgeError escaped: \(error)")
        }
        let text = String(decoding: input.prefix(200), as: UTF8.self)
        if let recipient = try? AgeRecipient(parsing: text) {
            agree(recipient.description == text, "age: a recipient does not re-encode to its text")
        }
        if let identity = try? AgeIdentity(parsing: text) {
            agree(identity.encoded() == text, "age: an identity does not re-encode to its text")
        }
    }
}
