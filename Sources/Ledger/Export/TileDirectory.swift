import Foundation
import LedgerSupport

/// The directory a tiled log is published into: public data, so directories 0755 and files 0644 (explicitly: the
/// CLI's umask is 077). Files are replaced atomically; `checkpoint` is written last by the publisher.
struct TileDirectory {
    static let checkpointName = "checkpoint"
    static let directoryMode: mode_t = 0o755
    static let fileMode = 0o644

    let path: String
    /// Directories known to exist (created or found), so each is made once.
    private var madeDirectories = Set<String>()
    /// Directories a file was renamed (or a directory made) into since the last `finishWrites()`.
    private var touchedDirectories = Set<String>()
    private let writes = ConcurrentFileWrites(mode: TileDirectory.fileMode)

    /// Creates `path` if needed and refuses one that is, or is inside, the ledger directory (or holds it), or that
    /// holds files other than a tiled log's.
    init(path: String, ledgerDirectory: String) throws {
        self.path = path
        let resolved = Self.resolved(path), ledger = Self.resolved(ledgerDirectory)
        if resolved == ledger || resolved.hasPrefix(ledger + "/") || ledger.hasPrefix(resolved + "/") {
            throw PublishError.directoryInsideLedger(path: path)
        }
        try makeDirectory(path)
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

    private func fileType(_ relative: String) -> mode_t? {
        var info = stat()
        return stat(file(relative), &info) == 0 ? info.st_mode & S_IFMT : nil
    }

    /// Queues `bytes` for `relative`, written atomically (temp file, fsync, rename) on a writer thread; done (and
    /// durable) once `finishWrites()` returns.
    mutating func write(_ bytes: [UInt8], to relative: String) throws {
        let target = file(relative)
        let parent = (target as NSString).deletingLastPathComponent
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
        let partials = file(fullPath + ".p")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: partials) else { return 0 }
        var removed = 0
        for name in names where !name.hasPrefix(".") {
            if unlink((partials as NSString).appendingPathComponent(name)) == 0 { removed += 1 }
        }
        rmdir(partials)  // fails harmlessly if anything else is left
        return removed
    }

    /// mkdir -p with mode 0755 for every directory it creates.
    private mutating func makeDirectory(_ directory: String) throws {
        if madeDirectories.contains(directory) { return }
        var info = stat()
        if stat(directory, &info) != 0 {
            let parent = (directory as NSString).deletingLastPathComponent
            if !parent.isEmpty && parent != directory { try makeDirectory(parent) }
            guard mkdir(directory, Self.directoryMode) == 0 || errno == EEXIST,
                  chmod(directory, Self.directoryMode) == 0 else {
                throw FileError(path: directory, detail: "cannot create the directory: \(systemError())")
            }
            touchedDirectories.insert(parent.isEmpty ? "." : parent)  // its new entry is synced with the renames
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            throw FileError(path: directory, detail: "exists and is not a directory")
        }
        madeDirectories.insert(directory)
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
