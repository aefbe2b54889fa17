import MerkleLog

extension FuzzTargets {
    /// RFC 6962 inclusion and consistency proofs. The input builds a small tree (up to 64 records) and picks sizes,
    /// an index and a proof: a proof `proveRecord`/`proveTree` made must check; a fuzzed proof (the real one edited,
    /// or raw hashes) checked against the real tree must be that proof or fail; raw sizes (negative, huge) must end
    /// in an answer, never a crash or hang.
    static let proofs = FuzzTarget("proofs") { bytes in
        var input = ProofInput(bytes)
        let mode = input.byte()
        let n = Int64(input.byte() % 64) + 1
        let tree = SmallTree(size: n, salt: input.byte())
        if mode & 1 == 0 {
            checkInclusion(&input, mode: mode, tree: tree)
        } else {
            checkConsistency(&input, mode: mode, tree: tree)
        }
    }

    private static func checkInclusion(_ input: inout ProofInput, mode: UInt8, tree: SmallTree) {
        let size = input.size(in: tree.size, raw: mode & 2 != 0)
        let index = input.size(in: tree.size, raw: mode & 4 != 0)
        let record = index >= 0 && index < tree.size ? tree.records[Int(index)] : input.hash()
        let inRange = 0 <= index && index < size && size <= tree.size
        let root = size >= 0 && size <= tree.size ? (try? treeHash(size: size, reader: tree)) : nil
        var reference: [Hash]?
        if inRange {
            guard let proof = try? proveRecord(treeSize: size, index: index, reader: tree), let root else {
                agree(false, "proveRecord or treeHash refused \(index) of \(size)")
                return
            }
            let checked: Bool = (try? checkRecord(proof: proof, treeSize: size, root: root, index: index,
                                                   recordHash: record)) != nil
            agree(checked, "the proof proveRecord made for \(index) of \(size) does not check")
            var memo = NodeHashMemo()
            let memoChecked: Bool = (try? checkRecord(proof: proof, treeSize: size, root: root, index: index,
                                                       recordHash: record, memo: &memo)) != nil
            agree(memoChecked, "the memo variant refuses the proof made for \(index) of \(size)")
            reference = proof
        }
        let fuzzed = input.proof(from: reference ?? [], tree: tree)
        let claimedRoot = root ?? input.hash()
        let checked = (try? checkRecord(proof: fuzzed, treeSize: size, root: claimedRoot, index: index,
                                        recordHash: record)) != nil
        var memo = NodeHashMemo()
        let memoChecked = (try? checkRecord(proof: fuzzed, treeSize: size, root: claimedRoot, index: index,
                                            recordHash: record, memo: &memo)) != nil
        agree(checked == memoChecked, "checkRecord with and without a memo disagree")
        if checked, root != nil {
            agree(inRange && fuzzed == reference, "a proof other than proveRecord's checks for \(index) of \(size)")
        }
    }

    private static func checkConsistency(_ input: inout ProofInput, mode: UInt8, tree: SmallTree) {
        let newSize = input.size(in: tree.size, raw: mode & 2 != 0)
        let oldSize = input.size(in: tree.size, raw: mode & 4 != 0)
        let real = { (size: Int64) -> Hash? in
            size >= 0 && size <= tree.size ? (try? treeHash(size: size, reader: tree)) : nil
        }
        let newRoot = real(newSize), oldRoot = real(oldSize)
        let provable = 1 <= oldSize && oldSize <= newSize && newSize <= tree.size
        var reference: [Hash]?
        if provable {
            guard let proof = try? proveTree(newSize: newSize, oldSize: oldSize, reader: tree),
                  let newRoot, let oldRoot else {
                agree(false, "proveTree or treeHash refused \(oldSize) -> \(newSize)")
                return
            }
            let checked = (try? checkTree(proof: proof, newSize: newSize, newRoot: newRoot, oldSize: oldSize,
                                          oldRoot: oldRoot)) != nil
            agree(checked, "the proof proveTree made for \(oldSize) -> \(newSize) does not check")
            reference = proof
        }
        let fuzzed = input.proof(from: reference ?? [], tree: tree)
        let checked = (try? checkTree(proof: fuzzed, newSize: newSize, newRoot: newRoot ?? input.hash(),
                                      oldSize: oldSize, oldRoot: oldRoot ?? input.hash())) != nil
        if checked, newRoot != nil, oldRoot != nil, oldSize >= 1 {
            agree(provable && fuzzed == reference,
                  "a proof other than proveTree's checks for \(oldSize) -> \(newSize)")
        }
    }
}

/// A tree of up to 64 records held in memory as its stored hashes (the layout `TreeBuilder` emits).
private struct SmallTree: HashReader {
    let size: Int64
    var records = [Hash]()
    var stored = [Hash]()

    init(size: Int64, salt: UInt8) {
        self.size = size
        var builder = TreeBuilder()
        for i in 0..<size {
            let record = recordHash([UInt8(truncatingIfNeeded: i), salt])
            records.append(record)
            var emitted = [Hash]()
            builder.append(record) { index, hash in
                precondition(index == Int64(stored.count + emitted.count), "TreeBuilder: stored index out of order")
                emitted.append(hash)
            }
            stored += emitted
        }
    }

    func readHashes(_ indexes: [Int64]) throws -> [Hash] {
        try indexes.map { i in
            guard i >= 0 && i < Int64(stored.count) else { throw MerkleError.invalidIndex("no stored hash \(i)") }
            return stored[Int(i)]
        }
    }
}

/// The fuzzer's bytes read front to back; zeros past the end.
private struct ProofInput {
    let bytes: [UInt8]
    var at = 0

    init(_ raw: UnsafeRawBufferPointer) { bytes = Array(raw) }

    var atEnd: Bool { at >= bytes.count }

    mutating func byte() -> UInt8 {
        defer { at += 1 }
        return at < bytes.count ? bytes[at] : 0
    }

    mutating func int64() -> Int64 {
        var v: UInt64 = 0
        for _ in 0..<8 { v = v << 8 | UInt64(byte()) }
        return Int64(bitPattern: v)
    }

    /// A size or index: raw 64 bits, or a value in 0...limit.
    mutating func size(in limit: Int64, raw: Bool) -> Int64 {
        raw ? int64() : Int64(byte()) % (limit + 1)
    }

    mutating func hash() -> Hash {
        var h = Hash.zero
        withUnsafeMutableBytes(of: &h) { out in for i in 0..<32 { out[i] = byte() } }
        return h
    }

    /// A proof: raw hashes from the input, or the reference proof with edits (flip a bit, drop, repeat, insert
    /// a record or stored hash of the tree).
    mutating func proof(from reference: [Hash], tree: SmallTree) -> [Hash] {
        if byte() & 1 == 1 {
            var proof = [Hash]()
            while !atEnd && proof.count < 80 { proof.append(hash()) }
            return proof
        }
        var proof = reference
        while !atEnd {
            let op = byte(), position = Int(byte()), value = byte()
            switch op % 5 {
            case 0 where !proof.isEmpty:
                let k = position % proof.count
                withUnsafeMutableBytes(of: &proof[k]) { $0[Int(value % 32)] ^= 1 << (op >> 5) }
            case 1 where !proof.isEmpty: proof.remove(at: position % proof.count)
            case 2 where !proof.isEmpty && proof.count < 80: proof.append(proof[position % proof.count])
            case 3 where proof.count < 80:
                proof.insert(tree.stored[Int(value) % tree.stored.count], at: position % (proof.count + 1))
            case 4 where proof.count < 80:
                proof.insert(tree.records[Int(value) % tree.records.count], at: position % (proof.count + 1))
            default: break
            }
        }
        return proof
    }
}
