import MerkleLog
import XCTest

/// tlog-style checks over every tree size 1...200, against the naive RFC 6962 definitions.
final class PropertyTests: XCTestCase {
    static let maxSize = 200

    /// Builds the tree of maxSize records once; stores[n] reads only the hashes of the tree of size n.
    struct Fixture {
        var leaves: [Hash] = []
        var store: [Int64: Hash] = [:]
        var roots: [Hash] = [Hash.emptyTree] // roots[n] = root of the first n records
        func reader(size: Int) -> MemoryStore { MemoryStore(hashes: store, limit: storedHashCount(Int64(size))) }
    }

    static let fixture: Fixture = {
        var f = Fixture()
        var builder = TreeBuilder()
        for n in 0..<maxSize {
            let h = recordHash(Array("record \(n)".utf8))
            f.leaves.append(h)
            builder.append(h) { f.store[$0] = $1 }
            f.roots.append(builder.rootHash())
        }
        return f
    }()

    /// A parent computed elsewhere (verify's workers) gives the same stored hashes and roots; it is used only where the
    /// record completes a pair, and ignored where it does not.
    func testBuilderWithPrecomputedParentsMatchesTheBuilder() {
        var builder = TreeBuilder()
        var store: [Int64: Hash] = [:]
        let leaves = Self.fixture.leaves
        var i = 0
        while i < leaves.count {
            if i % 8 == 0, i + 3 < leaves.count {  // two pairs hashed at once (else one record at a time)
                let (p, q) = nodeHashes((leaves[i], leaves[i + 1]), (leaves[i + 2], leaves[i + 3]))
                XCTAssertEqual(p, nodeHash(leaves[i], leaves[i + 1]))
                XCTAssertEqual(q, nodeHash(leaves[i + 2], leaves[i + 3]))
                for (k, parent) in [(i, nil), (i + 1, p), (i + 2, nil), (i + 3, q)] {
                    builder.append(leaves[k], parentWithPrevious: parent) { store[$0] = $1 }
                }
                i += 4
            } else {
                // an odd size here: a (wrong) parent passed with an even-indexed record must be ignored
                builder.append(leaves[i], parentWithPrevious: i % 2 == 0 ? Hash.zero : nodeHash(leaves[i - 1], leaves[i])) {
                    store[$0] = $1
                }
                i += 1
            }
            XCTAssertEqual(builder.rootHash(), Self.fixture.roots[i], "size \(i)")
        }
        XCTAssertEqual(store, Self.fixture.store)
    }

    func testBuilderEmitsStoredHashesInOrder() throws {
        var builder = TreeBuilder()
        var store: [Int64: Hash] = [:]
        var leaves: [Hash] = []
        XCTAssertEqual(builder.rootHash(), Hash.emptyTree)
        XCTAssertEqual(try treeHash(size: 0, reader: MemoryStore(hashes: [:], limit: 0)), Hash.emptyTree)
        for n in Int64(0)..<Int64(Self.maxSize) {
            let h = recordHash(Array("record \(n)".utf8))
            let before = MemoryStore(hashes: store, limit: storedHashCount(n))
            let expected = try storedHashes(forRecord: n, recordHash: h, reader: before)

            var emitted: [(Int64, Hash)] = []
            builder.append(h) { emitted.append(($0, $1)) }
            XCTAssertEqual(emitted.map(\.0), Array(storedHashCount(n)..<storedHashCount(n + 1)), "size \(n + 1)")
            XCTAssertEqual(emitted.first?.0, storedHashIndex(level: 0, n: n))
            XCTAssertEqual(emitted.map(\.1), expected, "storedHashes(forRecord: \(n))")
            for (i, x) in emitted {
                XCTAssertNil(store[i], "index \(i) emitted twice")
                store[i] = x
            }
            leaves.append(h)

            let size = n + 1
            XCTAssertEqual(builder.size, size)
            XCTAssertEqual(Int64(store.count), storedHashCount(size))
            XCTAssertEqual(builder.rightEdge.count, size.nonzeroBitCount)
            let reader = MemoryStore(hashes: store, limit: storedHashCount(size))
            let root = builder.rootHash()
            XCTAssertEqual(root, try treeHash(size: size, reader: reader), "size \(size)")
            XCTAssertEqual(root, naiveTreeHash(leaves[...]), "size \(size)")

            // Every stored hash is the naive hash of the perfect subtree it names.
            for (i, x) in emitted {
                let (level, m) = splitStoredHashIndex(i)
                let lo = Int(m) << level
                XCTAssertEqual(x, naiveTreeHash(leaves[lo..<lo + 1 << level]), "stored hash \(i)")
            }

            // Resuming from storage or from the right edge gives the same tree.
            let resumed = try TreeBuilder(size: size, reader: reader)
            XCTAssertEqual(resumed.size, size)
            XCTAssertEqual(resumed.rightEdge, builder.rightEdge)
            XCTAssertEqual(resumed.rootHash(), root)
            XCTAssertEqual(TreeBuilder(size: size, rightEdge: builder.rightEdge).rootHash(), root)
        }
    }

    func testResumedBuilderContinuesIdentically() throws {
        let f = Self.fixture
        let total = 70
        var reference = TreeBuilder()
        var referenceStream: [(Int64, Hash)] = []
        for h in f.leaves[..<total] { reference.append(h) { referenceStream.append(($0, $1)) } }

        for split in 0...total {
            var b = try TreeBuilder(size: Int64(split), reader: f.reader(size: split))
            var stream: [(Int64, Hash)] = []
            for h in f.leaves[split..<total] { b.append(h) { stream.append(($0, $1)) } }
            let tail = referenceStream.filter { $0.0 >= storedHashCount(Int64(split)) }
            XCTAssertEqual(stream.map(\.0), tail.map(\.0), "split \(split)")
            XCTAssertEqual(stream.map(\.1), tail.map(\.1), "split \(split)")
            XCTAssertEqual(b.rootHash(), reference.rootHash())
        }
    }

    func testAppendIsUnchangedWhenEmitThrows() {
        struct Stop: Error {}
        var b = TreeBuilder()
        for h in Self.fixture.leaves[..<7] { b.append(h) }
        let before = b
        XCTAssertThrowsError(try b.append(Self.fixture.leaves[7]) { index, _ in
            if index > storedHashCount(7) { throw Stop() } // fails on the second of four hashes
        })
        XCTAssertEqual(b.size, before.size)
        XCTAssertEqual(b.rightEdge, before.rightEdge)
    }

    func testRecordProofs() throws {
        let f = Self.fixture
        let naive = NaiveTree(leaves: f.leaves)
        for size in 1...Self.maxSize {
            let t = Int64(size)
            let root = f.roots[size]
            XCTAssertEqual(root, naive.mth(0, size))
            let reader = f.reader(size: size)
            for index in 0..<size {
                let proof = try proveRecord(treeSize: t, index: Int64(index), reader: reader)
                XCTAssertEqual(proof, naive.path(index, 0, size), "PATH(\(index), \(size))")
                let c = RecordProofCase(proof: proof, treeSize: t, root: root, index: Int64(index),
                                        leaf: f.leaves[index])
                XCTAssertNoThrow(try c.check())
                assertTamperedProofsFail(c)
                assertWrongIndexOrSizeFails(c)
            }
            XCTAssertThrowsError(try proveRecord(treeSize: t, index: t, reader: reader)) {
                guard case .invalidIndex = $0 as? MerkleError else { return XCTFail("\($0)") }
            }
            XCTAssertThrowsError(try proveRecord(treeSize: t, index: -1, reader: reader))
        }
    }

    /// A record proof and what it proves; `check` verifies it with any of them replaced.
    struct RecordProofCase {
        var proof: [Hash], treeSize: Int64, root: Hash, index: Int64, leaf: Hash

        func check(proof: [Hash]? = nil, treeSize: Int64? = nil, root: Hash? = nil, index: Int64? = nil,
                   leaf: Hash? = nil) throws {
            try checkRecord(proof: proof ?? self.proof, treeSize: treeSize ?? self.treeSize, root: root ?? self.root,
                            index: index ?? self.index, recordHash: leaf ?? self.leaf)
        }
    }

    /// Tampered proofs, leaves and roots; proofs one hash too long or too short.
    func assertTamperedProofsFail(_ c: RecordProofCase) {
        for (i, p) in c.proof.enumerated() {
            var bad = c.proof
            bad[i] = p.flipping(bit: (Int(c.index) + i * 37) % 256)
            XCTAssertThrowsError(try c.check(proof: bad)) { XCTAssertEqual($0 as? MerkleError, .proofMismatch) }
        }
        XCTAssertThrowsError(try c.check(leaf: c.leaf.flipping(bit: 3)))
        XCTAssertThrowsError(try c.check(root: c.root.flipping(bit: 200)))
        XCTAssertThrowsError(try c.check(proof: c.proof + [c.root])) {
            XCTAssertEqual($0 as? MerkleError, .badProofLength)
        }
        if !c.proof.isEmpty {
            XCTAssertThrowsError(try c.check(proof: Array(c.proof.dropLast()))) {
                XCTAssertEqual($0 as? MerkleError, .badProofLength)
            }
        }
    }

    /// A wrong index is always rejected. A wrong size is rejected unless the path to the leaf makes exactly the same
    /// turns, in which case the audit path computes the same root (RFC 6962 inclusion proofs do not bind the tree
    /// size; the signed checkpoint does).
    func assertWrongIndexOrSizeFails(_ c: RecordProofCase) {
        let n = c.index, t = c.treeSize
        for wrong in [n - 1, n + 1, n ^ 1, n ^ 2, t, -1] where wrong != n {
            XCTAssertRejects("index \(wrong) for \(n) in \(t)") { try c.check(index: wrong) }
        }
        for wrong in [t - 1, t + 1, t * 2, t / 2] where wrong != t {
            let accepted = (try? c.check(treeSize: wrong)) != nil
            let sameShape = wrong > n && pathShape(n, wrong) == pathShape(n, t)
            XCTAssertEqual(accepted, sameShape, "size \(wrong) for \(n) in \(t)")
        }
    }

    func testTreeProofs() throws {
        let f = Self.fixture
        let naive = NaiveTree(leaves: f.leaves)
        for newSize in 1...Self.maxSize {
            let t = Int64(newSize)
            let newRoot = f.roots[newSize]
            let reader = f.reader(size: newSize)
            for oldSize in 1...newSize {
                let proof = try proveTree(newSize: t, oldSize: Int64(oldSize), reader: reader)
                XCTAssertEqual(proof, naive.subproof(oldSize, 0, newSize, true), "PROOF(\(oldSize), \(newSize))")
                let c = TreeProofCase(proof: proof, newSize: t, newRoot: newRoot, oldSize: Int64(oldSize),
                                      oldRoot: f.roots[oldSize])
                XCTAssertNoThrow(try c.check())
                assertTamperedProofsFail(c)
                assertWrongSizesFail(c)
            }
            XCTAssertThrowsError(try proveTree(newSize: t, oldSize: 0, reader: reader))
            XCTAssertThrowsError(try proveTree(newSize: t, oldSize: t + 1, reader: reader))
            XCTAssertThrowsError(try checkTree(proof: [], newSize: t, newRoot: newRoot, oldSize: 0,
                                               oldRoot: Hash.emptyTree)) {
                guard case .invalidIndex = $0 as? MerkleError else { return XCTFail("\($0)") }
            }
        }
    }

    /// A consistency proof and what it proves; `check` verifies it with any of them replaced.
    struct TreeProofCase {
        var proof: [Hash], newSize: Int64, newRoot: Hash, oldSize: Int64, oldRoot: Hash

        func check(proof: [Hash]? = nil, newSize: Int64? = nil, newRoot: Hash? = nil, oldSize: Int64? = nil,
                   oldRoot: Hash? = nil) throws {
            try checkTree(proof: proof ?? self.proof, newSize: newSize ?? self.newSize,
                          newRoot: newRoot ?? self.newRoot, oldSize: oldSize ?? self.oldSize,
                          oldRoot: oldRoot ?? self.oldRoot)
        }
    }

    /// Tampered proofs and roots, the roots swapped; proofs one hash too long or too short.
    func assertTamperedProofsFail(_ c: TreeProofCase) {
        for (i, p) in c.proof.enumerated() {
            var bad = c.proof
            bad[i] = p.flipping(bit: (Int(c.oldSize) * 7 + i * 53) % 256)
            XCTAssertThrowsError(try c.check(proof: bad)) { XCTAssertEqual($0 as? MerkleError, .proofMismatch) }
        }
        XCTAssertThrowsError(try c.check(newRoot: c.newRoot.flipping(bit: 9)))
        XCTAssertThrowsError(try c.check(oldRoot: c.oldRoot.flipping(bit: 9)))
        if c.oldSize != c.newSize {
            XCTAssertThrowsError(try c.check(newRoot: c.oldRoot, oldRoot: c.newRoot))
        }
        XCTAssertThrowsError(try c.check(proof: c.proof + [c.newRoot])) {
            XCTAssertEqual($0 as? MerkleError, .badProofLength)
        }
        XCTAssertThrowsError(try c.check(proof: [c.oldRoot] + c.proof))
        if !c.proof.isEmpty {
            XCTAssertThrowsError(try c.check(proof: Array(c.proof.dropLast()))) {
                XCTAssertEqual($0 as? MerkleError, .badProofLength)
            }
        }
    }

    /// Wrong sizes: rejected unless the proof has exactly the same shape for them (then it computes the same roots).
    func assertWrongSizesFail(_ c: TreeProofCase) {
        let n = c.oldSize, t = c.newSize
        for (wn, wt) in [(n - 1, t), (n + 1, t), (n, t + 1), (n, t - 1), (n, t * 2)] where (wn, wt) != (n, t) {
            let accepted = (try? c.check(newSize: wt, oldSize: wn)) != nil
            let sameShape = wn >= 1 && wn <= wt && subproofShape(wn, wt, true) == subproofShape(n, t, true)
            XCTAssertEqual(accepted, sameShape, "sizes \(wn)->\(wt) for \(n)->\(t)")
        }
    }

    func testReaderContractIsChecked() {
        let short = HashReaderFunc { indexes in Array(repeating: Hash.zero, count: max(0, indexes.count - 1)) }
        XCTAssertThrowsError(try treeHash(size: 5, reader: short)) {
            XCTAssertEqual($0 as? MerkleError, .readerCount(requested: 2, returned: 1))
        }
        XCTAssertThrowsError(try proveRecord(treeSize: 5, index: 0, reader: short))
        XCTAssertThrowsError(try proveTree(newSize: 5, oldSize: 3, reader: short))
        XCTAssertThrowsError(try TreeBuilder(size: 7, reader: short))
        XCTAssertThrowsError(try storedHashes(forRecord: 3, recordHash: .zero, reader: short))
        XCTAssertThrowsError(try treeHash(size: -1, reader: short))
    }
}
