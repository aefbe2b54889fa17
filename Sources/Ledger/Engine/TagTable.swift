import MerkleLog

/// A set of (tag, seq) pairs looked up by tag: open addressing with linear probing, hashed by the tag's first
/// word. Tags are keyed BLAKE2b outputs (uniform without the index key), so they need no further hashing; the
/// import looks up and adds one per record, where `Dictionary`'s per-lookup SipHash was a visible cost.
struct TagTable {
    private var tags: [Hash]
    private var seqs: [UInt64]
    private var used: [Bool]
    private(set) var count = 0

    init(minimumCapacity: Int = 0) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity <<= 1 }  // at most half full
        tags = Array(repeating: .zero, count: capacity)
        seqs = Array(repeating: 0, count: capacity)
        used = Array(repeating: false, count: capacity)
    }

    subscript(tag: Hash) -> UInt64? {
        get {
            var slot = home(tag)
            while used[slot] {
                if tags[slot] == tag { return seqs[slot] }
                slot = (slot + 1) & (used.count - 1)
            }
            return nil
        }
        set {
            precondition(newValue != nil, "TagTable removes only all rows at once")
            if (count + 1) * 2 > used.count { grow() }
            var slot = home(tag)
            while used[slot] {
                if tags[slot] == tag { seqs[slot] = newValue!; return }
                slot = (slot + 1) & (used.count - 1)
            }
            (tags[slot], seqs[slot], used[slot]) = (tag, newValue!, true)
            count += 1
        }
    }

    mutating func removeAll() { self = TagTable() }

    private func home(_ tag: Hash) -> Int {
        tag.withUnsafeBytes { Int(truncatingIfNeeded: $0.loadUnaligned(as: UInt64.self)) } & (used.count - 1)
    }

    private mutating func grow() {
        var bigger = TagTable(minimumCapacity: used.count)
        for slot in used.indices where used[slot] { bigger[tags[slot]] = seqs[slot] }
        self = bigger
    }
}
