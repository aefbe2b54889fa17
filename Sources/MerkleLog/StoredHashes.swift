// The stored-hash index: every hash computed while appending record n (its record hash, then the
// root of each perfect subtree that record completes) gets the next sequential index, so a store
// can keep the tree as an append-only array. Same layout as Go's tlog (Crosby & Wallach §3.3).

/// Reads stored hashes by stored-hash index.
public protocol HashReader {
    /// Returns the hashes at `indexes`, one per index, in the same order; or throws.
    /// Callers pass indexes in increasing order except where noted.
    func readHashes(_ indexes: [Int64]) throws -> [Hash]
}

/// A `HashReader` made from a closure.
public struct HashReaderFunc: HashReader {
    public let body: ([Int64]) throws -> [Hash]
    public init(_ body: @escaping ([Int64]) throws -> [Hash]) { self.body = body }
    public func readHashes(_ indexes: [Int64]) throws -> [Hash] { try body(indexes) }
}

/// Maps tree coordinates (level, n) — the n'th node of that level, leaves at level 0 — to the stored-hash index.
@inlinable
public func storedHashIndex(level: Int, n: Int64) -> Int64 {
    precondition(level >= 0 && level < 63 && n >= 0, "storedHashIndex: bad level \(level) or n \(n)")
    // Level L's n'th hash is stored right after level 0's ((n+1)<<L - 1)'th hash, plus the L hashes in between.
    let m = (n + 1) << level - 1
    // Level 0's m'th hash is at m + m/2 + m/4 + ... = 2m - popcount(m).
    return 2 * m - Int64(m.nonzeroBitCount) + Int64(level)
}

/// The inverse of `storedHashIndex(level:n:)`.
@inlinable
public func splitStoredHashIndex(_ index: Int64) -> (level: Int, n: Int64) {
    precondition(index >= 0, "splitStoredHashIndex: negative index \(index)")
    // storedHashIndex(0, n) <= 2n, so the record n that stored this hash is in [index/2, index/2 + log₂ index].
    var n = index / 2
    var indexN = storedHashIndex(level: 0, n: n)
    while true {
        // Record n stores 1 + trailingZeros(n+1) hashes.
        let next = indexN + 1 + Int64((n + 1).trailingZeroBitCount)
        if next > index { break }
        n += 1
        indexN = next
    }
    // The hash was stored with record n: it is one of (0, n), (1, n/2), (2, n/4), ...
    let level = Int(index - indexN)
    return (level, n >> level)
}

/// The number of stored hashes in a tree of n records.
@inlinable
public func storedHashCount(_ n: Int64) -> Int64 {
    precondition(n >= 0, "storedHashCount: negative size \(n)")
    // Every node of every perfect subtree: n + n/2 + n/4 + ... = 2n - popcount(n) (= storedHashIndex(0, n)).
    return 2 * n - Int64(n.nonzeroBitCount)
}

/// The hashes to store when appending record n with hash `recordHash`, to be stored at
/// `storedHashIndex(level: 0, n: n)` and the indexes after it. Reads up to log₂ n earlier hashes.
public func storedHashes(forRecord n: Int64, recordHash: Hash, reader: any HashReader) throws -> [Hash] {
    guard n >= 0 else { throw MerkleError.invalidIndex("storedHashes: negative record \(n)") }
    // Each trailing 1 bit of n completes a subtree, whose left half is an earlier stored hash.
    let m = (n + 1).trailingZeroBitCount
    var indexes = [Int64](repeating: 0, count: m)
    for i in 0..<m {
        indexes[m - 1 - i] = storedHashIndex(level: i, n: n >> i - 1) // increasing order
    }
    let old = try readExactly(reader, indexes)
    var hashes = [recordHash]
    hashes.reserveCapacity(1 + m)
    var h = recordHash
    for i in 0..<m {
        h = nodeHash(old[m - 1 - i], h)
        hashes.append(h)
    }
    return hashes
}

/// Reads `indexes` and checks the reader kept its contract.
internal func readExactly(_ reader: any HashReader, _ indexes: [Int64]) throws -> [Hash] {
    if indexes.isEmpty { return [] }
    let hashes = try reader.readHashes(indexes)
    guard hashes.count == indexes.count else {
        throw MerkleError.readerCount(requested: indexes.count, returned: hashes.count)
    }
    return hashes
}
