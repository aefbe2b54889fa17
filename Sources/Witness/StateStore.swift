import Dispatch
import Foundation
import LedgerSupport
import MerkleLog
import Sodium
import Synchronization
import Transparency

/// The witness's durable record of every log it cosigned: per origin, the latest cosigned size and root
/// (docs/FORMAT.md, "Witness state").
///
/// `state.log` in the state directory is an append-only text file: a header line, then one line per cosigned
/// checkpoint, `<size> <root base64> <origin base64> <check>`, where `check` is the first 8 hex digits of the
/// SHA-256 of the rest of the line. The last line per origin wins. A crash can tear only the final line (no
/// newline yet): it is dropped on open. Any other malformed line stops the server: the file is hostile input.
///
/// Updates are group-committed: `update` records the new head in memory at once (so the next request for that
/// origin sees it) and suspends until one `write` + `fsync` covering it and everything enqueued before it
/// returns. Concurrent requests share one fsync. A response may only be sent after `awaitDurable` for every update
/// it depends on, so a crash never loses a head a client was told about.
public final class StateStore: Sendable {
    public static let fileName = "state.log"
    static let header = "c2sp.org/tlog-witness state v1"
    /// Origins longer than this are refused (the checkpoint note itself is bounded by the request body).
    static let maxOriginBytes = 1024

    struct Pending {
        var lines: [UInt8] = []
        var waiters: [(UInt64, CheckedContinuation<Void, any Error>)] = []
    }

    struct Memory {
        var heads: [String: WitnessedHead] = [:]
        var enqueued: UInt64 = 0
        var durable: UInt64 = 0
        var pending = Pending()
        var failed: String?
        var recordsInFile = 0
    }

    public let path: String
    private let memory: Mutex<Memory>
    private let file: FileHandleBox
    private let committer = DispatchQueue(label: "witness.state.commit")

    /// Opens (or creates) the state in `directory`, taking an exclusive lock on it (one server per state).
    public init(directory: String) throws {
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) {
            guard mkdir(directory, 0o700) == 0 else {
                throw WitnessError.state(path: directory, detail: "cannot create the state directory")
            }
        } else if !isDir.boolValue {
            throw WitnessError.state(path: directory, detail: "not a directory")
        }
        let lockPath = (directory as NSString).appendingPathComponent("state.lock")
        let lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lockFD >= 0, flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            if lockFD >= 0 { Glibc.close(lockFD) }
            throw WitnessError.state(path: lockPath, detail: "another witness server holds this state (or it cannot be locked)")
        }
        self.lockFD = lockFD
        var (heads, records) = try Self.openAndLoad(path: path)
        // A new state directory's entry and a new state file's entry must be on disk before the first cosignature
        // is answered, or a crash could forget the head the witness cosigned.
        AtomicFile.syncDirectory(directory)
        AtomicFile.syncDirectory(AtomicFile.directory(containing: directory))
        if records > 2 * heads.count + 1024 {
            // Compaction: the latest line per origin, written to a new file that replaces the old one atomically.
            let text = heads.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { String(decoding: Self.line(origin: $0.key, head: $0.value), as: UTF8.self) }.joined()
            try AtomicFile.write(Self.header + "\n" + text, to: path, mode: 0o600)
            (heads, records) = try Self.openAndLoad(path: path)
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw WitnessError.state(path: path, detail: "cannot open for appending") }
        file = FileHandleBox(fd: fd)
        memory = Mutex(Memory(heads: heads, recordsInFile: records))
    }

    private let lockFD: Int32

    deinit {
        Glibc.close(file.fd)
        Glibc.close(lockFD)
    }

    /// Waits for the commit in progress, then releases the state's lock (another server may open it).
    public func close() {
        committer.sync {}
        flock(lockFD, LOCK_UN)
    }

    /// Loads the file (creating it with its header when absent) and cuts a torn last line.
    private static func openAndLoad(path: String) throws -> ([String: WitnessedHead], Int) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw WitnessError.state(path: path, detail: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(fd) }
        let (heads, records, validLength) = try load(fd: fd, path: path)
        guard ftruncate(fd, off_t(validLength)) == 0 else {
            throw WitnessError.state(path: path, detail: "cannot drop a torn last line")
        }
        if validLength == 0 {
            try FileHandleBox(fd: fd).append(Array((header + "\n").utf8), path: path, sync: false)
        }
        guard fsync(fd) == 0 else { throw WitnessError.state(path: path, detail: "cannot fsync") }
        return (heads, records)
    }

    /// The latest cosigned head of `origin` (including updates not yet durable) and the update count it reflects.
    public func snapshot(_ origin: String) -> (head: WitnessedHead?, sequence: UInt64) {
        memory.withLock { ($0.heads[origin], $0.enqueued) }
    }

    public var origins: Int { memory.withLock { $0.heads.count } }

    /// Replaces `origin`'s head with `new` if it is still `expected` (compare-and-swap); returns the update's
    /// sequence number to await, or nil when another request changed the head first (recompute and retry).
    public func update(_ origin: String, expected: WitnessedHead?, new: WitnessedHead) throws -> UInt64? {
        guard origin.utf8.count <= Self.maxOriginBytes else {
            throw WitnessError.state(path: path, detail: "origin longer than \(Self.maxOriginBytes) bytes")
        }
        let line = Self.line(origin: origin, head: new)
        let sequence: UInt64? = memory.withLock { m in
            guard m.heads[origin] == expected else { return nil }
            m.heads[origin] = new
            m.enqueued += 1
            m.pending.lines += line
            return m.enqueued
        }
        if sequence != nil { committer.async { [weak self] in self?.commit() } }
        return sequence
    }

    /// Suspends until every update up to `sequence` is on disk (fsync'd). Throws if the commit failed.
    public func awaitDurable(_ sequence: UInt64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, any Error>? = memory.withLock { m in
                if let failed = m.failed { return .failure(WitnessError.state(path: path, detail: failed)) }
                if m.durable >= sequence { return .success(()) }
                m.pending.waiters.append((sequence, continuation))
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// One group commit: everything pending goes out with one write and one fsync; then its waiters resume.
    private func commit() {
        let (batch, upTo) = memory.withLock { m -> (Pending, UInt64) in
            defer { m.pending = Pending() }
            return (m.pending, m.enqueued)
        }
        guard !batch.lines.isEmpty || !batch.waiters.isEmpty else { return }
        var failure: String? = memory.withLock { $0.failed }
        if failure == nil {
            do { try file.append(batch.lines, path: path, sync: true) } catch { failure = "\(error)" }
        }
        let waiters = memory.withLock { m -> [(UInt64, CheckedContinuation<Void, any Error>)] in
            if let failure { m.failed = failure } else { m.durable = max(m.durable, upTo) }
            m.recordsInFile += batch.lines.count(where: { $0 == 0x0a })
            // After a failure no later commit can succeed: every waiter, including those that arrived meanwhile,
            // gets the error now instead of waiting forever.
            let ready = failure != nil ? m.pending.waiters : m.pending.waiters.filter { $0.0 <= m.durable }
            m.pending.waiters.removeAll { failure != nil || $0.0 <= m.durable }
            return batch.waiters + ready
        }
        for (_, waiter) in waiters {
            if let failure { waiter.resume(throwing: WitnessError.state(path: path, detail: failure)) } else { waiter.resume() }
        }
    }

    // MARK: - File format

    static func line(origin: String, head: WitnessedHead) -> [UInt8] {
        let rest = "\(head.size) \(head.root.base64) \(Base64.encode(Array(origin.utf8)))"
        return Array((rest + " " + check(rest) + "\n").utf8)
    }

    private static func check(_ rest: String) -> String { String(Hash.sha256(Array(rest.utf8)).hex.prefix(8)) }

    /// Reads the whole file: the heads, the number of records, and the length of its valid prefix.
    static func load(fd: Int32, path: String) throws -> ([String: WitnessedHead], Int, Int) {
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            guard n >= 0 else { throw WitnessError.state(path: path, detail: "cannot read") }
            if n == 0 { break }
            bytes += buffer[..<n]
            offset += off_t(n)
        }
        guard let lastNewline = bytes.lastIndex(of: 0x0a) else { return ([:], 0, 0) }  // empty, or a torn header
        var lines = bytes[...lastNewline].split(separator: 0x0a, omittingEmptySubsequences: false).dropLast()
        guard lines.first.map({ String(decoding: $0, as: UTF8.self) }) == header else {
            throw WitnessError.state(path: path, detail: "not a witness state file (bad header)")
        }
        lines = lines.dropFirst()
        var heads = [String: WitnessedHead]()
        for (number, raw) in lines.enumerated() {
            guard let (origin, head) = parse(String(decoding: raw, as: UTF8.self)) else {
                throw WitnessError.state(path: path, detail: "line \(number + 2) is malformed or fails its check")
            }
            heads[origin] = head
        }
        return (heads, lines.count, lastNewline + 1)
    }

    static func parse(_ line: String) -> (String, WitnessedHead)? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 4, check(fields[0..<3].joined(separator: " ")) == fields[3],
              let size = UInt64(fields[0]), String(size) == fields[0], size <= UInt64(Int64.max),
              let root = Hash(base64: String(fields[1])),
              let originBytes = Base64.decode(String(fields[2])),
              let origin = String(validating: originBytes, as: UTF8.self) else { return nil }
        return (origin, WitnessedHead(size: size, root: root))
    }
}

/// The state file's descriptor; written only by the commit queue (and `init`).
final class FileHandleBox: Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }

    func append(_ bytes: [UInt8], path: String, sync: Bool) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            guard n > 0 else {
                if n < 0 && errno == EINTR { continue }
                throw WitnessError.state(path: path, detail: "cannot write: \(String(cString: strerror(errno)))")
            }
            done += n
        }
        if sync && fdatasync(fd) != 0 {
            throw WitnessError.state(path: path, detail: "cannot fsync: \(String(cString: strerror(errno)))")
        }
    }
}
