import LMDB
import LedgerFormat
import MerkleLog

/// A legal hold in force, as the registry and its entry record it.
public struct HoldInForce: Sendable, Equatable {
    public let seq: UInt64
    public let placedAt: Int64
    public let hold: AccessEvent.Hold
}

/// A destroyed matter, as its destroy entry records it.
public struct DestroyedMatterRecord: Sendable, Equatable {
    public let seq: UInt64
    public let destroyedAt: Int64
    public let destruction: AccessEvent.Destruction
}

extension Ledger {
    /// Places a legal hold on `matter` (master key): an entry saying who, when and why. While any hold on a matter is
    /// in force, `shred` refuses it. Returns the hold entry's seq, which names the hold.
    public func placeHold(matter: String, reason: String, by: String) throws -> UInt64 {
        let ring = try requireKeys()
        try Self.validateRetentionText(reason: reason, by: by)
        let tag = ring.matterTag(matter)
        guard let access = try store.access(create: true) else { throw LedgerError.corrupt("cannot create access") }
        return try commitEvents(operation: "place a hold") { txn in
            try requireKnownLiveMatter(tag, matter: matter, access: access, txn: txn)
            let hold = AccessEvent.Hold(matter: tag, by: by, credential: AccessEvent.masterName, reason: reason)
            let seq = try txn.entryCount(store)
            try txn.put(access, key: AccessKey.hold(tag, seq: seq), value: AccessEvent.hold(hold).encoded(),
                        flags: [.noOverwrite])
            return [.hold(hold)]
        }
    }

    /// Releases a hold on `matter`: the one placed by entry `hold`, or the only one in force when nil.
    public func releaseHold(matter: String, hold: UInt64?, reason: String, by: String) throws -> UInt64 {
        let ring = try requireKeys()
        try Self.validateRetentionText(reason: reason, by: by)
        let tag = ring.matterTag(matter)
        guard let access = try store.access() else { throw LedgerError.invalidArgument("matter \(matter) is not on hold") }
        return try commitEvents(operation: "release a hold") { txn in
            let holds = try holdsInForce(tag, access: access, txn: txn)
            let released = try Self.pickHold(holds, named: hold, matter: matter)
            guard try txn.delete(access, key: AccessKey.hold(tag, seq: released)) else {
                throw LedgerError.corrupt("the hold registry changed during the release")
            }
            return [.release(AccessEvent.Release(matter: tag, hold: released, by: by,
                                                 credential: AccessEvent.masterName, reason: reason))]
        }
    }

    private static func pickHold(_ holds: [HoldInForce], named: UInt64?, matter: String) throws -> UInt64 {
        guard !holds.isEmpty else { throw LedgerError.invalidArgument("matter \(matter) is not on hold") }
        if let named {
            guard holds.contains(where: { $0.seq == named }) else {
                throw LedgerError.invalidArgument("entry \(named) is not a hold in force on matter \(matter) (holds in "
                    + "force: \(holds.map { "#\($0.seq)" }.joined(separator: ", ")))")
            }
            return named
        }
        guard holds.count == 1 else {
            throw LedgerError.invalidArgument("matter \(matter) has \(holds.count) holds in force "
                + "(\(holds.map { "#\($0.seq)" }.joined(separator: ", "))): name the one to release with --hold SEQ")
        }
        return holds[0].seq
    }

    /// A matter the ledger knows (it has entries or keys) and that is not destroyed.
    func requireKnownLiveMatter(_ tag: Hash, matter: String, access: Database?, txn: ReadTransaction) throws {
        if let destroyed = try destroyedMatter(tag, access: access, txn: txn) {
            throw LedgerError.invalidArgument("matter \(matter) was destroyed by entry \(destroyed.seq) on "
                + "\(Timestamp.formatRFC3339(micros: destroyed.destroyedAt))")
        }
        guard try txn.get(store.matterKeys, key: tag.bytes) != nil || txn.get(store.matters, key: tag.bytes) != nil else {
            throw LedgerError.invalidArgument("matter \(matter) has no entries in this ledger (check the number)")
        }
    }

    /// The holds in force on a matter (registry rows "h" || tag || seq), oldest first.
    func holdsInForce(_ tag: Hash, access: Database?, txn: ReadTransaction) throws -> [HoldInForce] {
        guard let access else { return [] }
        let prefix = AccessKey.holds(tag)
        let cursor = try txn.cursor(access)
        defer { cursor.close() }
        var holds = [HoldInForce]()
        var row = try cursor.seek(atLeast: prefix)
        while let current = row, current.key.starts(with: prefix) {
            row = try cursor.next()
            guard current.key.count == prefix.count + 8,
                  let seq = UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: current.key[prefix.count...])),
                  case .hold(let hold)? = try? AccessEvent.decode(Array(current.value)) else {
                throw LedgerError.corrupt("a stored legal hold does not decode (run `ledger verify`)")
            }
            holds.append(HoldInForce(seq: seq, placedAt: try eventRecordedAt(seq, txn: txn), hold: hold))
        }
        return holds
    }

    /// The destroy entry of a matter, if it was destroyed (registry row "d" || tag).
    func destroyedMatter(_ tag: Hash, access: Database?, txn: ReadTransaction) throws -> DestroyedMatterRecord? {
        guard let access, let raw = try txn.get(access, key: AccessKey.destroyed(tag)) else { return nil }
        guard raw.count > 8, let seq = UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: raw[0..<8])),
              case .destroy(let destruction)? = try? AccessEvent.decode(Array(raw[8...])) else {
            throw LedgerError.corrupt("a stored destruction does not decode (run `ledger verify`)")
        }
        return DestroyedMatterRecord(seq: seq, destroyedAt: try eventRecordedAt(seq, txn: txn), destruction: destruction)
    }

    /// Every destroyed matter, by tag.
    func destroyedMatters(access: Database?, txn: ReadTransaction) throws -> [Hash: DestroyedMatterRecord] {
        guard let access else { return [:] }
        let cursor = try txn.cursor(access)
        defer { cursor.close() }
        var out = [Hash: DestroyedMatterRecord]()
        var row = try cursor.seek(atLeast: [UInt8(ascii: "d")])
        while let current = row, current.key.first == UInt8(ascii: "d") {
            row = try cursor.next()
            guard current.key.count == 1 + Hash.byteCount else { throw LedgerError.corrupt("a destruction row is malformed") }
            let tag = Hash(unsafeBytes: UnsafeRawBufferPointer(rebasing: current.key[1...]))
            out[tag] = try destroyedMatter(tag, access: access, txn: txn)
        }
        return out
    }

    /// Destroyed matters' tags → their destroy entry's seq (what imports refuse to append to).
    func destroyedMatterSeqs() throws -> [Hash: UInt64] {
        guard let access = try store.access() else { return [:] }
        return try store.environment.read { txn in try destroyedMatters(access: access, txn: txn).mapValues(\.seq) }
    }

    /// The destruction of an entry's matter, in a read transaction of its own (for reads that meet a missing key).
    func destruction(ofTag tag: Hash) throws -> DestroyedMatterRecord? {
        let access = try store.access()
        return try store.environment.read { txn in try destroyedMatter(tag, access: access, txn: txn) }
    }

    /// recordedAt of the event entry `seq`.
    func eventRecordedAt(_ seq: UInt64, txn: ReadTransaction) throws -> Int64 {
        guard let (leaf, _) = try txn.storedEntry(store, seq), let event = try? EventLeaf.decode(leaf) else {
            throw LedgerError.corrupt("the registry names entry \(seq), which is not an event entry")
        }
        return event.recordedAt
    }
}
