#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import LMDB

/// What a compaction did (docs/RETENTION.md, "Compaction").
public struct CompactionSummary: Sendable {
    public let bytesBefore: Int
    public let bytesAfter: Int
    /// Destroyed byte strings searched for in every file of the ledger directory afterwards (none was found, or the
    /// compaction would have failed).
    public let patternsChecked: Int
    public let filesSearched: Int
    public let seconds: Double
}

/// Rewrites the ledger's environment row by row into a fresh data file and swaps it in atomically. LMDB is
/// copy-on-write: a deleted or overwritten value stays in freed pages, and even in the unused middle of a live page,
/// until reused; `mdb_env_copy2` copies live pages whole. A logical copy writes only live rows into zeroed pages, so
/// nothing deleted survives it.
enum Compaction {
    /// Every named database the engine writes, with its flags; a data file holding any other is refused.
    static let databases: [(name: String, flags: DatabaseFlags)] = [
        ("meta", []), (Store.entriesName, []), (Store.treeName, []), ("checkpoints", []), ("keys", []),
        ("matterKeys", []), ("matters", [.dupSort, .dupFixed]), (Store.sourcesName, []), ("access", []), ("events", []),
        ("witnesses", []),
        (Store.stagedSourcesName, []),
    ]
    static let scratchPrefix = ".compact-"

    /// Compacts the ledger in `directory`, which no process (this one included) may have open, then searches every
    /// file of the directory for `mustNotContain` (the destroyed bytes) and fails if any is found.
    static func run(directory: String, mustNotContain patterns: [[UInt8]],
                    holding held: LedgerLock? = nil) throws -> CompactionSummary {
        let started = DispatchTime.now()
        guard let lock = try held ?? LedgerLock.exclusive(directory: directory) else { throw busy }
        defer { lock.release() }
        try requireNoOtherLMDBUser(directory)
        removeStaleScratch(in: directory)
        let dataPath = (directory as NSString).appendingPathComponent("data.mdb")
        let before = Store.fileSize(dataPath)
        let scratch = try makeScratchDirectory(in: directory)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try copyRows(from: directory, to: scratch, mapSize: max(Store.initialMapSize, before * 2))
        try swapIn((scratch as NSString).appendingPathComponent("data.mdb"), over: dataPath, directory: directory)
        let search = try ByteSearch.files(in: directory, for: patterns)
        if let found = search.found {
            throw LedgerError.corrupt("destroyed key bytes are still present in \(found) after compaction")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        return CompactionSummary(bytesBefore: before, bytesAfter: Store.fileSize(dataPath), patternsChecked: patterns.count,
                                 filesSearched: search.files, seconds: seconds)
    }

    static let busy = LedgerError.invalidArgument(
        "another process has this ledger open (an import, a verify, a server?): stop it and run `ledger compact`")

    /// LMDB users that are not this program (mdb_stat, another tool) hold a shared lock on lock.mdb's first byte.
    private static func requireNoOtherLMDBUser(_ directory: String) throws {
        let fd = open((directory as NSString).appendingPathComponent("lock.mdb"), O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return }  // no lock file: nobody has the environment open
        defer { close(fd) }  // no environment is open in this process, so this drops no lock of ours
        var probe = flock()
        probe.l_type = Int16(F_WRLCK)
        probe.l_whence = Int16(SEEK_SET)
        probe.l_start = 0
        probe.l_len = 1
        guard fcntl(fd, F_SETLK, &probe) == 0 else { throw busy }
        probe.l_type = Int16(F_UNLCK)
        _ = fcntl(fd, F_SETLK, &probe)
    }

    /// Scratch directories a compaction killed half-way left behind (holding only live rows, but a whole copy).
    private static func removeStaleScratch(in directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(scratchPrefix) {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
    }

    private static func makeScratchDirectory(in directory: String) throws -> String {
        let path = (directory as NSString).appendingPathComponent(scratchPrefix + UUID().uuidString)
        guard mkdir(path, 0o700) == 0 else {
            throw LedgerError.io(path: path, detail: "cannot create the compaction directory")
        }
        return path
    }

    /// Copies every row of every database, in key order, into a new environment in `target`.
    private static func copyRows(from source: String, to target: String, mapSize: Int) throws {
        try LedgerError.wrap("compact the ledger") {
            let old = try Environment(path: source, maxDatabases: 16, mapSize: 0, flags: [.readOnly, .noReadAhead])
            defer { old.close() }
            let new = try Environment(path: target, maxDatabases: 16, mapSize: mapSize, flags: [.noReadAhead])
            defer { new.close() }
            let present = try namedDatabases(old)
            if let unknown = present.first(where: { name in !databases.contains { $0.name == name } }) {
                throw LedgerError.corrupt("the data file holds a database the engine never writes ('\(unknown)')")
            }
            for (name, flags) in databases where present.contains(name) {
                let from = try old.openDatabase(name, flags: flags.subtracting([.create]))
                let to = try new.openDatabase(name, flags: flags.union([.create]))
                let skip = name == "meta" ? MetaKey.scrubPending.key : nil  // the copy is the scrub
                try old.read { txn in
                    try new.write { out in
                        try copy(txn, from, into: out, to, sorted: !flags.contains(.dupSort), skipping: skip)
                    }
                }
            }
            try new.sync(force: true)
        }
    }

    /// The names in the main database (each a named database).
    private static func namedDatabases(_ environment: Environment) throws -> Set<String> {
        let main = try environment.openDatabase("")
        return try environment.read { txn in
            let cursor = try txn.cursor(main)
            defer { cursor.close() }
            var names = Set<String>()
            var row = try cursor.first()
            while let current = row {
                names.insert(String(decoding: current.key, as: UTF8.self))
                row = try cursor.next()
            }
            return names
        }
    }

    private static func copy(_ txn: ReadTransaction, _ from: Database, into out: WriteTransaction, _ to: Database,
                             sorted: Bool, skipping skipped: [UInt8]?) throws {
        let cursor = try txn.cursor(from)
        defer { cursor.close() }
        var row = try cursor.first()
        while let current = row {
            if let skipped, current.key.elementsEqual(skipped) {
                row = try cursor.next()
                continue
            }
            try out.put(to, key: current.key, value: current.value, flags: sorted ? [.append] : [])
            row = try cursor.next()
        }
    }

    /// rename(2) of the new data file over the old one (atomic), made durable; the old lock file goes too (its reader
    /// table and transaction id describe the old file; the next opener initialises a new one).
    private static func swapIn(_ newData: String, over dataPath: String, directory: String) throws {
        let fd = open(newData, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            if fd >= 0 { close(fd) }
            throw LedgerError.io(path: newData, detail: "cannot flush the compacted data file")
        }
        close(fd)
        guard rename(newData, dataPath) == 0 else {
            throw LedgerError.io(path: dataPath, detail: "cannot replace the data file with the compacted one")
        }
        unlink((directory as NSString).appendingPathComponent("lock.mdb"))
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}

/// Searches files for any of many byte strings at once (the destroyed key bytes after a compaction).
enum ByteSearch {
    /// The bytes of each pattern searched for: its last 32 (every stored sealed key ends in ciphertext and tag, which
    /// appear nowhere else).
    static let windowLength = 32

    /// The first file (under `directory`, recursively) holding a pattern's window, and how many files were searched.
    static func files(in directory: String, for patterns: [[UInt8]]) throws -> (found: String?, files: Int) {
        let windows = patterns.filter { $0.count >= windowLength }.map { Array($0.suffix(windowLength)) }
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return (nil, 0) }
        var searched = 0
        let index = WindowIndex(windows)
        for case let relative as String in enumerator {
            let path = (directory as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            searched += 1
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LedgerError.io(path: path, detail: "cannot read the file to check the destroyed bytes are gone")
            }
            if index.occurs(in: data) { return (relative, searched) }
        }
        return (nil, searched)
    }

    /// Windows by their first 8 bytes, behind a 2^24-bit filter on their first 3 bytes: one table lookup per file
    /// offset, and a set lookup only on the rare filter hit.
    struct WindowIndex {
        private var filter = [UInt64](repeating: 0, count: (1 << 24) / 64)
        private var windows: [UInt64: [[UInt8]]] = [:]

        init(_ list: [[UInt8]]) {
            for window in list {
                let bucket = Int(window[0]) << 16 | Int(window[1]) << 8 | Int(window[2])
                filter[bucket >> 6] |= 1 << UInt64(bucket & 63)
                windows[Self.prefix(window), default: []].append(window)
            }
        }

        func occurs(in data: Data) -> Bool {
            guard !windows.isEmpty else { return false }
            return data.withUnsafeBytes { bytes in
                guard bytes.count >= ByteSearch.windowLength else { return false }
                for offset in 0...(bytes.count - ByteSearch.windowLength) {
                    let bucket = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
                    guard filter[bucket >> 6] & (1 << UInt64(bucket & 63)) != 0 else { continue }
                    let candidate = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + ByteSearch.windowLength])
                    if let matches = windows[Self.prefix(candidate)],
                       matches.contains(where: { $0.elementsEqual(candidate) }) { return true }
                }
                return false
            }
        }

        private static func prefix<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
            bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
}
