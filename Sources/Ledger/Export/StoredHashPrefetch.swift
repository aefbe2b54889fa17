import Foundation
import LMDB
import MerkleLog

/// Walks a range of the `tree` database on several threads, each in its own read transaction, while the publisher
/// reads the same range in order: with a cold page cache the tree's pages, scattered through the data file, then
/// arrive with several disk reads in flight instead of one page fault at a time. Only touches pages; reads nothing
/// the publisher relies on.
final class StoredHashPrefetch: @unchecked Sendable {
    // @unchecked: the store is used through read transactions only; `group` is thread-safe.
    static let threadCount = 8
    /// Below this many stored hashes the publisher's own scan is quick enough.
    static let minimumCount: Int64 = 1 << 16

    private let store: Store
    private let group = DispatchGroup()

    /// Starts walking stored-hash indexes `range` (nothing if the range is small).
    init(store: Store, range: Range<Int64>) {
        self.store = store
        guard range.count >= Self.minimumCount else { return }
        let share = (Int64(range.count) + Int64(Self.threadCount) - 1) / Int64(Self.threadCount)
        for start in stride(from: range.lowerBound, to: range.upperBound, by: Int(share)) {
            let rows = min(share, range.upperBound - start)
            group.enter()
            Thread { [self] in
                walk(from: start, rows: rows)
                group.leave()
            }.start()
        }
    }

    /// Waits for the walkers (their read transactions end before the publish's does).
    func finish() { group.wait() }

    private func walk(from start: Int64, rows: Int64) {
        _ = try? store.environment.read { txn in
            let cursor = try txn.cursor(store.tree)
            var pair = try cursor.seek(atLeast: UInt64(start).bigEndianBytes)
            var left = rows
            while pair != nil && left > 1 {
                pair = try cursor.next()
                left -= 1
            }
        }
    }
}
