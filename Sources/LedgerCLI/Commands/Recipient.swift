import Age
import ArgumentParser
import Foundation
import LedgerBundle
import LedgerFormat
import LedgerSupport
import Logging
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

    static let logger = Logger(label: "ledger.age")

    /// A sealed bundle's size cap: a bundle's, plus the tags (16 bytes per 64 KiB) and a header.
    static let maxSealedBytes = BundleFormat.maxTotalBytes + BundleFormat.maxTotalBytes / 4096 + (1 << 20)

    /// Verifies a sealed bundle: opened in memory (`withOpened`), then verified as a file.
    static func verify(_ bundle: String, identity: String, options: BundleVerifyOptions) throws -> BundleReport {
        try withOpened(bundle, identities: identities(identity)) { try BundleVerifier.verify(path: $0, options: options) }
    }

    /// The bundle verified with its revealed values kept, read once; opened in memory first when `identity` is given.
    static func openVerified(_ bundle: String, identity: String?, options: BundleVerifyOptions) throws
        -> VerifiedBundle {
        guard let identity else { return try BundleVerifier.open(path: bundle, options: options) }
        return try withOpened(bundle, identities: identities(identity)) {
            try BundleVerifier.open(path: $0, options: options)
        }
    }

    /// Decrypts the sealed file straight into an anonymous memory file (memfd: RAM, no name on any filesystem, gone
    /// when closed) and runs `body` with a path to it (/proc/self/fd/N), so the verifier reads the clear zip exactly
    /// as it reads a bundle file, without a copy to /dev/shm. The memory is zeroed before it is released.
    static func withOpened<R>(_ path: String, identities: [AgeIdentity], body: (String) throws -> R) throws -> R {
        let sealed = try readSealed(path)
        let memory = try MemoryFile()
        defer { memory.close() }
        var timer = PhaseTimer(logger: logger)
        defer { logger.debug("open-sealed", metadata: ["phases": "\(timer)"]) }
        try sealed.withUnsafeBytes { file in
            try AgeDecryptor.open(file, identities: identities) { try memory.map(size: $0) }
        }
        timer.lap("decrypt")
        return try body(memory.path)
    }

    /// The sealed file's bytes, within the sealed size cap.
    static func readSealed(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw BundleError.notFound(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BundleError.unreadable(path: path, detail: "cannot read")
        }
        guard UInt64(data.count) <= maxSealedBytes else {
            throw BundleError.malformed("the sealed file is over \(maxSealedBytes >> 20) MiB")
        }
        return data
    }
}

/// An anonymous memory file (`memfd_create`) mapped read-write: where a sealed bundle's clear zip lives.
final class MemoryFile {
    let fd: Int32
    private var mapping: UnsafeMutableRawBufferPointer?

    init() throws {
        fd = Self.memfdCreate?("ledger-sealed-bundle", 1 /* MFD_CLOEXEC */) ?? -1
        guard fd >= 0 else {
            throw ExportError.io(path: "memfd", detail: "cannot create a memory file: \(String(cString: strerror(errno)))")
        }
    }

    /// glibc's `memfd_create`, looked up at run time (Glibc's Swift module hides it behind _GNU_SOURCE).
    private static let memfdCreate: (@convention(c) (UnsafePointer<CChar>, UInt32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "memfd_create") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafePointer<CChar>, UInt32) -> Int32).self)
    }()

    /// A path the process can open the file by.
    var path: String { "/proc/self/fd/\(fd)" }

    /// Sizes the file to `size` bytes and maps it.
    func map(size: Int) throws -> UnsafeMutableRawBufferPointer {
        guard ftruncate(fd, off_t(size)) == 0 else {
            throw ExportError.io(path: "memfd", detail: "cannot size a memory file of \(size) bytes")
        }
        guard size > 0 else { return UnsafeMutableRawBufferPointer(start: nil, count: 0) }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw ExportError.io(path: "memfd", detail: "cannot map a memory file of \(size) bytes")
        }
        mapping = UnsafeMutableRawBufferPointer(start: base, count: size)
        return mapping!
    }

    /// Zeroes and unmaps the contents, then closes the file.
    func close() {
        if let mapping, let base = mapping.baseAddress {
            zeroize(mapping)
            munmap(base, mapping.count)
        }
        mapping = nil
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)  // no memfd there: init throws first; kept so the package builds for macOS
        #endif
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
