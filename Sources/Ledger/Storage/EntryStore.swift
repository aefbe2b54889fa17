import LMDB
import LedgerFormat

/// How the `entries` database holds the stored entries (docs/FORMAT.md, "Storage"). The one place that knows:
/// everything else gets an entry by seq, counts them, iterates them or appends them through the functions below.
enum EntryLayout: Sendable, Equatable {
    /// Storage formats 1 and 2: key u64 seq → one stored entry v1.
    case onePerRow
    /// Storage format 3: key u64 seq of the group's first entry → an `EntryGroup` of consecutive stored entries.
    case grouped

    init(storageFormat: UInt32) { self = storageFormat >= Store.groupedEntriesFormat ? .grouped : .onePerRow }

    /// The stored entries one row of `entries` holds, in seq order, as views into `value`. Checks what the row
    /// itself can show: an 8-byte key, a well-formed group, seqs inside RFC 6962's int64 leaf indexes.
    func entries(key: UnsafeRawBufferPointer,
                 value: UnsafeRawBufferPointer) throws(EntryRowError) -> [(seq: UInt64, value: UnsafeRawBufferPointer)] {
        guard let first = UInt64(bigEndianBytes: key) else { throw .keyNotASeq(bytes: key.count) }
        switch self {
        case .onePerRow:
            return [(first, value)]
        case .grouped:
            let entries: [UnsafeRawBufferPointer]
            do { entries = try EntryGroup.split(value) } catch { throw .malformedGroup(key: first, error) }
            try Self.checkSeqs(first: first, count: entries.count)
            return entries.enumerated().map { (first + UInt64($0.offset), $0.element) }
        }
    }

    /// The seqs `first ..< first + count` are RFC 6962 leaf indexes (int64): larger ones can only come from tampering.
    static func checkSeqs(first: UInt64, count: Int) throws(EntryRowError) {
        guard first < UInt64(Int64.max), UInt64(count) <= UInt64(Int64.max) - first else {
            throw .beyondSequenceNumbers(key: first, count: count)
        }
    }
}

/// Why a row of `entries` cannot be read as stored entries.
enum EntryRowError: Error, Equatable, CustomStringConvertible {
    case keyNotASeq(bytes: Int)
    case malformedGroup(key: UInt64, EntryGroup.Failure)
    case beyondSequenceNumbers(key: UInt64, count: Int)

    var description: String {
        switch self {
        case .keyNotASeq(let bytes): return "an entries key is \(bytes) bytes, not an 8-byte sequence number"
        case .malformedGroup(let key, let failure): return "the entry group under key \(key): \(failure)"
        case .beyondSequenceNumbers(let key, let count):
            return "the entries under key \(key) (\(count)) go beyond any possible sequence number"
        }
    }

    var corrupt: LedgerError { .corrupt(description) }
}

extension ReadTransaction {
    /// The stored entry of `seq`, split into leaf and ciphertext views (valid inside the transaction);
    /// nil past the end.
    func storedEntry(_ store: Store, _ seq: UInt64) throws -> (leaf: UnsafeRawBufferPointer,
                                                               ciphertext: UnsafeRawBufferPointer)? {
        guard let value = try storedEntryValue(store, seq) else { return nil }
        do { return try StoredEntry.split(value) } catch { throw LedgerError.corrupt("entry \(seq) is truncated") }
    }

    /// The stored value of `seq` ("Stored entry v1"), a view valid inside the transaction; nil when there is none.
    func storedEntryValue(_ store: Store, _ seq: UInt64) throws -> UnsafeRawBufferPointer? {
        let key = seq.bigEndianBytes
        switch store.entryLayout {
        case .onePerRow:
            return try get(store.entries, key: key)
        case .grouped:
            let cursor = try cursor(store.entries)
            defer { cursor.close() }
            guard let row = try groupRow(holding: key, cursor) else { return nil }
            guard let first = UInt64(bigEndianBytes: row.key) else {
                throw EntryRowError.keyNotASeq(bytes: row.key.count).corrupt
            }
            guard first <= seq else { return nil }
            do { return try EntryGroup.entry(Int(clamping: seq - first), of: row.value) } catch {
                throw EntryRowError.malformedGroup(key: first, error).corrupt
            }
        }
    }

    /// The row of the last group whose key is at most `key` (the group that holds the seq, if any does).
    private func groupRow(holding key: [UInt8], _ cursor: Cursor) throws -> Cursor.Pair? {
        guard let atLeast = try cursor.seek(atLeast: key) else { return try cursor.last() }
        if atLeast.key.elementsEqual(key) { return atLeast }
        return try cursor.previous()
    }

    /// Number of entries: one past the last seq (rows are appended in seq order, so the last key is the largest).
    func entryCount(_ store: Store) throws -> UInt64 {
        let cursor = try cursor(store.entries)
        defer { cursor.close() }
        guard let last = try cursor.last() else { return 0 }
        guard let first = UInt64(bigEndianBytes: last.key) else {
            throw EntryRowError.keyNotASeq(bytes: last.key.count).corrupt
        }
        let count: Int
        switch store.entryLayout {
        case .onePerRow: count = 1
        case .grouped:
            do { count = try EntryGroup.entryCount(last.value) } catch {
                throw EntryRowError.malformedGroup(key: first, error).corrupt
            }
        }
        do { try EntryLayout.checkSeqs(first: first, count: count) } catch { throw error.corrupt }
        return first + UInt64(count)
    }

    /// Calls `body` with every stored entry from `seq` on, in seq order (views valid during the call), until it
    /// returns false. Missing seqs are passed over (verify names them); a row that cannot be read, or a group that
    /// overlaps the one before it, is an error.
    func forEachStoredEntry(_ store: Store, from seq: UInt64,
                            _ body: (UInt64, UnsafeRawBufferPointer) throws -> Bool) throws {
        let cursor = try cursor(store.entries)
        defer { cursor.close() }
        let key = seq.bigEndianBytes
        var row = store.entryLayout == .grouped ? try groupRow(holding: key, cursor) : try cursor.seek(atLeast: key)
        var next: UInt64 = 0  // every seq below has been passed
        while let current = row {
            let entries: [(seq: UInt64, value: UnsafeRawBufferPointer)]
            do { entries = try store.entryLayout.entries(key: current.key, value: current.value) } catch {
                throw error.corrupt
            }
            guard entries[0].seq >= next else {
                throw LedgerError.corrupt("the entries under key \(entries[0].seq) overlap those before them")
            }
            for entry in entries where entry.seq >= seq {
                guard try body(entry.seq, entry.value) else { return }
            }
            next = entries[entries.count - 1].seq + 1
            row = try cursor.next()
        }
    }
}

/// Appends stored entries to `entries` inside one write transaction, in the ledger's layout: `reserve` hands out
/// the bytes of the next entry to fill in (valid until the next call), `finish` writes what is still held back and
/// must be called before the transaction commits.
///
/// One entry per row (formats 1, 2): `reserve` is LMDB's reserve, in the page. Grouped (format 3): the entries are
/// collected in memory into the last group, which is read back first when it has room (so an append rewrites the
/// last group: one value of at most `groupByteBudget` bytes), and each group is written once it is full.
final class EntryAppender {
    /// A group is closed before it would pass this size: 16 overflow pages of 4 KiB less LMDB's 16-byte page header,
    /// so a full group wastes less than one entry's bytes of its last page (docs/PERFORMANCE.md, "Disk").
    static let groupByteBudget = 16 * 4096 - 16
    /// And before it would count more entries than this (small event entries).
    static let maxGroupEntries = 1024

    private let txn: WriteTransaction
    private let db: Database
    private let layout: EntryLayout
    /// The open group: its key, its entries' lengths and bytes, and whether a row for it is stored already.
    private var groupKey: UInt64 = 0
    private var lengths: [UInt32] = []
    private var payload: UnsafeMutableRawBufferPointer
    private var used = 0
    private var groupStored = false
    private var dirty = false
    /// The seq the next entry must have (grouped; nil before the first reserve when the ledger is empty).
    private var nextSeq: UInt64?

    init(_ store: Store, _ txn: WriteTransaction) throws {
        self.txn = txn
        db = store.entries
        layout = store.entryLayout
        payload = .allocate(byteCount: layout == .grouped ? Self.groupByteBudget : 0, alignment: 16)
        if layout == .grouped { try openLastGroup() }
    }

    deinit { payload.deallocate() }

    /// The bytes of entry `seq` (`count` of them, to be filled in by the caller before the next call).
    func reserve(seq: UInt64, count: Int) throws -> UnsafeMutableRawBufferPointer {
        switch layout {
        case .onePerRow:
            return try txn.reserve(db, key: seq.bigEndianBytes, count: count, flags: [.append])
        case .grouped:
            precondition(count <= Int(UInt32.max), "a stored entry of \(count) bytes")
            if let nextSeq, seq != nextSeq {
                throw LedgerError.corrupt("entry \(seq) appended where entry \(nextSeq) comes next")
            }
            if !lengths.isEmpty && !fits(count) { try closeGroup() }
            if lengths.isEmpty { groupKey = seq }
            grow(to: used + count)
            let bytes = UnsafeMutableRawBufferPointer(rebasing: payload[used..<(used + count)])
            lengths.append(UInt32(count))
            used += count
            dirty = true
            nextSeq = seq + 1
            return bytes
        }
    }

    /// Writes the open group (grouped layout): call once, after the last `reserve`, inside the transaction.
    func finish() throws {
        if dirty { try writeGroup() }
    }

    /// Whether an entry of `count` bytes joins the open group rather than starting the next one.
    private func fits(_ count: Int) -> Bool {
        lengths.count < Self.maxGroupEntries
            && EntryGroup.headerByteCount(count: lengths.count + 1) + used + count <= Self.groupByteBudget
    }

    /// Reads the last group back as the open one when it has room for more entries; else the next group starts
    /// after it.
    private func openLastGroup() throws {
        let cursor = try txn.cursor(db)
        defer { cursor.close() }
        guard let last = try cursor.last() else { return }
        let entries: [(seq: UInt64, value: UnsafeRawBufferPointer)]
        do { entries = try layout.entries(key: last.key, value: last.value) } catch { throw error.corrupt }
        nextSeq = entries[entries.count - 1].seq + 1
        let header = EntryGroup.headerByteCount(count: entries.count)
        guard entries.count < Self.maxGroupEntries, last.value.count - header < Self.groupByteBudget else { return }
        groupKey = entries[0].seq
        lengths = entries.map { UInt32($0.value.count) }
        payload.copyMemory(from: UnsafeRawBufferPointer(rebasing: last.value[header...]))
        used = last.value.count - header
        groupStored = true
    }

    /// Stores the open group if it changed; the next entry starts a new group.
    private func closeGroup() throws {
        if dirty { try writeGroup() }
        lengths.removeAll(keepingCapacity: true)
        used = 0
        groupStored = false
    }

    /// Stores the open group: a new row, or the rewrite of the last one.
    private func writeGroup() throws {
        let header = EntryGroup.headerByteCount(count: lengths.count)
        let out = try txn.reserve(db, key: groupKey.bigEndianBytes, count: header + used,
                                  flags: groupStored ? [] : [.append])
        EntryGroup.writeHeader(lengths: lengths, into: out)
        UnsafeMutableRawBufferPointer(rebasing: out[header...])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: payload[..<used]))
        groupStored = true
        dirty = false
    }

    /// Room for `count` bytes in the open group (an entry larger than the budget gets a group of its own).
    private func grow(to count: Int) {
        guard count > payload.count else { return }
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, payload.count * 2), alignment: 16)
        if used > 0 { larger.copyMemory(from: UnsafeRawBufferPointer(rebasing: payload[..<used])) }
        payload.deallocate()
        payload = larger
    }
}
