#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LedgerSupport
import Sodium

/// A one-line file holding a secret (the master key file, a credential): created with O_EXCL and mode 0600, and
/// refused on loading when group or others may access it, like ssh does.
enum SecretFile {
    /// Creates `path` holding `line` (and a newline). Refuses to overwrite anything.
    static func create(at path: String, line: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw LedgerError.keyFileExists(path: path) }
            throw LedgerError.io(path: path, detail: "cannot create key file: \(systemError())")
        }
        defer { close(fd) }
        var content = line + [UInt8(ascii: "\n")]
        defer { zeroize(&content) }
        let written = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == content.count, fsync(fd) == 0 else {
            throw LedgerError.io(path: path, detail: "cannot write key file: \(systemError())")
        }
        // The directory entry too: a rotation commits right after writing its new key file, and a crash must not
        // leave the ledger sealed to a key whose file never reached the disk.
        let dir = open(AtomicFile.directory(containing: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0, fsync(dir) == 0 else {
            if dir >= 0 { close(dir) }
            throw LedgerError.io(path: path, detail: "cannot flush the key file's directory: \(systemError())")
        }
        close(dir)
    }

    /// The file's line without its newline, after checking that only the owner can read the file. The caller
    /// zeroes the returned bytes.
    static func readLine(from path: String) throws -> [UInt8] {
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
        var buffer = [UInt8](repeating: 0, count: 512)
        defer { zeroize(&buffer) }
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0, count < buffer.count else {
            throw LedgerError.keyFileMalformed(path: path, reason: count <= 0 ? "empty" : "too long")
        }
        var line = Array(buffer[0..<count])
        if line.last == UInt8(ascii: "\n") { line.removeLast() }
        return line
    }
}
