#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerSupport
import Sodium

/// The master key file: one line `ledger-master-key:v1:<standard base64 of 32 bytes>` (docs/FORMAT.md).
/// Created with O_EXCL and mode 0600; loading refuses a file that group or others may access, like ssh does.
public enum MasterKeyFile {
    static let prefix = "ledger-master-key:v1:"
    public static let keyByteCount = 32

    /// Creates a new key file holding `key`. Refuses to overwrite anything.
    public static func create(at path: String, key: SecretBytes) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw LedgerError.keyFileExists(path: path) }
            throw LedgerError.io(path: path, detail: "cannot create key file: \(systemError())")
        }
        defer { close(fd) }
        var line = Array(prefix.utf8)
        key.withUnsafeBytes { line.append(contentsOf: Base64.encode(Array($0)).utf8) }
        line.append(UInt8(ascii: "\n"))
        defer { zeroize(&line) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw LedgerError.io(path: path, detail: "cannot write key file: \(systemError())")
        }
    }

    /// Loads the key, after checking that only the owner can read the file.
    public static func load(from path: String) throws -> SecretBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw LedgerError.keyFileMissing(path: path) }
            throw LedgerError.io(path: path, detail: "cannot open key file: \(systemError())")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LedgerError.io(path: path, detail: systemError()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw LedgerError.keyFileMalformed(path: path, reason: "not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw LedgerError.keyFilePermissions(path: path, mode: UInt32(info.st_mode))
        }
        var buffer = [UInt8](repeating: 0, count: 256)
        defer { zeroize(&buffer) }
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0, count < buffer.count else {
            throw LedgerError.keyFileMalformed(path: path, reason: count <= 0 ? "empty" : "too long")
        }
        return try parse(Array(buffer[0..<count]), path: path)
    }

    private static func parse(_ content: [UInt8], path: String) throws -> SecretBytes {
        var text = content
        defer { zeroize(&text) }
        if text.last == UInt8(ascii: "\n") { text.removeLast() }
        let prefixBytes = Array(prefix.utf8)
        guard text.count > prefixBytes.count, Array(text[0..<prefixBytes.count]) == prefixBytes else {
            throw LedgerError.keyFileMalformed(path: path, reason: "missing the `\(prefix)` header")
        }
        let encoded = String(decoding: text[prefixBytes.count...], as: UTF8.self)
        guard var raw = Base64.decode(encoded), raw.count == keyByteCount else {
            throw LedgerError.keyFileMalformed(path: path, reason: "the key is not 32 bytes of base64")
        }
        defer { zeroize(&raw) }
        return SecretBytes(copying: raw)
    }
}

