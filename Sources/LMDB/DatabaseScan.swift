import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Copies of rows read by `DatabaseScan`, in memory the batch owns: valid until `removeAll()` or the batch is
/// released, and readable from several threads while nobody appends.
// `@unchecked Sendable`: one thread fills it and hands it on; the others only read it, after the filling is done.
public final class RowBatch: @unchecked Sendable {
    public typealias Row = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    // Mutated only by the one thread that fills the batch (so no dynamic exclusivity checks, which cost more
    // than the bookkeeping itself on the scan's path).
    @exclusivity(unchecked) public private(set) var rows: [Row] = []
    @exclusivity(unchecked) private var blocks: [UnsafeMutableRawBufferPointer] = []
    @exclusivity(unchecked) private var block = 0
    @exclusivity(unchecked) private var used = 0
    private static let blockSize = 256 << 10

    public init() {}

    deinit { blocks.forEach { $0.deallocate() } }

    /// Forgets the rows; their memory is reused by the next appends.
    public func removeAll() {
        rows.removeAll(keepingCapacity: true)
        block = 0
        used = 0
    }

    /// Space for `count` bytes that stays put until `removeAll()`.
    func space(_ count: Int) -> UnsafeMutableRawPointer {
        while block < blocks.count {
            if used + count <= blocks[block].count {
                defer { used += count }
                return blocks[block].baseAddress! + used
            }
            block += 1
            used = 0
        }
        blocks.append(.allocate(byteCount: max(Self.blockSize, count), alignment: 16))
        used = count
        return blocks[block].baseAddress!
    }

    /// Appends a row whose value `fill` writes straight into the batch (`valueCount` bytes): an overflow value is
    /// read from the file into its place, not through a buffer and a copy.
    func append(key: UnsafeRawBufferPointer, valueCount: Int,
                fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let target = space(key.count + valueCount)
        if let base = key.baseAddress { target.copyMemory(from: base, byteCount: key.count) }
        try fill(UnsafeMutableRawBufferPointer(start: target + key.count, count: valueCount))
        rows.append((UnsafeRawBufferPointer(start: target, count: key.count),
                     UnsafeRawBufferPointer(start: target + key.count, count: valueCount)))
    }

    func append(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let target = space(key.count + value.count)
        if let base = key.baseAddress { target.copyMemory(from: base, byteCount: key.count) }
        if let base = value.baseAddress { (target + key.count).copyMemory(from: base, byteCount: value.count) }
        rows.append((UnsafeRawBufferPointer(start: target, count: key.count),
                     UnsafeRawBufferPointer(start: target + key.count, count: value.count)))
    }
}

/// Reads every row of one named database, in key order, from the snapshot of a read transaction with `pread`,
/// never through the memory map: each page is checked as `StructureCheck` checks it (offsets inside the page
/// and the file, each page referenced once, the right kind at each level, keys and branch separators in
/// order) before anything in it is used. So a damaged page is an error, never a crash, and reading a large database
/// costs no resident memory for its mapped pages: the kernel may keep the file in large folios, and a
/// mapped 4 KiB page then counts its whole folio (up to 2 MiB) towards RSS.
///
/// Obtained from `ReadTransaction.scanCheckingStructure(of:)`; valid while that transaction is open (the
/// transaction pins the snapshot's pages against reuse by writers). Plain databases only (no duplicates, keys
/// in the default order).
public final class DatabaseScan {
    /// Shared by the scans of one snapshot: a page may be referenced only once in the whole file.
    private let check: StructureCheck
    private let db: StructureCheck.DB
    private let name: String
    // The state below is used by one thread at a time, never by overlapping accesses: no dynamic exclusivity
    // checks (they cost more than the bookkeeping itself).
    /// One page buffer per level, root first; `position[l]` is the next node of the page at level `l`.
    @exclusivity(unchecked) private var pages: [UnsafeMutableRawBufferPointer] = []
    /// The page of each level as read: in `pages[l]`, or (leaves) in the read-ahead window until the next leaf.
    @exclusivity(unchecked) private var views: [UnsafeRawBufferPointer] = []
    @exclusivity(unchecked) private var pageNumbers: [UInt64] = []
    @exclusivity(unchecked) private var counts: [Int] = []
    @exclusivity(unchecked) private var position: [Int] = []
    @exclusivity(unchecked) private var order = KeyOrder()
    @exclusivity(unchecked) private var started = false
    /// Leaf pages are read through a window of consecutive pages while that pays (see `ReadAhead`).
    private let readAhead: ReadAhead

    init(check: StructureCheck, db: StructureCheck.DB, name: String) {
        self.check = check
        self.db = db
        self.name = name
        readAhead = ReadAhead(pageSize: check.pageSize)
    }

    deinit {
        pages.forEach { $0.deallocate() }
    }

    /// Pages checked so far, by the structure walk and this scan.
    public var pagesChecked: Int { check.pagesChecked }

    /// Appends copies of up to `limit` further rows to `batch`; returns how many (0 once every row was read).
    public func next(_ limit: Int, into batch: RowBatch) throws -> Int {
        if !started { try start() }
        var appended = 0
        while appended < limit, let level = position.indices.last {
            guard position[level] < counts[level] else {
                popLevel()
                continue
            }
            let index = position[level]
            position[level] += 1
            let page = views[level]
            let node = try check.node(index, of: page, pgno: pageNumbers[level], isLeaf: level + 1 == Int(db.depth),
                                      name: name)
            if level + 1 < Int(db.depth) {
                // the first node's key is empty: it leads to everything below the second's
                if index > 0, !order.separator(UnsafeRawBufferPointer(rebasing: page[node.key])) {
                    throw check.corrupted("\(name): branch page \(pageNumbers[level]) has a separator out of order")
                }
                try pushLevel(node.child)
                continue
            }
            let key = UnsafeRawBufferPointer(rebasing: page[node.key])
            guard order.leafKey(key) else {
                throw check.corrupted("\(name): keys out of order at page \(pageNumbers[level])")
            }
            try append(key: key, node: node, in: page, at: index, to: batch)
            appended += 1
        }
        return appended
    }

    private func start() throws {
        started = true
        guard let root = try check.root(db, name: name) else { return }
        // Duplicates are a cursor's job; integer and reverse keys would need LMDB's other key orders.
        guard db.flags & UInt16(MDB_DUPSORT | MDB_INTEGERKEY | MDB_REVERSEKEY) == 0 else {
            throw LMDBError(code: MDB_INCOMPATIBLE, message: "\(name) is not a plain database: scan it with a cursor",
                            operation: "database scan")
        }
        try pushLevel(root)
    }

    /// Reads and checks page `pgno` as the next level down.
    private func pushLevel(_ pgno: UInt64) throws {
        let level = position.count
        if pages.count == level { pages.append(.allocate(byteCount: check.pageSize, alignment: 16)) }
        let isLeaf = level + 1 == Int(db.depth)
        let (page, count) = try check.readPage(pgno, level: level + 1, db: db, name: name, into: pages[level],
                                               readAhead: isLeaf ? readAhead : nil)
        // LMDB removes a tree's last page when it empties: only a lone root leaf may be empty.
        if StructureCheck.isFixedSize(page) || (count == 0 && (level > 0 || db.depth > 1)) {
            let what = count == 0 ? "empty" : "a page of duplicates"
            throw check.corrupted("\(name): page \(pgno) is \(what) in a plain database")
        }
        views.append(page)
        pageNumbers.append(pgno)
        counts.append(count)
        position.append(0)
    }

    private func popLevel() {
        views.removeLast()
        pageNumbers.removeLast()
        counts.removeLast()
        position.removeLast()
    }

    /// Appends a leaf node's row: its value from the page, or read from its overflow run into the batch.
    private func append(key: UnsafeRawBufferPointer, node: StructureCheck.Node, in page: UnsafeRawBufferPointer,
                        at index: Int, to batch: RowBatch) throws {
        guard node.flags & (StructureCheck.fSubData | StructureCheck.fDupData) == 0 else {
            throw check.corrupted(
                "\(name): page \(pageNumbers.last!) node \(index) holds duplicates in a plain database")
        }
        guard let (first, size) = node.bigData else {
            return batch.append(key: key, value: UnsafeRawBufferPointer(rebasing: page[node.data]))
        }
        try check.overflow(first, size: size, name: name)
        try batch.append(key: key, valueCount: size) { target in
            _ = try check.read(first * UInt64(check.pageSize) + UInt64(StructureCheck.headerSize), size, into: target)
        }
    }
}

extension ReadTransaction {
    /// Checks the structure of this transaction's snapshot as `Environment.checkStructure()` does, every
    /// database walked in full except the named ones, and returns a scan of each of those, in the order named,
    /// which checks their pages as it reads them (so their pages are read once, not twice). Throws
    /// `MDB_CORRUPTED` for damage, and `MDB_NOTFOUND` when a name is not a database.
    public func scanCheckingStructure(of names: [String]) throws -> [DatabaseScan] {
        let t = try handle("database scan")
        let env = mdb_txn_env(t)
        var fd: mdb_filehandle_t = -1
        try check(mdb_env_get_fd(env, &fd), "mdb_env_get_fd")
        var st = MDB_stat()
        try check(mdb_env_stat(env, &st), "mdb_env_stat")
        let checker = StructureCheck(fd: fd, pageSize: Int(st.ms_psize), deep: true, streaming: Set(names))
        try checker.run(fileSize: try sizeOfFile(fd), txnid: UInt64(UInt(bitPattern: mdb_txn_id(t))))  // any bits
        return try names.map { name in
            guard let db = checker.streamedDBs[name] else {
                throw LMDBError(code: MDB_NOTFOUND, message: "no database named \(name)", operation: "database scan")
            }
            return DatabaseScan(check: checker, db: db, name: name)
        }
    }
}
