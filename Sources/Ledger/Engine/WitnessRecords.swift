import Foundation
import LMDB
import MerkleLog

/// A witness's refusal of one of this ledger's checkpoints, recorded by `checkpoint --witness` and reported by
/// `verify --policy` as a violation: evidence of a split view (fork) or of a ledger rolled back.
public struct WitnessRefusal: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The witness holds another root at the checkpoint's size (or at a size its proof cannot reach).
        case fork
        /// The witness has cosigned a larger tree than the ledger holds.
        case rollback
    }

    public let witness: String
    public let kind: Kind
    public let checkpointSize: UInt64
    public let witnessSize: UInt64
    /// POSIX seconds.
    public let recordedAt: Int64

    public init(witness: String, kind: Kind, checkpointSize: UInt64, witnessSize: UInt64, recordedAt: Int64) {
        self.witness = witness
        self.kind = kind
        self.checkpointSize = checkpointSize
        self.witnessSize = witnessSize
        self.recordedAt = recordedAt
    }

    public var description: String {
        switch kind {
        case .fork:
            return "witness \(witness) refused checkpoint size \(checkpointSize): it reports holding size "
                + "\(witnessSize) with another root (fork, as the witness claims; ask its operator for the note it holds)"
        case .rollback:
            return "witness \(witness) refused checkpoint size \(checkpointSize): it reports having cosigned size "
                + "\(witnessSize) > ledger size \(checkpointSize) (rollback, as the witness claims)"
        }
    }

    /// The stored value: `v1 <kind> <checkpoint size> <witness size> <recorded at> <witness name>`.
    var stored: [UInt8] {
        Array("v1 \(kind.rawValue) \(checkpointSize) \(witnessSize) \(recordedAt) \(witness)".utf8)
    }

    init?(stored bytes: UnsafeRawBufferPointer) {
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ", maxSplits: 5,
                                                                  omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "v1", let kind = Kind(rawValue: String(fields[1])),
              let size = UInt64(fields[2]), let theirs = UInt64(fields[3]), let at = Int64(fields[4]),
              !fields[5].isEmpty else { return nil }
        self.init(witness: String(fields[5]), kind: kind, checkpointSize: size, witnessSize: theirs, recordedAt: at)
    }
}

/// Rows of the `witnesses` database (docs/FORMAT.md, "Witnesses database"):
///
///     "s" || witness vkey text           → u64 BE: the checkpoint size that witness last cosigned for this ledger
///     "r" || u64 BE checkpoint size || u64 BE witness size || witness name → a refusal (`WitnessRefusal.stored`)
///     "a" || the same suffix as its "r" row → its acknowledgement: `v1 TAB <POSIX seconds> TAB <by> TAB <reason>`
enum WitnessRow {
    static func size(vkey: String) -> [UInt8] { [UInt8(ascii: "s")] + Array(vkey.utf8) }
    static func refusal(_ r: WitnessRefusal) -> [UInt8] {
        [UInt8(ascii: "r")] + r.checkpointSize.bigEndianBytes + r.witnessSize.bigEndianBytes + Array(r.witness.utf8)
    }
    static func acknowledgement(_ r: WitnessRefusal) -> [UInt8] { [UInt8(ascii: "a")] + refusal(r).dropFirst() }
}

/// Someone's investigated answer to a recorded refusal (`ledger witness acknowledge`): the refusal stays recorded,
/// and `verify --policy` reports it as acknowledged instead of as a violation.
public struct WitnessAcknowledgement: Sendable, Equatable {
    public let at: Int64
    public let by: String
    public let reason: String

    public init(at: Int64, by: String, reason: String) {
        self.at = at
        self.by = by
        self.reason = reason
    }

    var stored: [UInt8] { Array("v1\t\(at)\t\(by)\t\(reason)".utf8) }

    init?(stored bytes: UnsafeRawBufferPointer) {
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: "\t", maxSplits: 3,
                                                                  omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == "v1", let at = Int64(fields[1]), !fields[3].isEmpty else { return nil }
        self.init(at: at, by: String(fields[2]), reason: String(fields[3]))
    }
}

extension Ledger {
    /// The checkpoint size the witness with this vkey last cosigned for this ledger (0 if never).
    public func witnessedSize(vkey: String) throws -> UInt64 {
        guard let db = try LedgerError.wrap("open the witnesses database", { try store.witnesses() }) else { return 0 }
        return try LedgerError.wrap("read witness records") {
            try store.environment.read { txn in
                try txn.get(db, key: WitnessRow.size(vkey: vkey)).flatMap { UInt64(bigEndianBytes: $0) } ?? 0
            }
        }
    }

    /// Records the sizes witnesses cosigned (`vkey → size`) and their refusals, in one transaction. Needs a
    /// principal that may sign checkpoints.
    public func recordWitnessing(cosigned: [String: UInt64], refusals: [WitnessRefusal]) throws {
        _ = try requireSigner()
        guard !cosigned.isEmpty || !refusals.isEmpty else { return }
        let db = try LedgerError.wrap("open the witnesses database") { try store.witnesses(create: true) }
        guard let db else { throw LedgerError.corrupt("the witnesses database cannot be created") }
        try LedgerError.wrap("record witnessing") {
            try store.environment.write { txn in
                for (vkey, size) in cosigned { try txn.put(db, key: WitnessRow.size(vkey: vkey), value: size.bigEndianBytes) }
                for refusal in refusals { try txn.put(db, key: WitnessRow.refusal(refusal), value: refusal.stored) }
            }
        }
    }

    /// Records an acknowledgement of the recorded refusal by `witness` of checkpoint size `checkpointSize` (each of
    /// that witness's refusals at that size). Needs a principal that may sign checkpoints; refuses an unknown refusal
    /// and an empty reason. Returns how many refusals it acknowledged.
    @discardableResult
    public func acknowledgeWitnessRefusal(witness: String, checkpointSize: UInt64,
                                          _ acknowledgement: WitnessAcknowledgement) throws -> Int {
        _ = try requireSigner()
        let reason = acknowledgement.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        let oneLine: (String) -> Bool = { !$0.contains(where: { $0.isNewline || $0 == "\t" }) }
        guard !reason.isEmpty, reason.utf8.count <= 2000, oneLine(reason), oneLine(acknowledgement.by),
              acknowledgement.by.utf8.count <= 200 else {
            throw LedgerError.invalidArgument("an acknowledgement needs a one-line reason (at most 2,000 bytes) and a "
                                              + "one-line --by")
        }
        let matching = try witnessRefusals().compactMap { $0 }.filter {
            $0.witness == witness && $0.checkpointSize == checkpointSize
        }
        guard !matching.isEmpty, let db = try LedgerError.wrap("open the witnesses database", { try store.witnesses() })
        else {
            throw LedgerError.invalidArgument("no recorded refusal by witness \(witness) of checkpoint size \(checkpointSize)")
        }
        try LedgerError.wrap("record an acknowledgement") {
            try store.environment.write { txn in
                for refusal in matching {
                    let stored = WitnessAcknowledgement(at: acknowledgement.at, by: acknowledgement.by, reason: reason)
                    try txn.put(db, key: WitnessRow.acknowledgement(refusal), value: stored.stored)
                }
            }
        }
        return matching.count
    }

    /// The acknowledgement of `refusal`, if one was recorded (nil also when the row does not parse).
    public func witnessAcknowledgement(of refusal: WitnessRefusal) throws -> WitnessAcknowledgement? {
        guard let db = try LedgerError.wrap("open the witnesses database", { try store.witnesses() }) else { return nil }
        return try LedgerError.wrap("read witness records") {
            try store.environment.read { txn in
                try txn.get(db, key: WitnessRow.acknowledgement(refusal)).flatMap { raw in
                    raw.withUnsafeBytes { WitnessAcknowledgement(stored: $0) }
                }
            }
        }
    }

    /// Every recorded refusal, by checkpoint size. A row that does not parse is returned as nil (corrupt).
    public func witnessRefusals() throws -> [WitnessRefusal?] {
        guard let db = try LedgerError.wrap("open the witnesses database", { try store.witnesses() }) else { return [] }
        return try LedgerError.wrap("read witness records") {
            try store.environment.read { txn in
                let cursor = try txn.cursor(db)
                defer { cursor.close() }
                var result = [WitnessRefusal?]()
                var row = try cursor.first()
                while let pair = row {
                    row = try cursor.next()
                    guard pair.key.first == UInt8(ascii: "r") else { continue }
                    result.append(WitnessRefusal(stored: pair.value))
                }
                return result
            }
        }
    }

    /// The RFC 6962 consistency proof from `old` to `new` entries (empty when `old` is 0 or equals `new`).
    public func consistencyProof(from old: UInt64, to new: UInt64) throws -> [Hash] {
        guard old > 0, old < new else {
            guard old <= new else { throw LedgerError.invalidArgument("no consistency proof from \(old) to \(new)") }
            return []
        }
        return try LedgerError.wrap("prove consistency") {
            try store.environment.read { txn in
                guard new <= (try txn.entryCount(store)) else {
                    throw LedgerError.invalidArgument("the ledger has fewer than \(new) entries")
                }
                return try proveTree(newSize: Int64(new), oldSize: Int64(old),
                                     reader: TreeHashReader(transaction: txn, store: store))
            }
        }
    }
}
