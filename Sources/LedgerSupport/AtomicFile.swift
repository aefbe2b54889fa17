import Foundation

/// A file the tool could not read or write, with the system's reason. Never carries file contents.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let detail: String

    public init(path: String, detail: String) {
        self.path = path
        self.detail = detail
    }

    public var description: String { "\(path): \(detail)" }
}

/// Writes files so that a reader sees either the old or the new content, never a mix: a temp file with an
/// unpredictable name created exclusively (no following symlinks), the requested mode set explicitly, fsync,
/// rename over the target, fsync of the directory.
public enum AtomicFile {
    public static func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        try write(bytes: Array(text.utf8), to: path, mode: mode)
    }

    /// Writes `bytes` the same way. With `syncDirectory: false` the caller makes the renames durable itself, once
    /// per directory, with `syncDirectory(_:)` (many files into few directories).
    public static func write(bytes: [UInt8], to path: String, mode: Int = 0o644, syncDirectory sync: Bool = true) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temp = (directory as NSString).appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(String(UInt64.random(in: .min ... .max), radix: 16))")
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw FileError(path: path, detail: "cannot create a temporary file beside it: \(systemError())")
        }
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let ok = written == bytes.count && fchmod(fd, mode_t(mode)) == 0 && fsync(fd) == 0
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            let detail = systemError()
            unlink(temp)
            throw FileError(path: path, detail: "cannot write: \(detail)")
        }
        if sync { syncDirectory(directory) }
    }

    /// fsync of a directory: makes the renames into it durable.
    /// The directory that holds `path`: "." for a bare file name, "/" for a file at the root. Foundation's
    /// `deletingLastPathComponent` traps on a one-character relative path (swift-corelibs-foundation 6.3:
    /// `ledger init --key-file k` crashed), so paths are cut here.
    public static func directory(containing path: String) -> String {
        var name = Substring(path)
        while name.count > 1, name.hasSuffix("/") { name = name.dropLast() }  // "a/b/" names b
        guard let slash = name.lastIndex(of: "/") else { return "." }
        var parent = name[..<slash]
        while parent.hasSuffix("/") { parent = parent.dropLast() }  // "a//b"
        return parent.isEmpty ? "/" : String(parent)
    }

    public static func syncDirectory(_ directory: String) {
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// The value of `ledger_verify_last_success_timestamp_seconds` in an existing metrics file, if any.
    public static func previousLastSuccess(metricsPath: String) -> Double? {
        guard let text = try? String(contentsOfFile: metricsPath, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("ledger_verify_last_success_timestamp_seconds") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }
}
