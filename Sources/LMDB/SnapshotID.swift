import CLMDB

extension ReadTransaction {
    /// The id of the snapshot this transaction reads (`mdb_txn_id`): two read transactions with the same id see the
    /// same data. nil once the transaction has ended.
    public var snapshotID: UInt64? {
        txn.map { UInt64(UInt(bitPattern: mdb_txn_id($0))) }  // a size_t
    }
}
