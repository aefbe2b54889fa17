/// Why a tree computation or a proof check failed.
public enum MerkleError: Error, Equatable, Sendable {
    /// An index, level or size out of range for the operation; the message names the function and values.
    case invalidIndex(String)
    /// The proof has the right shape but does not lead to the expected root(s).
    case proofMismatch
    /// The proof has more or fewer hashes than the tree shape requires.
    case badProofLength
    /// A `HashReader` returned a different number of hashes than it was asked for.
    case readerCount(requested: Int, returned: Int)
}

extension MerkleError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidIndex(let message): return "merkle: invalid index: \(message)"
        case .proofMismatch: return "merkle: proof does not match the root"
        case .badProofLength: return "merkle: proof has the wrong number of hashes"
        case .readerCount(let requested, let returned):
            return "merkle: hash reader returned \(returned) hashes for \(requested) indexes"
        }
    }
}
