import Age
import ArgumentParser
import Foundation
import LedgerBundle
import LedgerFormat
import Sodium

/// `ledger recipient …`: age X25519 keys for sealed bundles (docs/EXPORT.md, "Encrypted to the recipient").
struct Recipient: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipient",
        abstract: "Make age keys for bundles sealed to a recipient (export --to-recipient).",
        subcommands: [RecipientNew.self])
}

/// `ledger recipient new -o FILE`: an identity file as age-keygen writes it; prints the public key.
struct RecipientNew: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a new age identity (AGE-SECRET-KEY-1…) to a file and print its public key (age1…).",
        discussion: """
        The file is created with mode 0600 and must not exist. It is in age-keygen's format, so `age -d -i FILE` \
        opens bundles sealed to it; give the printed age1… line (or the file's '# public key:' line) to the sender.
        """)

    @Option(name: .shortAndLong, help: ArgumentHelp("The identity file to create.", valueName: "file"))
    var output: String

    func run() throws {
        let identity = try AgeIdentity.generate()
        let created = ISO8601DateFormatter().string(from: Date())
        var text = Array(AgeKeyFile.render(identity, created: created).utf8)
        defer { text.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        try AgeKeyFiles.createPrivate(output, contents: text)
        Terminal.note("wrote \(output) (mode 0600); give the public key below to whoever seals bundles to you")
        print(identity.recipient.description)
    }
}

/// Reading and writing the key files of sealed bundles.
enum AgeKeyFiles {
    /// Creates `path` with mode 0600 (O_EXCL: never over an existing file) holding `contents`.
    static func createPrivate(_ path: String, contents: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw ExportError.outputExists(path) }
            throw ExportError.io(path: path, detail: "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else {
            throw ExportError.io(path: path, detail: "cannot write the key")
        }
    }

    /// The recipients named by a file: `age1…` lines, or an identity file's `# public key:` lines.
    static func recipients(_ path: String) throws -> [AgeRecipient] {
        try AgeKeyFile.recipients(in: BundleFiles.readText(path))
    }

    /// The identities of an age identity file (AGE-SECRET-KEY-1… lines).
    static func identities(_ path: String) throws -> [AgeIdentity] {
        try AgeKeyFile.identities(in: BundleFiles.readText(path))
    }

    /// A sealed bundle's size cap: a bundle's, plus the tags (16 bytes per 64 KiB) and a header.
    static let maxSealedBytes = BundleFormat.maxTotalBytes + BundleFormat.maxTotalBytes / 4096 + (1 << 20)

    /// Verifies the bundle held in `plaintext` (no copy: the verifier reads the secret bytes in place).
    static func verify(_ plaintext: SecretBytes, options: BundleVerifyOptions) throws -> BundleReport {
        try plaintext.withUnsafeMutableBytes { raw in
            let data = Data(bytesNoCopy: raw.baseAddress!, count: raw.count, deallocator: .none)
            return try BundleVerifier.verify(data: data, options: options)
        }
    }

    /// A bundle file's bytes (capped like a bundle, plus the age overhead), opened with `identities` in memory.
    static func openSealed(_ path: String, identities: [AgeIdentity]) throws -> SecretBytes {
        guard FileManager.default.fileExists(atPath: path) else { throw BundleError.notFound(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BundleError.unreadable(path: path, detail: "cannot read")
        }
        guard UInt64(data.count) <= maxSealedBytes else {
            throw BundleError.malformed("the sealed file is over \(maxSealedBytes >> 20) MiB")
        }
        return try data.withUnsafeBytes { try AgeDecryptor.open($0, identities: identities) }
    }
}

extension Failure {
    /// Exit statuses for sealed-bundle failures: 1 when the ciphertext fails authentication (an integrity
    /// violation), 65 when it is not an age file, 77 for a key that does not open it, 64 for a bad key file.
    static func status(_ error: AgeError) -> Int32 {
        switch error {
        case .headerMACMismatch, .payloadTruncated, .payloadExtended, .emptyLastChunk, .payloadAuthenticationFailed:
            return 1
        case .unsupportedVersion, .malformedHeader, .nonCanonicalBase64: return 65
        case .noMatchingIdentity: return 77
        case .invalidRecipient, .invalidIdentity: return 64
        }
    }
}
