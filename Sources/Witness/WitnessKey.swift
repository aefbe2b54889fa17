import Foundation
import SignedNote
import Sodium

/// The witness's private key file (`PRIVATE+KEY+<name>+<key id>+base64(0x04 || seed)`, see `Cosigner`): created
/// with mode 0600 and never overwritten; refused when group or others may read it. Its bytes are zeroed after use
/// and never printed.
public enum WitnessKey {
    static let maxFileSize = 4096

    public static func load(path: String) throws -> Cosigner {
        // Open first (never through a symlink), then check the descriptor itself: what is read is what was checked.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw WitnessError.keyFile(path: path, detail: "cannot open it") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw WitnessError.keyFile(path: path, detail: "cannot read it") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw WitnessError.keyFile(path: path, detail: "not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw WitnessError.keyFile(path: path, detail: "readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                                       + "run chmod 600 on it")
        }
        var bytes = [UInt8](repeating: 0, count: maxFileSize + 1)
        defer { zeroize(&bytes) }
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, n <= maxFileSize else { throw WitnessError.keyFile(path: path, detail: "empty or too large") }
        var content = Array(bytes[..<n])
        defer { zeroize(&content) }
        do {
            return try Cosigner(keyFile: content)
        } catch {
            throw WitnessError.keyFile(path: path, detail: "malformed: \(error)")
        }
    }

    /// Creates a new key file (mode 0600, refusing to overwrite anything) and returns the public vkey.
    public static func generate(name: String, path: String) throws -> CosignerKey {
        let seed = SecretBytes(randomCount: 32)
        var bytes: [UInt8]
        do { bytes = try Cosigner.keyFileBytes(name: name, seed: seed) } catch {
            throw WitnessError.keyFile(path: path, detail: "\(error)")
        }
        defer { zeroize(&bytes) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw WitnessError.keyFile(path: path, detail: errno == EEXIST ? "already exists: refusing to overwrite it"
                                                                           : "cannot create it")
        }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let ok = written == bytes.count && fchmod(fd, 0o600) == 0 && fsync(fd) == 0
        close(fd)
        guard ok else {
            unlink(path)
            throw WitnessError.keyFile(path: path, detail: "cannot write it")
        }
        return try Cosigner(name: name, seed: seed).publicKey
    }
}
