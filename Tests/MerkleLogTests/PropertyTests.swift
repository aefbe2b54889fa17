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
                let n = Int64(index)
                let leaf = f.leaves[index]
                let proof = try proveRecord(treeSize: t, index: n, reader: reader)
                XCTAssertEqual(proof, naive.path(index, 0, size), "PATH(\(index), \(size))")
                XCTAssertNoThrow(try checkRecord(proof: proof, treeSize: t, root: root, index: n, recordHash: leaf))

                // Tampered proofs, leaves, roots.
                for (i, p) in proof.enumerated() {
                    var bad = proof
                    bad[i] = p.flipping(bit: (index + i * 37) % 256)
                    XCTAssertThrowsError(try checkRecord(proof: bad, treeSize: t, root: root, index: n, recordHash: leaf)) {
                        XCTAssertEqual($0 as? MerkleError, .proofMismatch)
                    }
                }
                XCTAssertThrowsError(try checkRecord(proof: proof, treeSize: t, root: root, index: n, recordHash: leaf.flipping(bit: 3)))
                XCTAssertThrowsError(try checkRecord(proof: proof, treeSize: t, root: root.flipping(bit: 200), index: n, recordHash: leaf))
                XCTAssertThrowsError(try checkRecord(proof: proof + [root], treeSize: t, root: root, index: n, recordHash: leaf)) {
                    XCTAssertEqual($0 as? MerkleError, .badProofLength)
                }
                if !proof.isEmpty {
                    XCTAssertThrowsError(try checkRecord(proof: Array(proof.dropLast()), treeSize: t, root: root, index: n, recordHash: leaf)) {
                        XCTAssertEqual($0 as? MerkleError, .badProofLength)
                    }
                }

                // Wrong index: always rejected.
                for wrong in [n - 1, n + 1, n ^ 1, n ^ 2, t, -1] where wrong != n {
                    XCTAssertRejects("index \(wrong) for \(index) in \(size)") {
                        try checkRecord(proof: proof, treeSize: t, root: root, index: wrong, recordHash: leaf)
                    }
                }
                // Wrong size: rejected unless the path to the leaf makes exactly the same turns, in which case
                // the audit path computes the same root (RFC 6962 inclusion proofs do not bind the tree size;
                // the signed checkpoint does).
                for wrong in [t - 1, t + 1, t * 2, t / 2] where wrong != t {
                    var accepted = false
                    do {
                        try checkRecord(proof: proof, treeSize: wrong, root: root, index: n, recordHash: leaf)
                        accepted = true
                    } catch {}
                    let sameShape = wrong > n && pathShape(n, wrong) == pathShape(n, t)
                    XCTAssertEqual(accepted, sameShape, "size \(wrong) for \(index) in \(size)")
                }
            }
            XCTAssertThrowsError(try proveRecord(treeSize: t, index: t, reader: reader)) {
                guard case .invalidIndex = $0 as? MerkleError else { return XCTFail("\($0)") }
            }
            XCTAssertThrowsError(try proveRecord(treeSize: t, index: -1, reader: reader))
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
                let n = Int64(oldSize)
                let oldRoot = f.roots[oldSize]
                let proof = try proveTree(newSize: t, oldSize: n, reader: reader)
                XCTAssertEqual(proof, naive.subproof(oldSize, 0, newSize, true), "PROOF(\(oldSize), \(newSize))")
                XCTAssertNoThrow(try checkTree(proof: proof, newSize: t, newRoot: newRoot, oldSize: n, oldRoot: oldRoot))

                for (i, p) in proof.enumerated() {
                    var bad = proof
                    bad[i] = p.flipping(bit: (oldSize * 7 + i * 53) % 256)
                    XCTAssertThrowsError(try checkTree(proof: bad, newSize: t, newRoot: newRoot, oldSize: n, oldRoot: oldRoot)) {
                        XCTAssertEqual($0 as? MerkleError, .proofMismatch)
                    }
                }
                XCTAssertThrowsError(try checkTree(proof: proof, newSize: t, newRoot: newRoot.flipping(bit: 9), oldSize: n, oldRoot: oldRoot))
                XCTAssertThrowsError(try checkTree(proof: proof, newSize: t, newRoot: newRoot, oldSize: n, oldRoot: oldRoot.flipping(bit: 9)))
                if oldSize != newSize {
                    XCTAssertThrowsError(try checkTree(proof: proof, newSize: t, newRoot: oldRoot, oldSize: n, oldRoot: newRoot))
                }
                XCTAssertThrowsError(try checkTree(proof: proof + [newRoot], newSize: t, newRoot: newRoot, oldSize: n, oldRoot: oldRoot)) {
                    XCTAssertEqual($0 as? MerkleError, .badProofLength)
                }
                XCTAssertThrowsError(try checkTree(proof: [oldRoot] + proof, newSize: t, newRoot: newRoot, oldSize: n, oldRoot: oldRoot))
                if !proof.isEmpty {
                    XCTAssertThrowsError(try checkTree(proof: Array(proof.dropLast()), newSize: t, newRoot: newRoot, oldSize: n, oldRoot: oldRoot)) {
                        XCTAssertEqual($0 as? MerkleError, .badProofLength)
                    }
                }

                // Wrong sizes: rejected unless the proof has exactly the same shape for them (then it computes the same roots).
                for (wn, wt) in [(n - 1, t), (n + 1, t), (n, t + 1), (n, t - 1), (n, t * 2)] where (wn, wt) != (n, t) {
                    var accepted = false
                    do {
                        try checkTree(proof: proof, newSize: wt, newRoot: newRoot, oldSize: wn, oldRoot: oldRoot)
                        accepted = true
                    } catch {}
                    let sameShape = wn >= 1 && wn <= wt && subproofShape(wn, wt, true) == subproofShape(n, t, true)
                    XCTAssertEqual(accepted, sameShape, "sizes \(wn)->\(wt) for \(oldSize)->\(newSize)")
                }
            }
            XCTAssertThrowsError(try proveTree(newSize: t, oldSize: 0, reader: reader))
            XCTAssertThrowsError(try proveTree(newSize: t, oldSize: t + 1, reader: reader))
            XCTAssertThrowsError(try checkTree(proof: [], newSize: t, newRoot: newRoot, oldSize: 0, oldRoot: Hash.emptyTree)) {
                guard case .invalidIndex = $0 as? MerkleError else { return XCTFail("\($0)") }
            }
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
