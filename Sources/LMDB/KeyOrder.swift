#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The order LMDB keeps the keys of one B-tree in, checked as its pages are read in order: keys ascend strictly
/// (LMDB's default comparison: bytes as unsigned, a prefix first), and each branch separator lies between the
/// keys on its two sides (after the last key of the subtree to its left, at or before the first key of the
/// subtree it leads to). A damaged separator leaves a scan in order intact but sends lookups by key to the wrong
/// page, so it is damage all the same. Only for trees in the default order (not integer or reverse keys).
struct KeyOrder {
    /// The last key, in the first `previousCount` bytes (a buffer reused: copied into with `memcpy`, not appended).
    private var previous = [UInt8](repeating: 0, count: 512)
    private var previousCount = 0
    private var hasPrevious = false
    /// Separators passed on the way down to the next leaf key, which must not be below any of them.
    private var pending: [[UInt8]] = []

    /// `a` < `b` in LMDB's default order.
    static func less(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let common = min(a.count, b.count)
        let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
        return order < 0 || (order == 0 && a.count < b.count)
    }

    /// The separator of a branch node other than the first, just before descending into its child. False if it
    /// is not above the last key so far.
    mutating func separator(_ key: UnsafeRawBufferPointer) -> Bool {
        if hasPrevious, !isAbovePrevious(key) { return false }
        pending.append(Array(key))
        return true
    }

    /// The next key of a leaf, in order. False if it is not above the last key, or is below a separator
    /// passed on the way to it.
    mutating func leafKey(_ key: UnsafeRawBufferPointer) -> Bool {
        if hasPrevious, !isAbovePrevious(key) { return false }
        if !pending.isEmpty {
            for separator in pending where separator.withUnsafeBytes({ Self.less(key, $0) }) { return false }
            pending.removeAll(keepingCapacity: true)
        }
        hasPrevious = true
        remember(key)
        return true
    }

    private func isAbovePrevious(_ key: UnsafeRawBufferPointer) -> Bool {
        previous.withUnsafeBytes { Self.less(UnsafeRawBufferPointer(rebasing: $0[0..<previousCount]), key) }
    }

    private mutating func remember(_ key: UnsafeRawBufferPointer) {
        if key.count > previous.count { previous = [UInt8](repeating: 0, count: key.count) }
        previousCount = key.count
        guard let base = key.baseAddress else { return }
        previous.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: base, byteCount: key.count) }
    }
}
