import LedgerFormat
import MerkleLog

/// One recorded export as `ledger exports` lists it.
public struct ExportLogEntry: Sendable {
    public let seq: UInt64
    public let recordedAt: Int64
    public let export: AccessEvent.Export
    /// Matter numbers of `export.matters` (the tag's hex where no key pair names the matter any more).
    public let matterNames: [String]
}

extension Ledger {
    /// Every recorded export (master key), oldest first; only those of `matter` when given (docs/EXPORT.md).
    public func exportLog(matter: String? = nil) throws -> [ExportLogEntry] {
        let ring = try requireKeys()
        let tag = matter.map(ring.matterTag)
        let names = try matterNames()
        return try events().compactMap { entry in
            guard case .export(let export) = entry.event else { return nil }
            if let tag, !export.matters.contains(tag) { return nil }
            return ExportLogEntry(seq: entry.seq, recordedAt: entry.recordedAt, export: export,
                                  matterNames: export.matters.map { names[$0] ?? $0.hex })
        }
    }
}
