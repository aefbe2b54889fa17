import Dispatch
import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import RecordFormats
import SignedNote
import Sodium

/// What the sequential pass needs from one entry, computed in parallel.
struct EntryFacts {
    var seq: UInt64
    var recordHash = Hash.zero
    var previousHash = Hash.zero
    var recordedAt: Int64 = .min
    var hasSource = false
    /// The leaf bytes could be cut out of the stored entry (and `recordHash` is their hash).
    var hashed = false
    /// nodeHash(record hash of the entry before, this record hash) when this entry's seq is odd and the worker checked
    /// both (`ChunkCheck`): the fold's first tree merge for it, computed on the workers two pairs at a time.
    var parentWithPrevious: Hash?
    var decoded = false
    /// Keyed digests of the index rows this entry should have (see IndexSetDigest).
    var matterRow = Hash.zero
    var sourceRow = Hash.zero
    var matterTag: Hash?
    /// An event entry's decoded event (a reference, so record entries' facts stay small).
    var event: EventBox?
    var isEvent = false
    var violations: [Violation] = []

    init(seq: UInt64) { self.seq = seq }

    mutating func fail(_ kind: Violation.Kind, _ detail: String, expected: String? = nil, found: String? = nil) {
        violations.append(Violation(seq: seq, kind: kind, detail: detail, expected: expected, found: found))
    }
}

/// An access-control event carried through the fold.
final class EventBox: Sendable {
    let event: AccessEvent
    init(_ event: AccessEvent) { self.event = event }
}

/// A stored checkpoint that verified, waiting for the scan to reach its size.
struct PendingCheckpoint {
    let size: UInt64
    let root: Hash
    let note: String
    let trusted: Bool
}
