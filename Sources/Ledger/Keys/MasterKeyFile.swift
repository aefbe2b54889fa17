#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Sodium

/// The master key file: one line `ledger-master-key:v1:<standard base64 of 32 bytes>` (docs/FORMAT.md).
/// Created with O_EXCL and mode 0600; loading refuses a file that group or others may access, like ssh does.
public enum MasterKeyFile {
    static let prefix = "ledger-master-key:v1:"
    public static let keyByteCount = 32

    /// Creates a new key file holding `key`. Refuses to overwrite anything.
    public static func create(at path: String, key: SecretBytes) throws {
        var line = Array(prefix.utf8)
        key.withUnsafeBytes { line.append(contentsOf: Base64.encode(Array($0)).utf8) }
        defer { zeroize(&line) }
        try SecretFile.create(at: path, line: line)
    }

    /// Loads the key, after checking that only the owner can read the file.
    public static func load(from path: String) throws -> SecretBytes {
        try parse(try SecretFile.readLine(from: path), path: path)
    }

    private static func parse(_ content: [UInt8], path: String) throws -> SecretBytes {
        var text = content
        defer { zeroize(&text) }
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

    /// Overwrites a retired key file with zeros, flushes it and deletes it (after a rotation, the old key opens only
    /// backups made before it: destroying it is what makes them useless).
    public static func destroy(at path: String) throws {
        // Only ever a key file (its header), whatever its permissions.
        guard let head = FileManager.default.contents(atPath: path)?.prefix(prefix.utf8.count),
              Array(head) == Array(prefix.utf8) else {
            throw LedgerError.keyFileMalformed(path: path, reason: "not a master key file: not destroyed")
        }
        let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError.io(path: path, detail: "cannot open the old key file to destroy it") }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        let zeros = [UInt8](repeating: 0, count: max(size, 64))
        let written = zeros.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == zeros.count, synced, unlink(path) == 0 else {
            throw LedgerError.io(path: path, detail: "cannot overwrite and delete the old key file")
        }
    }
}
