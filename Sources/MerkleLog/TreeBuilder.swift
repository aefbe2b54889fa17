// A streaming, constant-memory tree builder: it keeps only the right edge of the tree,
// the roots of its perfect subtrees (one per set bit of size), largest (leftmost) first.

public struct TreeBuilder: Sendable {
    @usableFromInline internal var _size: Int64
    @usableFromInline internal var edge: [Hash]

    /// The number of records appended so far.
    public var size: Int64 { _size }

    /// The roots of the perfect subtrees that make up the tree, largest (leftmost) first.
    public var rightEdge: [Hash] { edge }

    /// The empty tree.
    public init() {
        _size = 0
        edge = []
        edge.reserveCapacity(64)
    }

    /// Resumes a tree from its right edge (roots of the perfect subtrees, largest first).
    public init(size: Int64, rightEdge: [Hash]) {
        precondition(size >= 0 && rightEdge.count == size.nonzeroBitCount,
                     "TreeBuilder: a tree of \(size) records has \(size.nonzeroBitCount) right-edge hashes, "
                        + "not \(rightEdge.count)")
        _size = size
        edge = rightEdge
        edge.reserveCapacity(64)
    }

    /// Resumes a tree of `size` records, reading its right edge (at most log₂ size hashes, one call) from stored
    /// hashes.
    public init(size: Int64, reader: any HashReader) throws {
        guard size >= 0 else { throw MerkleError.invalidIndex("TreeBuilder: negative size \(size)") }
        var indexes: [Int64] = []
        subTreeIndex(0, size, &indexes)
        self.init(size: size, rightEdge: try readExactly(reader, indexes))
    }

    /// Appends record `size` with hash `recordHash`. Calls `emit(storedIndex, hash)` for every stored hash
    /// the append creates, in increasing index order starting at `storedHashIndex(level: 0, n: size)`:
    /// exactly what `storedHashes(forRecord:recordHash:reader:)` returns. If `emit` throws, the builder is unchanged.
    @inlinable
    public mutating func append(_ recordHash: Hash, emit: (Int64, Hash) throws -> Void) rethrows {
        try append(recordHash, parentWithPrevious: nil, emit: emit)
    }

    /// `append(_:emit:)`, given the first merge's result when it was computed elsewhere (on another thread, two at a
    /// time): `parentWithPrevious` must be `nodeHash(previous record hash, recordHash)`, and is used only when this
    /// record completes a pair (`size` odd), where that is exactly the first merge.
    @inlinable
    public mutating func append(_ recordHash: Hash, parentWithPrevious: Hash?,
                                emit: (Int64, Hash) throws -> Void) rethrows {
        let n = _size
        var index = 2 * n - Int64(n.nonzeroBitCount) // storedHashIndex(level: 0, n: n)
        var h = recordHash
        try emit(index, h)
        // Each trailing 1 bit of n completes a perfect subtree: merge with the edge, rightmost first.
        let merges = (n + 1).trailingZeroBitCount
        var i = edge.count
        for merge in 0..<merges {
            i -= 1
            if merge == 0, let parent = parentWithPrevious { h = parent } else { h = nodeHash(edge[i], h) }
            index += 1
            try emit(index, h)
        }
        edge.removeLast(merges)
        edge.append(h)
        _size = n + 1
    }

    /// Appends a record hash without reporting the stored hashes.
    @inlinable
    public mutating func append(_ recordHash: Hash) {
        append(recordHash) { _, _ in }
    }

    /// The tree root: equal to `treeHash(size:reader:)` of the same tree (`Hash.emptyTree` when empty).
    public func rootHash() -> Hash {
        guard var h = edge.last else { return Hash.emptyTree }
        for i in stride(from: edge.count - 2, through: 0, by: -1) {
            h = nodeHash(edge[i], h)
        }
        return h
    }
}
