import LMDB
import LedgerFormat
import LedgerReport
import MerkleLog
import Sodium

extension Ledger {
    /// What the retention status needs of every matter the ledger knows (master key): its number (from its key pair,
    /// or for a matter with only a v1 key, from its first entry), entry count, holds in force and record tags (read
    /// only when the policy sets periods by tag); destroyed matters too, named when the policy names them.
    public func retentionFacts(policy: RetentionPolicy) throws -> [RetentionFacts] {
        let ring = try requireKeys()
        let access = try store.access()
        var facts = try LedgerError.wrap("read the matters") {
            try store.environment.read { txn in
                try liveMatterFacts(ring: ring, access: access, txn: txn)
                    + destroyedMatterFacts(ring: ring, policy: policy, access: access, txn: txn)
            }
        }
        if !policy.byTag.isEmpty {
            for index in facts.indices where facts[index].destroyed == nil {
                facts[index].recordTags = try recordTags(of: facts[index].matter!)
            }
        }
        return facts
    }

    private func liveMatterFacts(ring: KeyRing, access: Database?, txn: ReadTransaction) throws -> [RetentionFacts] {
        let cursor = try txn.cursor(store.matterKeys)
        defer { cursor.close() }
        var out = [RetentionFacts]()
        var row = try cursor.first()
        while let current = row {
            row = try cursor.next()
            guard current.key.count == Hash.byteCount, let id = UInt32(bigEndianBytes: current.value) else {
                throw LedgerError.corrupt("a matter-key index row is malformed (run `ledger verify`)")
            }
            let tag = Hash(unsafeBytes: current.key)
            let seqs = try seqs(tag: tag, txn: txn)
            guard let matter = try matterNumber(tag: tag, keyID: id, firstSeq: seqs.first, ring: ring, txn: txn) else {
                continue  // a v1 key without entries: nothing to keep or destroy
            }
            out.append(RetentionFacts(matter: matter, tagHex: tag.hex, recordTags: [], entries: seqs.count,
                                      holds: try holdsInForce(tag, access: access, txn: txn).map(Self.retentionHold),
                                      destroyed: nil))
        }
        return out
    }

    /// The matter number: sealed in its key pair (to the master box key), else in its first entry.
    private func matterNumber(tag: Hash, keyID: UInt32, firstSeq: UInt64?, ring: KeyRing,
                              txn: ReadTransaction) throws -> String? {
        if case .keyPair(let pair) = try keyRecord(keyID, txn: txn) {
            do { return try pair.sealedSecret.withUnsafeBytes { try MatterSecret.open($0, with: ring.box) }.matter } catch {
                throw LedgerError.corrupt("key pair \(keyID) does not open with this master key")
            }
        }
        guard let firstSeq, let entry = try decryptEntry(firstSeq, principal: Principal(master: ring), txn: txn) else {
            return nil
        }
        return entry.string("matter")
    }

    private func destroyedMatterFacts(ring: KeyRing, policy: RetentionPolicy, access: Database?,
                                      txn: ReadTransaction) throws -> [RetentionFacts] {
        let names = Dictionary((Array(policy.closed.keys) + Array(policy.byMatter.keys)).map { (ring.matterTag($0), $0) },
                               uniquingKeysWith: { a, _ in a })
        return try destroyedMatters(access: access, txn: txn).map { tag, record in
            RetentionFacts(matter: names[tag], tagHex: tag.hex, recordTags: [], entries: Int(record.destruction.entries),
                           holds: [], destroyed: RetentionDestruction(seq: record.seq, at: record.destroyedAt,
                                                                      by: record.destruction.by,
                                                                      reason: record.destruction.reason,
                                                                      beforeRetentionEnd: record.destruction.beforeRetentionEnd))
        }
    }
}
