import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog

/// One access-control event entry as `ledger access log` and `ledger access grants` read it.
public struct EventEntry: Sendable {
    public let seq: UInt64
    public let recordedAt: Int64
    public let event: AccessEvent
}

extension Ledger {
    /// Links one event entry (docs/FORMAT.md, "Event leaf v1") into the chain inside `txn`, which may also hold the
    /// key and grant changes the event records: both commit together or not at all.
    func appendEvents(_ events: [AccessEvent], recordedAt: Int64, txn: WriteTransaction) throws -> AppendState {
        var state = try loadAppendState(txn)
        let sealed = try events.enumerated().map { offset, event in
            let body = event.encoded()
            guard body.count <= EventLeaf.maxBodyBytes else {
                throw LedgerError.invalidArgument("the event is too large to record (too many matters?)")
            }
            let seq = state.size + UInt64(offset)
            let leaf = EventLeaf(ledgerID: ledgerID, seq: seq, recordedAt: 0, previousHash: .zero, body: body).encoded()
            return SealedRecord(seq: seq, matterTag: nil, sourceTag: nil,
                                storedValue: StoredEntry.encode(leaf: leaf, ciphertext: []), leafLength: leaf.count)
        }
        try link(sealed, into: &state, recordedAt: recordedAt, txn: txn)
        return state
    }

    /// Appends one event durably in its own transaction; `extra` writes what the event records in the same one.
    /// `changes` writes what the events record and returns them, all in one transaction. Returns the last event's seq.
    @discardableResult
    func commitEvents(operation: String, _ changes: (WriteTransaction) throws -> [AccessEvent]) throws -> UInt64 {
        let recordedAt = Clock.nowMicros()
        let state = try LedgerError.wrap(operation) {
            _ = try store.events(create: true)  // opened before the transaction: link indexes the event's seq
            return try store.environment.write { txn -> AppendState in
                try appendEvents(try changes(txn), recordedAt: recordedAt, txn: txn)
            }
        }
        session.withLock { $0.appendState = state }  // only once committed
        return state.size - 1
    }

    /// Every event entry in seq order, through the `events` index (events are few: no scan of the records).
    public func events() throws -> [EventEntry] {
        try LedgerError.wrap("read events") {
            guard let index = try store.events() else { return [] }  // no event was ever recorded
            return try store.environment.read { txn in
                let cursor = try txn.cursor(index)
                defer { cursor.close() }
                var out = [EventEntry]()
                var row = try cursor.first()
                while let current = row {
                    row = try cursor.next()
                    guard let seq = UInt64(bigEndianBytes: current.key), let (leafBytes, _) = try txn.storedEntry(store, seq),
                          let leaf = try? EventLeaf.decode(leafBytes), leaf.seq == seq,
                          let event = try? AccessEvent.decode(leaf.body) else {
                        throw LedgerError.corrupt("the events index names an entry that is not a valid event (run "
                                                  + "`ledger verify`)")
                    }
                    out.append(EventEntry(seq: seq, recordedAt: leaf.recordedAt, event: event))
                }
                return out
            }
        }
    }
}
