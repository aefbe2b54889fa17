import MerkleLog

/// What `Ledger.publishTiles` publishes, and where.
public struct PublishOptions: Sendable {
    /// The tiled log's directory (created if missing).
    public var directory: String
    /// Also write entry bundles (`tile/entries/…`): every leaf, i.e. every entry's public metadata. Off by default.
    public var withLeaves = false
    /// A verifier key kept outside the ledger (text form); nil: the ledger's own.
    public var pinnedVerifierKey: String?

    public init(directory: String) { self.directory = directory }
}

/// What one publish did.
public struct PublishReport: Sendable {
    public let directory: String
    public let origin: String
    /// The size of the published checkpoint: the ledger's newest stored one.
    public let size: UInt64
    public let root: Hash
    /// Entries in the ledger; more than `size` when entries were appended after the newest checkpoint.
    public let ledgerSize: UInt64
    /// The size of the checkpoint the directory held before (nil: none).
    public let previousSize: UInt64?
    public var tilesWritten = 0
    public var tilesSkipped = 0
    public var bundlesWritten = 0
    public var bundlesSkipped = 0
    /// Partial tiles and bundles removed because their full file now exists (tlog-tiles allows it).
    public var partialsRemoved = 0
    /// Bytes of tiles, bundles and checkpoint written.
    public var bytesWritten = 0
    /// The directory holds entry bundles from an earlier `withLeaves` publish, and this one wrote none.
    public var bundlesLeftBehind = false
    public var checkpointWritten = false
    public var seconds = 0.0
}

/// Why a publish was refused. Nothing is written to the directory in any of these cases, except where noted.
public enum PublishError: Error, CustomStringConvertible, Sendable {
    /// The ledger holds no signed checkpoint to publish.
    case noCheckpoint
    /// The directory is the ledger's, inside it, or holds it: published files must never mix with the ledger's.
    case directoryInsideLedger(path: String)
    /// The directory holds files that are not a tiled log's.
    case foreignFiles(path: String, example: String)
    /// The directory's checkpoint is not this log's (another origin or key), or its tiles are another log's.
    case otherLog(path: String, reason: String)
    /// The directory already publishes a larger tree than the ledger's newest checkpoint.
    case wouldRollBack(path: String, published: UInt64, newest: UInt64)
    /// The directory's checkpoint is this log's but the ledger disagrees with it (a fork or a rewritten ledger), or a
    /// published tile's bytes differ from the ledger's. Tiles checked before the mismatch may have been written.
    case inconsistent(path: String, reason: String)

    public var description: String {
        switch self {
        case .noCheckpoint:
            return "the ledger has no signed checkpoint to publish"
        case .directoryInsideLedger(let path):
            return "\(path) is the ledger directory, inside it, or holds it; publish tiles to a directory of their own"
        case .foreignFiles(let path, let example):
            return "\(path) holds files that are not a tiled log's (e.g. \(example)); use a new or empty directory"
        case .otherLog(let path, let reason):
            return "\(path) holds another log: \(reason)"
        case .wouldRollBack(let path, let published, let newest):
            return "\(path) already publishes a tree of \(published) entries, more than the ledger's newest checkpoint "
                + "(\(newest)); refusing to roll it back"
        case .inconsistent(let path, let reason):
            return "\(path) disagrees with the ledger: \(reason)"
        }
    }
}
