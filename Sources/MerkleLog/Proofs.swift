// Tree hashes and proofs over stored hashes (RFC 6962 §2.1; RFC 9162 §2.1).
// Proofs are lists of hashes from the leaf (or the deepest level) upward, as in RFC 6962.

/// The root of the tree of `size` records: RFC 6962 MTH(D[0:size]).
/// Makes one `readHashes` call for at most 1 + log₂ size hashes. Size 0 gives `Hash.emptyTree` (SHA-256 of "").
public func treeHash(size: Int64, reader: any HashReader) throws -> Hash {
    guard size >= 0 else { throw MerkleError.invalidIndex("treeHash: negative size \(size)") }
    if size == 0 { return Hash.emptyTree }
    var indexes: [Int64] = []
    subTreeIndex(0, size, &indexes)
    let hashes = try readExactly(reader, indexes)
    var next = 0
    let h = subTreeHash(0, size, hashes, &next)
    assert(next == hashes.count, "treeHash: bad index math")
    return h
}

// MARK: - Subtrees

/// Appends the stored-hash indexes of the perfect subtrees that make up records [lo, hi), largest first.
internal func subTreeIndex(_ lo: Int64, _ hi: Int64, _ need: inout [Int64]) {
    var lo = lo
    while lo < hi {
        // The largest perfect subtree starting at lo that fits: k = 2^level <= hi - lo.
        let k = maxpow2(hi - lo + 1)
        let level = k.trailingZeroBitCount
        assert(lo & (k - 1) == 0, "subTreeIndex: bad math")
        need.append(storedHashIndex(level: level, n: lo >> level))
        lo += k
    }
}

/// The hash of records [lo, hi) from the hashes that `subTreeIndex(lo, hi)` named, starting at `hashes[next]`.
/// MTH(D[lo:hi]) = nodeHash(MTH(left), MTH(right)), folded from the right edge.
internal func subTreeHash(_ lo: Int64, _ hi: Int64, _ hashes: [Hash], _ next: inout Int) -> Hash {
    var lo = lo
    var numTree = 0
    while lo < hi {
        lo += maxpow2(hi - lo + 1)
        numTree += 1
    }
    precondition(next + numTree <= hashes.count, "subTreeHash: bad index math")
    var h = hashes[next + numTree - 1]
    for i in stride(from: next + numTree - 2, through: next, by: -1) {
        h = nodeHash(hashes[i], h)
    }
    next += numTree
    return h
}

// MARK: - Record (inclusion) proofs

/// The proof that the tree of `treeSize` records contains record `index`: RFC 6962 PATH(index, D[0:treeSize]).
public func proveRecord(treeSize: Int64, index: Int64, reader: any HashReader) throws -> [Hash] {
    guard treeSize >= 0, index >= 0, index < treeSize else {
        throw MerkleError.invalidIndex("proveRecord: record \(index) not in tree of size \(treeSize)")
    }
    var indexes: [Int64] = []
    leafProofIndex(0, treeSize, index, &indexes)
    let hashes = try readExactly(reader, indexes)
    var next = 0
    var proof: [Hash] = []
    proof.reserveCapacity(64 - treeSize.leadingZeroBitCount)
    leafProof(0, treeSize, index, hashes, &next, &proof)
    assert(next == hashes.count, "proveRecord: bad index math")
    return proof
}

/// Appends the indexes needed to prove that leaf n is in the subtree [lo, hi).
internal func leafProofIndex(_ lo: Int64, _ hi: Int64, _ n: Int64, _ need: inout [Int64]) {
    if lo + 1 == hi { return }
    let k = maxpow2(hi - lo)
    if n < lo + k {
        leafProofIndex(lo, lo + k, n, &need)
        subTreeIndex(lo + k, hi, &need)
    } else {
        subTreeIndex(lo, lo + k, &need)
        leafProofIndex(lo + k, hi, n, &need)
    }
}

/// Appends the proof that leaf n is in the subtree [lo, hi), deepest sibling first.
/// PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) if m < k, else PATH(m - k, D[k:n]) : MTH(D[0:k]).
internal func leafProof(_ lo: Int64, _ hi: Int64, _ n: Int64, _ hashes: [Hash], _ next: inout Int,
                        _ proof: inout [Hash]) {
    if lo + 1 == hi { return } // the verifier knows the leaf hash
    let k = maxpow2(hi - lo)
    if n < lo + k {
        leafProof(lo, lo + k, n, hashes, &next, &proof)
        proof.append(subTreeHash(lo + k, hi, hashes, &next))
    } else {
        let sibling = subTreeHash(lo, lo + k, hashes, &next)
        leafProof(lo + k, hi, n, hashes, &next, &proof)
        proof.append(sibling)
    }
}

/// Checks that `proof` shows the tree of `treeSize` records with hash `root` has `recordHash` at `index`.
public func checkRecord(proof: [Hash], treeSize: Int64, root: Hash, index: Int64, recordHash: Hash) throws {
    try climbProof(proof, treeSize: treeSize, root: root, index: index, recordHash: recordHash) { _, left, right in
        nodeHash(left, right)
    }
}

/// Checks an inclusion proof by climbing from the record to the root; `hash(depth, left, right)` hashes the node
/// at `depth` below the root. Shared by both `checkRecord` variants.
private func climbProof(_ proof: [Hash], treeSize: Int64, root: Hash, index: Int64, recordHash: Hash,
                        hash: (Int, Hash, Hash) -> Hash) throws {
    guard treeSize >= 0, index >= 0, index < treeSize else {
        throw MerkleError.invalidIndex("checkRecord: record \(index) not in tree of size \(treeSize)")
    }
    // Walk from the root down to the leaf, noting at each depth whether the leaf is in the left subtree.
    var lo: Int64 = 0, hi = treeSize, depth = 0, wentLeft: UInt64 = 0
    while hi - lo > 1 {
        let k = maxpow2(hi - lo)
        if index < lo + k {
            wentLeft |= 1 << depth
            hi = lo + k
        } else {
            lo += k
        }
        depth += 1
    }
    guard proof.count == depth else { throw MerkleError.badProofLength }
    // Climb back up; proof[0] is the deepest sibling, at depth - 1 below the root.
    var h = recordHash
    for i in 0..<depth {
        let p = proof[i], nodeDepth = depth - 1 - i
        h = wentLeft >> nodeDepth & 1 == 1 ? hash(nodeDepth, h, p) : hash(nodeDepth, p, h)
    }
    guard h == root else { throw MerkleError.proofMismatch }
}

/// Remembers, per tree depth, the last interior node hashed: (left, right) -> SHA-256(0x01 || left || right).
/// Proofs of neighbouring records share their upper nodes, so checking many records in index order hashes each
/// shared node once. Pure memoisation of `nodeHash`: every result is the hash of exactly the inputs given.
public struct NodeHashMemo {
    private var entries: [(left: Hash, right: Hash, parent: Hash)?] = Array(repeating: nil, count: 64)

    public init() {}

    mutating func hash(depth: Int, _ left: Hash, _ right: Hash) -> Hash {
        if let e = entries[depth], e.left == left, e.right == right { return e.parent }
        let parent = nodeHash(left, right)
        entries[depth] = (left, right, parent)
        return parent
    }
}

/// `checkRecord(proof:treeSize:root:index:recordHash:)` with interior hashes memoised across calls (same result).
public func checkRecord(proof: [Hash], treeSize: Int64, root: Hash, index: Int64, recordHash: Hash,
                        memo: inout NodeHashMemo) throws {
    // Memo slot: the node's depth from the root, the same for every record's path.
    try climbProof(proof, treeSize: treeSize, root: root, index: index, recordHash: recordHash) { depth, left, right in
        memo.hash(depth: depth, left, right)
    }
}

// MARK: - Tree (consistency) proofs

/// The proof that the tree of `newSize` records contains the tree of `oldSize` records as a prefix:
/// RFC 6962 PROOF(oldSize, D[0:newSize]). Requires 1 <= oldSize <= newSize (like tlog; a proof from the empty tree
/// is meaningless).
public func proveTree(newSize: Int64, oldSize: Int64, reader: any HashReader) throws -> [Hash] {
    guard oldSize >= 1, oldSize <= newSize else {
        throw MerkleError.invalidIndex("proveTree: need 1 <= oldSize (\(oldSize)) <= newSize (\(newSize))")
    }
    var indexes: [Int64] = []
    treeProofIndex(0, newSize, oldSize, &indexes)
    let hashes = try readExactly(reader, indexes)
    var next = 0
    var proof: [Hash] = []
    proof.reserveCapacity(2 * (64 - newSize.leadingZeroBitCount))
    treeProof(0, newSize, oldSize, hashes, &next, &proof)
    assert(next == hashes.count, "proveTree: bad index math")
    return proof
}

/// Appends the indexes needed for the sub-proof of the subtree [lo, hi) against the old tree of n records.
internal func treeProofIndex(_ lo: Int64, _ hi: Int64, _ n: Int64, _ need: inout [Int64]) {
    if n == hi {
        if lo != 0 { subTreeIndex(lo, hi, &need) }
        return
    }
    let k = maxpow2(hi - lo)
    if n <= lo + k {
        treeProofIndex(lo, lo + k, n, &need)
        subTreeIndex(lo + k, hi, &need)
    } else {
        subTreeIndex(lo, lo + k, &need)
        treeProofIndex(lo + k, hi, n, &need)
    }
}

/// Appends the sub-proof for the subtree [lo, hi) against the old tree of n records.
/// SUBPROOF(m, D[n], b) = {} if m = n and b; {MTH(D[n])} if m = n and not b;
/// SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) if m <= k; SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) if m > k.
internal func treeProof(_ lo: Int64, _ hi: Int64, _ n: Int64, _ hashes: [Hash], _ next: inout Int,
                        _ proof: inout [Hash]) {
    if n == hi {
        // Common ground. The verifier knows the old root itself (lo == 0); otherwise send this subtree's hash.
        if lo != 0 { proof.append(subTreeHash(lo, hi, hashes, &next)) }
        return
    }
    let k = maxpow2(hi - lo)
    if n <= lo + k {
        treeProof(lo, lo + k, n, hashes, &next, &proof)
        proof.append(subTreeHash(lo + k, hi, hashes, &next))
    } else {
        let sibling = subTreeHash(lo, lo + k, hashes, &next)
        treeProof(lo + k, hi, n, hashes, &next, &proof)
        proof.append(sibling)
    }
}

/// Checks that `proof` shows the tree of `newSize` records with hash `newRoot` contains
/// the tree of `oldSize` records with hash `oldRoot` as a prefix. Requires 1 <= oldSize <= newSize.
public func checkTree(proof: [Hash], newSize: Int64, newRoot: Hash, oldSize: Int64, oldRoot: Hash) throws {
    guard oldSize >= 1, oldSize <= newSize else {
        throw MerkleError.invalidIndex("checkTree: need 1 <= oldSize (\(oldSize)) <= newSize (\(newSize))")
    }
    // Walk down to the node where the old tree's right edge meets the new tree's, noting the turns.
    var lo: Int64 = 0, hi = newSize, depth = 0, wentLeft: UInt64 = 0
    while oldSize != hi {
        let k = maxpow2(hi - lo)
        if oldSize <= lo + k {
            wentLeft |= 1 << depth
            hi = lo + k
        } else {
            lo += k
        }
        depth += 1
    }
    // At common ground the subtree hash is the old root (lo == 0) or the proof's first hash.
    let seed = lo == 0 ? 0 : 1
    guard proof.count == seed + depth else { throw MerkleError.badProofLength }
    var oldHash = seed == 0 ? oldRoot : proof[0]
    var newHash = oldHash
    for i in 0..<depth {
        let p = proof[seed + i]
        if wentLeft >> (depth - 1 - i) & 1 == 1 {
            newHash = nodeHash(newHash, p) // right sibling is only in the new tree
        } else {
            oldHash = nodeHash(p, oldHash) // left sibling is in both trees
            newHash = nodeHash(p, newHash)
        }
    }
    guard oldHash == oldRoot, newHash == newRoot else { throw MerkleError.proofMismatch }
}
