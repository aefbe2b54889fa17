import Foundation
import Ledger
import Sodium
#if canImport(Glibc)
import Glibc
#endif

/// Reads a passphrase from LEDGER_PASSPHRASE_FILE (mode 0600, first line) or from /dev/tty with echo off.
/// Never from argv; the buffers are zeroed after use.
enum Passphrase {
    static func read(prompt: String, confirm: Bool, useEnvironment: Bool = true) throws -> SecretBytes {
        if useEnvironment, let path = Environment.value("LEDGER_PASSPHRASE_FILE") {
            return try fromFile(path)
        }
        let first = try fromTerminal(prompt)
        if confirm {
            let second = try fromTerminal("Repeat passphrase: ")
            guard first.constantTimeEquals(second) else {
                throw LedgerError.keyRequired("the passphrases do not match")
            }
        }
        return first
    }

    static func fromFile(_ path: String) throws -> SecretBytes {
        // The same ownership rule as key files: refuse a passphrase file others can read.
        var info = stat()
        guard stat(path, &info) == 0 else { throw LedgerError.keyFileMissing(path: path) }
        guard info.st_mode & 0o077 == 0 else {
            throw LedgerError.keyFilePermissions(path: path, mode: UInt32(info.st_mode))
        }
        guard var bytes = FileManager.default.contents(atPath: path).map({ [UInt8]($0) }) else {
            throw LedgerError.io(path: path, detail: "cannot read the passphrase file")
        }
        defer { zeroize(&bytes) }
        let end = bytes.firstIndex(of: 0x0a) ?? bytes.count
        var line = Array(bytes[0..<end])
        defer { zeroize(&line) }
        if line.last == 0x0d { line.removeLast() }
        guard !line.isEmpty else { throw LedgerError.keyRequired("the passphrase file is empty") }
        return SecretBytes(copying: line)
    }

    private static func fromTerminal(_ prompt: String) throws -> SecretBytes {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw LedgerError.keyRequired("a passphrase is needed but there is no terminal; set LEDGER_PASSPHRASE_FILE")
        }
        defer { close(fd) }
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        var saved = termios()
        tcgetattr(fd, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(fd, TCSAFLUSH, &silent)
        defer {
            tcsetattr(fd, TCSAFLUSH, &saved)
            _ = write(fd, "\n", 1)
        }
        var buffer = [UInt8](repeating: 0, count: 1024)
        defer { zeroize(&buffer) }
        var count = 0
        while count < buffer.count {
            var byte: UInt8 = 0
            guard Glibc.read(fd, &byte, 1) == 1, byte != 0x0a else { break }
            buffer[count] = byte
            count += 1
        }
        guard count > 0 else { throw LedgerError.keyRequired("an empty passphrase is not allowed") }
        return buffer.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
}
