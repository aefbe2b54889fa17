import Foundation
import LedgerSupport

/// The directory a tiled log is published into: public data, so directories 0755 and files 0644 (explicitly: the
/// CLI's umask is 077). Files are replaced atomically; `checkpoint` is written last by the publisher.
struct TileDirectory {
    static let checkpointName = "checkpoint"
    static let directoryMode: mode_t = 0o755
    static let fileMode = 0o644

    /// The directory's real path (symlinks in the path the user gave are resolved once, here); nothing below it may
    /// be a symlink.
    let path: String
    /// Held for the whole run: two publishes into one directory could otherwise move its checkpoint backwards.
    private let lock: PublishLock
    /// Directories known to exist (created or found), so each is made once.
    private var madeDirectories = Set<String>()
    /// Directories a file was renamed (or a directory made) into since the last `finishWrites()`.
    private var touchedDirectories = Set<String>()
    private let writes = ConcurrentFileWrites(mode: TileDirectory.fileMode)

    /// Creates `path` if needed and refuses one that is, or is inside, the ledger directory (or holds it), or that
    /// holds files other than a tiled log's.
    init(path given: String, ledgerDirectory: String) throws {
        let resolved = Self.resolved(given), ledger = Self.resolved(ledgerDirectory)
        if resolved == ledger || resolved.hasPrefix(ledger + "/") || ledger.hasPrefix(resolved + "/") {
            throw PublishError.directoryInsideLedger(path: given)
        }
        try Self.makeRoot(resolved)
        self.path = resolved
        self.lock = try PublishLock(directory: resolved)
        madeDirectories.insert(resolved)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let foreign = names.filter { $0 != Self.checkpointName && $0 != "tile" && !$0.hasPrefix(".") }
        if !foreign.isEmpty {
            throw PublishError.foreignFiles(path: path, example: foreign.sorted()[0])
        }
    }

    func file(_ relative: String) -> String { (path as NSString).appendingPathComponent(relative) }

    /// The bytes of `relative`, or nil when it does not exist (or cannot be read: the caller rewrites it).
    func contents(_ relative: String) -> [UInt8]? {
        FileManager.default.contents(atPath: file(relative)).map { [UInt8]($0) }
    }

    /// Whether `relative` is a regular file (or, with `directory:`, a directory).
    func exists(_ relative: String) -> Bool { fileType(relative) == S_IFREG }
    func exists(directory relative: String) -> Bool { fileType(relative) == S_IFDIR }

    /// The type of `relative` without following a symlink anywhere below the root: nil when it (or a directory on
    /// its way) does not exist or is a symlink.
    private func fileType(_ relative: String) -> mode_t? {
        var walked = path
        for component in relative.split(separator: "/").map(String.init) {
            var info = stat()
            guard lstat(walked, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
            walked = (walked as NSString).appendingPathComponent(component)
        }
        var info = stat()
        guard lstat(walked, &info) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        return type == S_IFLNK ? nil : type
    }

    /// Queues `bytes` for `relative`, written atomically (temp file, fsync, rename) on a writer thread; done (and
    /// durable) once `finishWrites()` returns.
    mutating func write(_ bytes: [UInt8], to relative: String) throws {
        let target = file(relative)
        let parent = AtomicFile.directory(containing: target)
        try makeDirectory(parent)
        try writes.submit(bytes, to: target)
        touchedDirectories.insert(parent)
    }

    /// Waits for every queued write, then makes the renames and new directories durable: one fsync per directory.
    mutating func finishWrites() throws {
        try writes.finish()
        for directory in touchedDirectories.sorted() { AtomicFile.syncDirectory(directory) }
        touchedDirectories.removeAll()
    }

    /// Removes the partial tiles `tile/L/N.p/W` (or `tile/entries/N.p/W`) of a tile whose full file now exists, and
    /// their `.p` directory. Returns how many files went.
    func removePartials(of fullPath: String) -> Int {
        // Only a real directory below the root: a symlinked `.p` (or a symlink on its way) would let the unlinks
        // below reach files outside the tile directory.
        guard exists(directory: fullPath + ".p") else { return 0 }
        let partials = file(fullPath + ".p")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: partials) else { return 0 }
        var removed = 0
        for name in names where !name.hasPrefix(".") {
            if unlink((partials as NSString).appendingPathComponent(name)) == 0 { removed += 1 }
        }
        rmdir(partials)  // fails harmlessly if anything else is left
        return removed
    }

    /// mkdir -p below the root, with mode 0755 for every directory it creates; every component is checked with
    /// lstat, so a symlink anywhere below the root is refused rather than followed.
    private mutating func makeDirectory(_ directory: String) throws {
        if madeDirectories.contains(directory) { return }
        let parent = AtomicFile.directory(containing: directory)
        guard directory.hasPrefix(path + "/") else {
            throw FileError(path: directory, detail: "is outside the tile directory \(path)")
        }
        try makeDirectory(parent)
        var info = stat()
        if lstat(directory, &info) != 0 {
            guard mkdir(directory, Self.directoryMode) == 0 || errno == EEXIST,
                  lstat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR,
                  chmod(directory, Self.directoryMode) == 0 else {
                throw FileError(path: directory, detail: "cannot create the directory: \(systemError())")
            }
            touchedDirectories.insert(parent)  // its new entry is synced with the renames
        } else if (info.st_mode & S_IFMT) == S_IFLNK {
            throw FileError(path: directory, detail: "is a symbolic link; a tile directory holds only real "
                            + "directories and files (remove the link)")
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            throw FileError(path: directory, detail: "exists and is not a directory")
        }
        madeDirectories.insert(directory)
    }

    /// Creates the root (and its missing parents) with mode 0755; the root itself may be reached through symlinks.
    private static func makeRoot(_ root: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw FileError(path: root, detail: "exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: Int(directoryMode)])
        } catch {
            throw FileError(path: root, detail: "cannot create the directory: \(error.localizedDescription)")
        }
        AtomicFile.syncDirectory(AtomicFile.directory(containing: root))
    }

    /// The absolute path with symlinks resolved, for the part that exists (the rest appended as written).
    private static func resolved(_ path: String) -> String {
        var existing = URL(fileURLWithPath: path).standardizedFileURL
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path) && existing.path != "/" {
            rest.insert(existing.lastPathComponent, at: 0)
            existing.deleteLastPathComponent()
        }
        let base = existing.resolvingSymlinksInPath().path
        return rest.isEmpty ? base : (base == "/" ? "" : base) + "/" + rest.joined(separator: "/")
    }
}

/// An exclusive `flock` on the tile directory itself (no lock file to publish) for one publish run, released when
/// the run ends or the process dies.
final class PublishLock {
    private let descriptor: Int32

    init(directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: directory, detail: "cannot open the directory: \(systemError())") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw FileError(path: directory, detail: "another `ledger publish` is writing into this directory")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
