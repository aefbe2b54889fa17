import LMDB
import LedgerFormat
import XCTest

extension WriteTransaction {
    /// Edits the stored entry `seq` of a closed ledger's `entries` database in place, in any storage format: the row
    /// under `seq` (formats 1 and 2), or the entry inside the group that holds it (format 3, `grouped`), whose header
    /// then states the entry's new length.
    func editStoredEntry(_ entries: Database, seq: UInt64, grouped: Bool, file: StaticString = #filePath,
                         line: UInt = #line, _ edit: (inout [UInt8]) throws -> Void) throws {
        guard grouped else {
            var value = try XCTUnwrap(try get(entries, key: seq.bigEndianBytes).map { Array($0) }, "no entry \(seq)",
                                      file: file, line: line)
            try edit(&value)
            return try put(entries, key: seq.bigEndianBytes, value: value)
        }
        let cursor = try self.cursor(entries)
        var row = try cursor.seek(atLeast: seq.bigEndianBytes)
        if row.map({ UInt64(bigEndianBytes: $0.key) != seq }) ?? true {
            row = row == nil ? try cursor.last() : try cursor.previous()
        }
        let found = try XCTUnwrap(row, "no group holds entry \(seq)", file: file, line: line)
        let key = Array(found.key), first = try XCTUnwrap(UInt64(bigEndianBytes: found.key), file: file, line: line)
        var group = try EntryGroup.split(found.value).map { Array($0) }
        cursor.close()
        let index = try XCTUnwrap(Int(exactly: seq - first).flatMap { $0 < group.count ? $0 : nil },
                                  "no group holds entry \(seq)", file: file, line: line)
        try edit(&group[index])
        try put(entries, key: key, value: EntryGroup.encode(group))
    }

    /// Whether this ledger stores its entries in groups (`meta/format` 3 or later).
    func storesEntryGroups(_ meta: Database) throws -> Bool {
        let format = try get(meta, key: Array("format".utf8)).flatMap { UInt32(bigEndianBytes: $0) } ?? 1
        return format >= 3
    }
}
