import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Walks LMDB's on-disk B-trees with `pread` (never through the memory map),
/// checking that every page reference, node offset and overflow run stays
/// inside the page or file. LMDB itself trusts its file: a garbage page read
/// through the map can make it read past the end of the file (SIGBUS) or of
/// the map (SIGSEGV). This turns such files into `MDB_CORRUPTED` errors.
///
/// Layout (liblmdb 0.9.x, 64-bit): page header 16 bytes (pgno u64, pad u16,
/// flags u16, lower u16, upper u16 / overflow page count u32), node pointers
/// (u16) from offset 16; node = lo u16, hi u16, flags u16, ksize u16, key,
/// data. MDB_db = pad u32, flags u16, depth u16, branch/leaf/overflow pages,
/// entries, root (u64 each). Meta (at offset 16 of pages 0 and 1): magic u32,
/// version u32, address, mapsize, dbs[FREE, MAIN], last_pg, txnid.
final class StructureCheck {
    // page flags
    static let pBranch: UInt16 = 0x01, pLeaf: UInt16 = 0x02, pOverflow: UInt16 = 0x04
    static let pLeaf2: UInt16 = 0x20, pSubp: UInt16 = 0x40
    // node flags
    static let fBigData: UInt16 = 0x01, fSubData: UInt16 = 0x02, fDupData: UInt16 = 0x04
    /// MDB_REVERSEKEY, MDB_DUPSORT, MDB_INTEGERKEY, MDB_DUPFIXED, MDB_INTEGERDUP, MDB_REVERSEDUP.
    static let persistentFlags: UInt16 = 0x7e, dupSort: UInt16 = 0x04, dupModifiers: UInt16 = 0x70
    /// MDB_REVERSEKEY, MDB_INTEGERKEY, MDB_DUPFIXED: the flags LMDB gives the tree of one key's duplicates.
    static let duplicateTreeFlags: UInt16 = 0x1a
    static let headerSize = 16, nodeSize = 8, dbSize = 48
    static let invalidPage = UInt64.max
    static let magic: UInt32 = 0xBEEF_C0DE

    struct DB {
        var pad: UInt32
        var flags: UInt16
        var depth: UInt16
        var entries: UInt64
        var root: UInt64

        init(_ p: UnsafeRawBufferPointer, at o: Int) {
            pad = p.loadUnaligned(fromByteOffset: o, as: UInt32.self)
            flags = p.loadUnaligned(fromByteOffset: o + 4, as: UInt16.self)
            depth = p.loadUnaligned(fromByteOffset: o + 6, as: UInt16.self)
            entries = p.loadUnaligned(fromByteOffset: o + 32, as: UInt64.self)
            root = p.loadUnaligned(fromByteOffset: o + 40, as: UInt64.self)
        }
    }

    let fd: Int32
    let pageSize: Int
    /// Pages that exist: min(file pages, meta's last page + 1).
    var pageCount: UInt64 = 0
    /// Walk every named database fully (else only the main database and each named root).
    let deep: Bool
    /// Named databases left to `DatabaseScan`s, which check their pages as they read them: their records are kept here.
    let streamed: Set<String>
    private(set) var streamedDBs: [String: DB] = [:]
    private(set) var pagesChecked = 0
    private var visited: [UInt64] = []
    private let buffer: UnsafeMutableRawBufferPointer

    init(fd: Int32, pageSize: Int, deep: Bool, streaming streamed: Set<String> = []) {
        self.fd = fd
        self.pageSize = pageSize
        self.deep = deep
        self.streamed = streamed
        buffer = .allocate(byteCount: pageSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    func corrupted(_ message: String) -> LMDBError {
        LMDBError(code: MDB_CORRUPTED, message: "data file is damaged: \(message)",
                  operation: "mdb_env_open (structure check)")
    }

    /// Reads `count` bytes at `offset` into the checker's buffer.
    private func read(_ offset: UInt64, _ count: Int) throws -> UnsafeRawBufferPointer {
        try read(offset, count, into: buffer)
    }

    /// Reads `count` bytes at `offset` into `target` (at least `count` bytes). With `readAhead`, the bytes may be
    /// returned where they lie in its window instead (valid until its next read).
    func read(_ offset: UInt64, _ count: Int, into target: UnsafeMutableRawBufferPointer,
              readAhead: ReadAhead? = nil) throws -> UnsafeRawBufferPointer {
        if let readAhead, let bytes = try readAhead.bytes(at: offset, count, read: readFile) {
            return UnsafeRawBufferPointer(start: bytes, count: count)
        }
        return try readFile(offset, count, into: target)
    }

    /// `pread` until `count` bytes are read; fewer only at the end of the file when `upTo` (read-ahead).
    private func readFile(_ offset: UInt64, _ count: Int, into target: UnsafeMutableRawBufferPointer,
                          upTo: Bool = false) throws -> UnsafeRawBufferPointer {
        var done = 0
        while done < count {
            let n = pread(fd, target.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw LMDBError(code: errno, operation: "pread")
            }
            if n == 0, upTo { break }
            if n == 0 { throw corrupted("unexpected end of file at offset \(offset + UInt64(done))") }
            done += n
        }
        return UnsafeRawBufferPointer(start: target.baseAddress, count: done)
    }

    /// Checks the file against the meta page with transaction id `txnid`
    /// (or the newest meta when nil).
    func run(fileSize: Int, txnid: UInt64?) throws {
        var best: (txnid: UInt64, free: DB, main: DB, lastPage: UInt64)?
        for m in 0..<2 {
            let p = try read(UInt64(m * pageSize), Self.headerSize + 152)
            guard p.loadUnaligned(fromByteOffset: 16, as: UInt32.self) == Self.magic else { continue }
            let id = p.loadUnaligned(fromByteOffset: 16 + 128, as: UInt64.self)
            let last = p.loadUnaligned(fromByteOffset: 16 + 120, as: UInt64.self)
            let candidate = (id, DB(p, at: 16 + 24), DB(p, at: 16 + 72), last)
            if let want = txnid {
                if id == want { best = candidate }
            } else if best == nil || id > best!.txnid {
                best = candidate
            }
        }
        guard let meta = best else { throw corrupted("no valid meta page") }
        pageCount = min(UInt64(fileSize / pageSize), meta.lastPage &+ 1)
        visited = [UInt64](repeating: 0, count: Int(pageCount / 64) + 1)
        try tree(meta.free, descend: deep, isMain: false, name: "free list")
        try tree(meta.main, descend: true, isMain: true, name: "main")
    }

    /// The root page of a tree described by `db`, or nil for an empty tree (depth checked).
    func root(_ db: DB, name: String) throws -> UInt64? {
        if db.root == Self.invalidPage {
            guard db.depth == 0 else { throw corrupted("\(name): empty tree with depth \(db.depth)") }
            return nil
        }
        guard db.depth >= 1, db.depth <= 32 else { throw corrupted("\(name): depth \(db.depth)") }
        return db.root
    }

    /// Checks one B-tree described by `db`.
    private func tree(_ db: DB, descend: Bool, isMain: Bool, name: String) throws {
        guard let root = try root(db, name: name) else { return }
        var order = Self.keyOrder(of: db)
        try page(root, level: 1, db: db, descend: descend, isMain: isMain, name: name, order: &order)
    }

    /// A key order check for `db`, or nil when its keys are integers or reversed (another comparison).
    static func keyOrder(of db: DB) -> KeyOrder? {
        db.flags & UInt16(MDB_INTEGERKEY | MDB_REVERSEKEY) == 0 ? KeyOrder() : nil
    }

    private func markVisited(_ pgno: UInt64, _ name: String) throws {
        guard pgno >= 2, pgno < pageCount else { throw corrupted("\(name): page \(pgno) outside 2..<\(pageCount)") }
        let (w, b) = (Int(pgno / 64), pgno % 64)
        guard visited[w] & (1 << b) == 0 else { throw corrupted("\(name): page \(pgno) referenced twice") }
        visited[w] |= 1 << b
        pagesChecked += 1
    }

    /// Reads page `pgno` at `level` (1 = root) of a tree of `db.depth` levels into `target` (one page; or into
    /// `readAhead`'s window, where it stays valid until that reads again), once only, and checks its header and
    /// bounds. Returns the page and its node count.
    func readPage(_ pgno: UInt64, level: Int, db: DB, name: String, into target: UnsafeMutableRawBufferPointer,
                  readAhead: ReadAhead? = nil) throws -> (page: UnsafeRawBufferPointer, count: Int) {
        try markVisited(pgno, name)
        let p = try read(pgno * UInt64(pageSize), pageSize, into: target, readAhead: readAhead)
        guard p.loadUnaligned(fromByteOffset: 0, as: UInt64.self) == pgno else {
            let claimed = p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            throw corrupted("\(name): page \(pgno) says it is page \(claimed)")
        }
        let flags = p.loadUnaligned(fromByteOffset: 10, as: UInt16.self)
        let isLeafLevel = level == Int(db.depth)
        let kind = flags & (Self.pBranch | Self.pLeaf | Self.pOverflow)
        guard kind == (isLeafLevel ? Self.pLeaf : Self.pBranch) else {
            throw corrupted("\(name): page \(pgno) has flags \(flags) at level \(level) of \(db.depth)")
        }
        let count = try bounds(p, limit: pageSize, what: "\(name): page \(pgno)")
        if flags & Self.pLeaf2 != 0 {
            guard isLeafLevel, Self.headerSize + count * Int(db.pad) <= pageSize else {
                throw corrupted("\(name): fixed-size leaf page \(pgno) overflows")
            }
        }
        return (p, count)
    }

    /// True for a page of fixed-size keys (`P_LEAF2`, duplicates of a dupFixed database): it has no nodes.
    static func isFixedSize(_ p: UnsafeRawBufferPointer) -> Bool {
        p.loadUnaligned(fromByteOffset: 10, as: UInt16.self) & pLeaf2 != 0
    }

    /// One node of a checked page: its flags, its key's offsets, and either a child page (branch), the
    /// offsets of its data in the page, or the first page of the overflow run holding it (`F_BIGDATA`).
    struct Node {
        var flags: UInt16
        var key: Range<Int>
        var child: UInt64 = 0
        var data: Range<Int> = 0..<0
        var bigData: (first: UInt64, size: Int)?
    }

    /// Node `i` of a page read by `readPage`, with its offsets checked against the page.
    func node(_ i: Int, of p: UnsafeRawBufferPointer, pgno: UInt64, isLeaf: Bool, name: String) throws -> Node {
        let ptr = Int(p.loadUnaligned(fromByteOffset: Self.headerSize + 2 * i, as: UInt16.self))
        guard ptr + Self.nodeSize <= pageSize else { throw corrupted("\(name): page \(pgno) node \(i) offset \(ptr)") }
        let lo = UInt64(p.loadUnaligned(fromByteOffset: ptr, as: UInt16.self))
        let hi = UInt64(p.loadUnaligned(fromByteOffset: ptr + 2, as: UInt16.self))
        let nflags = p.loadUnaligned(fromByteOffset: ptr + 4, as: UInt16.self)
        let ksize = Int(p.loadUnaligned(fromByteOffset: ptr + 6, as: UInt16.self))
        let data = ptr + Self.nodeSize + ksize
        var node = Node(flags: nflags, key: (ptr + Self.nodeSize)..<data)
        guard isLeaf else {
            // branch: the child's page number is stored in lo, hi and flags (48 bits)
            guard data <= pageSize else { throw corrupted("\(name): branch page \(pgno) node \(i) overflows") }
            node.child = lo | hi << 16 | UInt64(nflags) << 32
            return node
        }
        guard nflags & ~(Self.fBigData | Self.fSubData | Self.fDupData) == 0 else {
            throw corrupted("\(name): leaf page \(pgno) node \(i) has unknown flags \(nflags)")
        }
        let dsize = Int(lo | hi << 16)
        if nflags & Self.fBigData != 0 {
            guard data + 8 <= pageSize else { throw corrupted("\(name): leaf page \(pgno) node \(i) overflows") }
            node.bigData = (p.loadUnaligned(fromByteOffset: data, as: UInt64.self), dsize)
            return node
        }
        guard data + dsize <= pageSize else { throw corrupted("\(name): leaf page \(pgno) node \(i) overflows") }
        node.data = data..<(data + dsize)
        return node
    }

    /// Checks page `pgno` at `level` (1 = root) of a tree of `db.depth` levels, and below it when `descend`
    /// (then also the order of its keys, unless `order` is nil).
    private func page(_ pgno: UInt64, level: Int, db: DB, descend: Bool, isMain: Bool, name: String,
                      order: inout KeyOrder?) throws {
        let (p, count) = try readPage(pgno, level: level, db: db, name: name, into: buffer)
        if Self.isFixedSize(p) {
            guard descend else { return }
            return try fixedSizeKeys(p, count: count, size: Int(db.pad), pgno: pgno, name: name, order: &order)
        }
        guard level == Int(db.depth) else {
            return try branchPage(p, count: count, pgno: pgno, level: level, db: db, descend: descend,
                                  isMain: isMain, name: name, order: &order)
        }
        var subtrees: [(DB, String)] = []
        for i in 0..<count {
            if let subtree = try leafNode(i, of: p, pgno: pgno, dbFlags: db.flags, descend: descend, isMain: isMain,
                                          name: name,
                                          order: &order) {
                subtrees.append(subtree)
            }
        }
        for (sub, subName) in subtrees {
            // named databases: full walk when deep, root page only otherwise
            try tree(sub, descend: deep, isMain: false, name: subName)
        }
    }

    /// The keys of a page of duplicates of a dupFixed database: `size` bytes each, in order.
    private func fixedSizeKeys(_ p: UnsafeRawBufferPointer, count: Int, size: Int, pgno: UInt64, name: String,
                               order: inout KeyOrder?) throws {
        for i in 0..<count {
            let start = Self.headerSize + i * size
            let key = UnsafeRawBufferPointer(rebasing: p[start..<(start + size)])
            guard order?.leafKey(key) ?? true else { throw corrupted("\(name): keys out of order at page \(pgno)") }
        }
    }

    /// A branch page: its children, each after the separator before it (when `descend`; else only their numbers).
    private func branchPage(_ p: UnsafeRawBufferPointer, count: Int, pgno: UInt64, level: Int, db: DB, descend: Bool,
                            isMain: Bool, name: String, order: inout KeyOrder?) throws {
        var children: [(page: UInt64, separator: [UInt8]?)] = []
        for i in 0..<count {
            let node = try node(i, of: p, pgno: pgno, isLeaf: false, name: name)
            // the first node's key is empty: it leads to everything below the second's (copied: the buffer is reused)
            children.append((node.child, i == 0 ? nil : Array(UnsafeRawBufferPointer(rebasing: p[node.key]))))
        }
        guard descend else {
            // light check: the children must at least be existing pages
            for child in children where child.page < 2 || child.page >= pageCount {
                throw corrupted("\(name): child page \(child.page) outside 2..<\(pageCount)")
            }
            return
        }
        for child in children {
            if let separator = child.separator {
                let fits = separator.withUnsafeBytes { order?.separator($0) ?? true }
                guard fits else { throw corrupted("\(name): branch page \(pgno) has a separator out of order") }
            }
            try page(child.page, level: level + 1, db: db, descend: descend, isMain: isMain, name: name, order: &order)
        }
    }

    /// Node `i` of a leaf page: its key's order, its overflow run, its inline duplicates; a sub-database it holds
    /// is returned to be walked after the page (or left to a `DatabaseScan`, for a streamed one).
    private func leafNode(_ i: Int, of p: UnsafeRawBufferPointer, pgno: UInt64, dbFlags: UInt16, descend: Bool,
                          isMain: Bool, name: String, order: inout KeyOrder?) throws -> (DB, String)? {
        let node = try node(i, of: p, pgno: pgno, isLeaf: true, name: name)
        // Duplicates only in a database whose flags say so: LMDB allocates a cursor's duplicate cursor from the
        // database's flags, and follows a duplicates node through it unchecked (a null write; found by ledger-file).
        guard node.flags & Self.fDupData == 0 || dbFlags & Self.dupSort != 0 else {
            throw corrupted("\(name): leaf page \(pgno) node \(i) holds duplicates in a database without them")
        }
        guard order?.leafKey(UnsafeRawBufferPointer(rebasing: p[node.key])) ?? true || !descend else {
            throw corrupted("\(name): keys out of order at page \(pgno)")
        }
        if let (first, size) = node.bigData {
            try overflow(first, size: size, name: name)
            // `overflow` reused the buffer `p` views: re-read this page for the remaining nodes
            _ = try read(pgno * UInt64(pageSize), pageSize)
            return nil
        }
        if node.flags & Self.fSubData != 0 {
            guard node.data.count == Self.dbSize else {
                throw corrupted("\(name): leaf page \(pgno) node \(i) bad sub-database record")
            }
            let sub = DB(p, at: node.data.lowerBound)
            try checkFlags(sub, duplicates: node.flags & Self.fDupData != 0, name: "\(name): leaf page \(pgno) node \(i)")
            let subName = isMain && node.flags & Self.fDupData == 0
                ? String(decoding: UnsafeRawBufferPointer(rebasing: p[node.key]), as: UTF8.self)
                : "\(name) duplicates"
            guard isMain, streamed.contains(subName) else { return (sub, subName) }
            streamedDBs[subName] = sub  // checked page by page as a `DatabaseScan` reads it
        } else if node.flags & Self.fDupData != 0 {
            try subPage(p, at: node.data.lowerBound, size: node.data.count,
                        name: "\(name): leaf page \(pgno) node \(i)")
        }
        return nil
    }

    /// A database record's flags. A named database: only LMDB's persistent flags, the duplicate modifiers only with
    /// MDB_DUPSORT. The tree of one key's duplicates: only what LMDB gives it (MDB_DUPFIXED, and MDB_INTEGERKEY or
    /// MDB_REVERSEKEY for integer or reversed duplicates), never duplicates of its own.
    private func checkFlags(_ db: DB, duplicates: Bool, name: String) throws {
        let valid = duplicates
            ? db.flags & ~Self.duplicateTreeFlags == 0
            : db.flags & ~Self.persistentFlags == 0 && (db.flags & Self.dupModifiers == 0 || db.flags & Self.dupSort != 0)
        guard valid else { throw corrupted("\(name): database flags \(db.flags)") }
    }

    /// Checks lower/upper of a page (or sub-page) of `limit` bytes; returns the key count.
    private func bounds(_ p: UnsafeRawBufferPointer, limit: Int, what: @autoclosure () -> String,
                        base: Int = 0) throws -> Int {
        let lower = Int(p.loadUnaligned(fromByteOffset: base + 12, as: UInt16.self))
        let upper = Int(p.loadUnaligned(fromByteOffset: base + 14, as: UInt16.self))
        guard lower >= Self.headerSize, lower <= upper, upper <= limit, (lower - Self.headerSize) % 2 == 0 else {
            throw corrupted("\(what()): lower \(lower) upper \(upper)")
        }
        // LMDB frees a tree's last empty page and never writes one: an empty page in a tree is damage, and a cursor
        // moved to its last node would read node index 65535, far outside the map (SIGBUS; found by ledger-file).
        guard lower > Self.headerSize else { throw corrupted("\(what()): holds no node") }
        return (lower - Self.headerSize) / 2
    }

    /// An inline page of duplicates inside a leaf node.
    private func subPage(_ p: UnsafeRawBufferPointer, at base: Int, size: Int, name: String) throws {
        guard size >= Self.headerSize else { throw corrupted("\(name): sub-page too small") }
        let flags = p.loadUnaligned(fromByteOffset: base + 10, as: UInt16.self)
        // LMDB positions a cursor on an inline sub-page without checking its flags, then asserts (aborts) that it
        // is a leaf: a sub-page that is not a plain or fixed-size leaf is damage.
        guard flags & Self.pLeaf != 0, flags & (Self.pBranch | Self.pOverflow) == 0 else {
            throw corrupted("\(name): sub-page flags \(flags) are not a leaf's")
        }
        let count = try bounds(p, limit: size, what: name, base: base)
        if flags & Self.pLeaf2 != 0 {
            let ksize = Int(p.loadUnaligned(fromByteOffset: base + 8, as: UInt16.self))
            guard Self.headerSize + count * ksize <= size else {
                throw corrupted("\(name): fixed-size sub-page overflows")
            }
            return
        }
        for i in 0..<count {
            let ptr = Int(p.loadUnaligned(fromByteOffset: base + Self.headerSize + 2 * i, as: UInt16.self))
            guard ptr + Self.nodeSize <= size else { throw corrupted("\(name): sub-page node \(i)") }
            let ksize = Int(p.loadUnaligned(fromByteOffset: base + ptr + 6, as: UInt16.self))
            guard ptr + Self.nodeSize + ksize <= size else { throw corrupted("\(name): sub-page node \(i) overflows") }
        }
    }

    /// An overflow run holding a value of `size` bytes.
    func overflow(_ first: UInt64, size: Int, name: String) throws {
        try markVisited(first, name)
        let p = try read(first * UInt64(pageSize), Self.headerSize)
        let flags = p.loadUnaligned(fromByteOffset: 10, as: UInt16.self)
        let pages = UInt64(p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard p.loadUnaligned(fromByteOffset: 0, as: UInt64.self) == first, flags & Self.pOverflow != 0,
              pages >= 1, first + pages <= pageCount,
              size <= Int(pages) * pageSize - Self.headerSize else {
            throw corrupted("\(name): overflow page \(first) (\(pages) pages for \(size) bytes)")
        }
    }
}

/// One scan's window of consecutive pages, filled by one `pread`: the entries of a bulk import lie in file order,
/// most pages of a stretch of the file belonging to them, so one system call serves the next 32 pages instead of
/// one. A scan whose pages lie scattered (the windows serve few pages each) stops reading ahead. Bytes are only
/// ever taken from a window for pages of the read transaction's snapshot, which no writer may change while the
/// transaction is open.
public final class ReadAhead {
    private static let windowPages = 32
    /// Read ahead while the windows serve at least this many pages each on average (after the first few).
    private static let minimumPagesPerWindow = 8, trialWindows = 4
    private let window: UnsafeMutableRawBufferPointer
    private var offset: UInt64 = 0
    private var count = 0
    private var windowsFilled = 0, pagesServed = 0

    init(pageSize: Int) {
        window = .allocate(byteCount: pageSize * Self.windowPages, alignment: 16)
    }

    deinit { window.deallocate() }

    typealias FileRead = (UInt64, Int, UnsafeMutableRawBufferPointer, Bool) throws -> UnsafeRawBufferPointer

    private var isWorthwhile: Bool {
        windowsFilled < Self.trialWindows || pagesServed >= windowsFilled * Self.minimumPagesPerWindow
    }

    /// `length` bytes at `offset` from the window, filled first by `read` (up to the end of the file) when it does
    /// not hold them; nil when reading ahead is not worthwhile or the file ends first (the caller reads itself).
    func bytes(at offset: UInt64, _ length: Int, read: FileRead) throws -> UnsafeRawPointer? {
        if offset >= self.offset, offset + UInt64(length) <= self.offset + UInt64(count) {
            pagesServed += 1
            return UnsafeRawPointer(window.baseAddress! + Int(offset - self.offset))
        }
        guard isWorthwhile else { return nil }
        self.offset = offset
        count = 0
        count = try read(offset, window.count, window, true).count
        windowsFilled += 1
        guard count >= length else { return nil }
        pagesServed += 1
        return UnsafeRawPointer(window.baseAddress!)
    }
}
