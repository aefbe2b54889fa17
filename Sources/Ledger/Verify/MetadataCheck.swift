import LMDB
import LedgerFormat
import MerkleLog
import RecordFormats
import Sodium

/// Keyless checks of the `meta` rows (docs/VERIFY.md, "What is checked"). Opening the ledger already required the
/// format version, ledger id, origin, verifier key and key mode; the ledger id and origin are bound into every
/// leaf and checkpoint, and the verifier key is compared with the pinned key and `verifier.key`. What is left is
/// checked here: no row the engine does not write, each row well-formed, and the ones nothing else binds
/// (creation time, key mode, passphrase parameters, sealed signing key, matter key counter) consistent with the
/// rest. Deep verify proves the key mode, passphrase parameters and sealed signing key in full: unlocking derives
/// the master key through them and opens the signing key, whose public key must be the verifier key.
extension Ledger {
    func checkMetadata(_ txn: ReadTransaction, firstRecordedAt: Int64?, into report: inout VerifyReport) throws {
        func violation(_ detail: String, expected: String? = nil, found: String? = nil) {
            report.add(Violation(seq: nil, kind: .metadata, detail: detail, expected: expected, found: found))
        }
        try checkMetadataNames(txn, violation: violation)
        checkCreatedAt(try txn.meta(store, .createdAt), firstRecordedAt: firstRecordedAt, violation: violation)
        checkKeyMode(try txn.meta(store, .kdf), violation: violation)
        let sealed = try txn.meta(store, .signingKey),
            sealedCount = KeyRing.sealedOverhead + Ed25519SigningKey.seedByteCount
        if sealed?.count != sealedCount || sealed?.first != 1 {
            violation("the sealed signing key is missing, or not version 1 and \(sealedCount) bytes",
                      found: sealed.map { "\($0.count) bytes, version \($0.first ?? 0)" } ?? "no row")
        }
        try checkKeyCounter(txn, violation: violation)
        if let box = try txn.meta(store, .boxKey), box.count != 32 {
            violation("the master box key is not 32 bytes", expected: "32 bytes", found: "\(box.count) bytes")
        }
    }

    /// Every row is one the engine writes.
    private func checkMetadataNames(_ txn: ReadTransaction, violation: (String, String?, String?) -> Void) throws {
        let cursor = try txn.cursor(store.meta)
        defer { cursor.close() }
        var pair = try cursor.first()
        while let row = pair {
            let name = String(decoding: row.key, as: UTF8.self)
            if MetaKey(rawValue: name) == nil {  // bytes that are not UTF-8 decode to U+FFFD: no name matches
                let printable = row.key.allSatisfy { (0x21...0x7e).contains($0) }
                let shown = printable ? name : "0x" + Hex.encode(Array(row.key))
                violation("the metadata holds a row the engine never writes: \(shown)", nil, nil)
            }
            pair = try cursor.next()
        }
    }

    /// Eight bytes, and no later than the first entry was recorded (the engine stamps both from one clock).
    private func checkCreatedAt(_ raw: [UInt8]?, firstRecordedAt: Int64?,
                                violation: (String, String?, String?) -> Void) {
        guard let raw, let value = raw.withUnsafeBytes({ UInt64(bigEndianBytes: $0) }) else {
            violation("the creation time is missing or not 8 bytes", nil, nil)
            return
        }
        let createdAt = Int64(bitPattern: value)
        if let first = firstRecordedAt, createdAt > first {
            violation("the ledger's creation time is later than its first entry was recorded",
                      "≤ \(Timestamp.formatRFC3339(micros: first))", Timestamp.formatRFC3339(micros: createdAt))
        }
    }

    /// "file" or "passphrase"; passphrase parameters exactly when the mode is "passphrase", and within range.
    private func checkKeyMode(_ kdf: [UInt8]?, violation: (String, String?, String?) -> Void) {
        switch keyMode {
        case "file":
            if kdf != nil { violation("a key-file ledger holds passphrase parameters", "no kdf row", "a kdf row") }
        case "passphrase":
            guard let kdf else {
                violation("a passphrase ledger has no passphrase parameters", "a kdf row", "no row")
                return
            }
            do { _ = try kdf.withUnsafeBytes { try PassphraseParameters.decode($0) } } catch {
                violation("the passphrase parameters are malformed: \(error)", nil, nil)
            }
        default:
            violation("the key mode is neither \"file\" nor \"passphrase\"", "file or passphrase", keyMode)
        }
    }

    /// The next matter key id must follow the highest stored key id: keys are only ever added, with consecutive
    /// ids, in the transaction that advances the counter. A counter moved back would make the next new matter
    /// reuse an id; one moved forward hides nothing but is not what the engine writes (except after a destruction,
    /// which deletes keys).
    private func checkKeyCounter(_ txn: ReadTransaction, violation: (String, String?, String?) -> Void) throws {
        let cursor = try txn.cursor(store.keys)
        defer { cursor.close() }
        guard let raw = try txn.get(store.meta, key: MetaKey.nextKeyID.key),
              let next = UInt32(bigEndianBytes: raw) else {
            violation("the next matter key id is missing or not 4 bytes", nil, nil)
            return
        }
        var highest: UInt32 = 0  // no keys yet: the counter starts at 1
        if let last = try cursor.last() {
            // a malformed keys row is reported elsewhere
            guard let id = UInt32(bigEndianBytes: last.key) else { return }
            highest = id
        }
        // A destruction deletes keys, the highest ones among them perhaps: then the counter need only be beyond.
        let destroyed = try !destroyedMatters(access: store.openedAccess, txn: txn).isEmpty
        if destroyed ? next <= highest : next != highest &+ 1 {
            violation("the next matter key id does not follow the highest stored key id",
                      String(highest &+ 1), String(next))
        }
    }
}
