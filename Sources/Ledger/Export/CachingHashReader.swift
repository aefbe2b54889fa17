import MerkleLog

/// Remembers stored tree hashes across the proofs of one export: neighbouring entries share most of their audit paths.
final class CachingHashReader: HashReader {
    private let base: any HashReader
    private var cache = [Int64: Hash]()

    init(_ base: any HashReader) { self.base = base }

    func readHashes(_ indexes: [Int64]) throws -> [Hash] {
        let missing = indexes.filter { cache[$0] == nil }
        if !missing.isEmpty {
            let hashes = try base.readHashes(missing)
            guard hashes.count == missing.count else {
                throw MerkleError.readerCount(requested: missing.count, returned: hashes.count)
            }
            for (index, hash) in zip(missing, hashes) { cache[index] = hash }
        }
        return indexes.map { cache[$0]! }
    }
}
