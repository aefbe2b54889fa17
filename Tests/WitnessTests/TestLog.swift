import Foundation
import MerkleLog
import SignedNote
import Sodium
import Transparency
@testable import Witness

/// An in-memory log for tests: deterministic leaves (`variant` changes every leaf from `forkAt` on, for a fork).
final class TestLog: @unchecked Sendable {  // immutable after init
    let signer: NoteSigner
    private var stored = [Hash]()
    private var roots = [Hash]()
    private let variant: String
    private let forkAt: Int64

    init(name: String = "example.com/log", seedByte: UInt8 = 7, size: Int64, variant: String = "", forkAt: Int64 = 0)
        throws {
        signer = try NoteSigner(name: name, seed: SecretBytes(copying: [UInt8](repeating: seedByte, count: 32)))
        self.variant = variant
        self.forkAt = forkAt
        for n in 0..<size {
            let label = n >= forkAt ? variant : ""
            let leaf = recordHash(Array("leaf \(n)\(label)".utf8))
            stored += try storedHashes(forRecord: n, recordHash: leaf, reader: reader)
            roots.append(try treeHash(size: n + 1, reader: reader))
        }
    }

    var reader: HashReaderFunc { HashReaderFunc { [unowned self] in $0.map { self.stored[Int($0)] } } }
    var vkey: String { signer.verifierKey.text }

    func root(_ size: Int64) -> Hash { roots[Int(size) - 1] }

    func note(_ size: Int64) throws -> String {
        try signer.sign(Checkpoint(origin: signer.name, size: UInt64(size), rootHash: root(size).bytes).body)
    }

    func proof(_ old: Int64, _ new: Int64) throws -> [Hash] {
        old == 0 || old == new ? [] : try proveTree(newSize: new, oldSize: old, reader: reader)
    }

    func body(old: Int64, size: Int64) throws -> [UInt8] {
        AddCheckpointRequest(oldSize: UInt64(old), proof: try proof(old, size), checkpointNote: try note(size)).body
    }
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "witness-test-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func testCosigner(_ name: String = "witness.example") throws -> Cosigner {
    try Cosigner(name: name, seed: SecretBytes(copying: Hash.sha256(Array(name.utf8)).bytes))
}
