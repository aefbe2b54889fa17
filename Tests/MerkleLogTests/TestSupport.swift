import Foundation
import MerkleLog
import XCTest

/// An in-memory hash store that refuses to read past `limit` (the stored-hash count of the tree being read),
/// so a proof that touches a hash the tree of that size should not need fails loudly.
struct MemoryStore: HashReader {
    var hashes: [Int64: Hash]
    var limit: Int64

    struct Missing: Error, CustomStringConvertible {
        let index: Int64, limit: Int64
        var description: String { "MemoryStore: no hash at \(index) (limit \(limit))" }
    }

    func readHashes(_ indexes: [Int64]) throws -> [Hash] {
        try indexes.map { i in
            guard i >= 0, i < limit, let h = hashes[i] else { throw Missing(index: i, limit: limit) }
            return h
        }
    }
}

/// The largest power of two strictly smaller than n (n >= 2), written out the slow way.
func largestPowerOfTwoBelow(_ n: Int) -> Int {
    var k = 1
    while k * 2 < n { k *= 2 }
    return k
}

/// RFC 6962 §2.1 MTH, directly from the definition.
func naiveTreeHash(_ leaves: ArraySlice<Hash>) -> Hash {
    switch leaves.count {
    case 0: return Hash.sha256([])
    case 1: return leaves.first!
    default:
        let k = largestPowerOfTwoBelow(leaves.count)
        let lo = leaves.startIndex
        return nodeHash(naiveTreeHash(leaves[lo..<lo + k]), naiveTreeHash(leaves[(lo + k)...]))
    }
}

/// RFC 6962 §2.1.1 PATH(m, D[n]).
func naivePath(_ m: Int, _ leaves: ArraySlice<Hash>) -> [Hash] {
    if leaves.count <= 1 { return [] }
    let k = largestPowerOfTwoBelow(leaves.count)
    let lo = leaves.startIndex
    if m < k {
        return naivePath(m, leaves[lo..<lo + k]) + [naiveTreeHash(leaves[(lo + k)...])]
    }
    return naivePath(m - k, leaves[(lo + k)...]) + [naiveTreeHash(leaves[lo..<lo + k])]
}

/// RFC 6962 §2.1.2 SUBPROOF(m, D[n], b).
func naiveSubproof(_ m: Int, _ leaves: ArraySlice<Hash>, _ b: Bool) -> [Hash] {
    if m == leaves.count { return b ? [] : [naiveTreeHash(leaves)] }
    let k = largestPowerOfTwoBelow(leaves.count)
    let lo = leaves.startIndex
    if m <= k {
        return naiveSubproof(m, leaves[lo..<lo + k], b) + [naiveTreeHash(leaves[(lo + k)...])]
    }
    return naiveSubproof(m - k, leaves[(lo + k)...], false) + [naiveTreeHash(leaves[lo..<lo + k])]
}

/// The turns an inclusion proof encodes, leaf upward (true: the leaf is in the left subtree).
/// Two trees whose paths to a leaf make the same turns give the same root from the same proof.
func pathShape(_ m: Int64, _ n: Int64) -> [Bool] {
    if n <= 1 { return [] }
    let k = Int64(largestPowerOfTwoBelow(Int(n)))
    return m < k ? pathShape(m, k) + [true] : pathShape(m - k, n - k) + [false]
}

/// The shape of a consistency proof: -1 for a proof-supplied seed, then the turns (1 left, 0 right).
func subproofShape(_ m: Int64, _ n: Int64, _ b: Bool) -> [Int] {
    if m == n { return b ? [] : [-1] }
    let k = Int64(largestPowerOfTwoBelow(Int(n)))
    return m <= k ? subproofShape(m, k, b) + [1] : subproofShape(m - k, n - k, false) + [0]
}

extension Hash {
    /// This hash with one bit flipped.
    func flipping(bit: Int) -> Hash {
        var b = bytes
        b[bit / 8] ^= 1 << UInt8(bit % 8)
        return Hash(bytes: b)!
    }
}

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.utf8.makeIterator()
    while let hi = it.next(), let lo = it.next() {
        out.append(UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16)!)
    }
    return out
}

/// Asserts that `body` throws (any error), naming the case on failure.
func XCTAssertRejects(_ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line,
                      _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("accepted but should be rejected: \(message())", file: file, line: line)
    } catch {}
}

/// The same RFC 6962 definitions over one fixed list of leaves, memoizing MTH of each range
/// so that comparing every proof of every tree size stays fast.
final class NaiveTree {
    let leaves: [Hash]
    private var memo: [Int: Hash] = [:]

    init(leaves: [Hash]) { self.leaves = leaves }

    /// MTH(D[lo:hi]).
    func mth(_ lo: Int, _ hi: Int) -> Hash {
        let key = lo << 32 | hi
        if let h = memo[key] { return h }
        let h = naiveTreeHashSplit(lo, hi)
        memo[key] = h
        return h
    }

    private func naiveTreeHashSplit(_ lo: Int, _ hi: Int) -> Hash {
        switch hi - lo {
        case 0: return Hash.sha256([])
        case 1: return leaves[lo]
        default:
            let k = largestPowerOfTwoBelow(hi - lo)
            return nodeHash(mth(lo, lo + k), mth(lo + k, hi))
        }
    }

    /// PATH(m, D[lo:hi]).
    func path(_ m: Int, _ lo: Int, _ hi: Int) -> [Hash] {
        if hi - lo <= 1 { return [] }
        let k = largestPowerOfTwoBelow(hi - lo)
        return m < k ? path(m, lo, lo + k) + [mth(lo + k, hi)] : path(m - k, lo + k, hi) + [mth(lo, lo + k)]
    }

    /// SUBPROOF(m, D[lo:hi], b).
    func subproof(_ m: Int, _ lo: Int, _ hi: Int, _ b: Bool) -> [Hash] {
        if m == hi - lo { return b ? [] : [mth(lo, hi)] }
        let k = largestPowerOfTwoBelow(hi - lo)
        return m <= k ? subproof(m, lo, lo + k, b) + [mth(lo + k, hi)]
                      : subproof(m - k, lo + k, hi, false) + [mth(lo, lo + k)]
    }
}
