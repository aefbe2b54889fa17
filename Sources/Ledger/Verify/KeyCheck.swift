import Dispatch
import Foundation
import LMDB
import LedgerFormat
import LedgerSupport
import MerkleLog
import Sodium

/// Deep verify's check of every stored key (`keyProblems`), started on a thread of its own when verify begins.
/// Opening the keys (per key pair an X25519 box opened and its public key derived, per batch key one box opened)
/// used to follow the scan on one core, and the scan's workers had opened the same key pairs before; now it runs
/// while the scanning thread walks the structure and reads the first chunk, and leaves what it opens in the session's
/// caches, where the workers find it (a worker missing a key waits for this check first, `awaitKeys`).
/// It reads a snapshot of its own: its findings count only when that is the verify's snapshot (same transaction
/// id); otherwise verify checks again in its own transaction.
final class BackgroundKeyCheck: @unchecked Sendable {
    // @unchecked: `outcome` is written by the check's thread before it leaves `finished` and read only after
    // `finished.wait()`; `stopped` is behind a lock.
    private let finished = DispatchGroup()
    /// Left when the check is done, or once it has checked `warmLimit` keys: the session keeps a bounded number of
    /// opened data keys, so beyond that the workers stop waiting and open the keys they need themselves.
    private let warm = DispatchGroup()
    private let stopped = Locked(false)
    private var outcome: Result<(snapshot: UInt64?, problems: [String]), any Error> = .success((nil, []))
    static let warmLimit = 512

    init(_ ledger: Ledger, ring: KeyRing) {
        finished.enter()
        warm.enter()
        Thread { [self] in run(ledger, ring: ring) }.start()
    }

    private func run(_ ledger: Ledger, ring: KeyRing) {
        var warmed = false
        func warmUp() {
            if !warmed { warm.leave() }
            warmed = true
        }
        outcome = Result {
            try ledger.store.environment.read { txn in
                (txn.snapshotID, try ledger.keyProblems(txn, ring: ring) { checked in
                    if checked >= Self.warmLimit { warmUp() }
                    return !stopped.withLock { $0 }
                })
            }
        }
        warmUp()
        finished.leave()
    }

    /// Returns once the keys the scan needs are open (or no longer worth waiting for).
    func awaitKeys() { warm.wait() }

    /// Waits for the check: the problems it found (in key id order), or nil when it read another snapshot than
    /// `snapshot`. Rethrows a storage error of its transaction.
    func finish(snapshot: UInt64?) throws -> [String]? {
        finished.wait()
        let (seen, problems) = try outcome.get()
        return seen != nil && seen == snapshot ? problems : nil
    }

    /// Stops the check after the key in hand and waits for its thread (verify is ending).
    func cancel() {
        stopped.withLock { $0 = true }
        finished.wait()
    }
}

extension Ledger {
    /// Deep: every stored key opens with the master key: v1 matter keys unwrap, key pairs' private keys open from the
    /// master box key and match their public keys and matters, batch keys open with their pairs. Returns the
    /// problems in key id order; `proceed(keys read so far)` is asked after each key (false stops the check).
    func keyProblems(_ txn: ReadTransaction, ring: KeyRing,
                     proceed: (Int) -> Bool = { _ in true }) throws -> [String] {
        let cursor = try txn.cursor(store.keys)
        defer { cursor.close() }
        let master = Principal(master: ring)
        var problems = [String]()
        var pair = try cursor.first()
        var read = 0
        while let row = pair {
            pair = try cursor.next()
            read += 1
            // the keys are spread through the file: release the mapped pages now and then (KeyDirectory's reason)
            if read % 512 == 0, let pointer = row.value.baseAddress { store.environment.releaseMappedPages(containing: pointer) }
            if let id = UInt32(bigEndianBytes: row.key), let record = try? KeyRecord.decode(row.value, id: id),
               let problem = keyProblem(id, record, master: master, txn: txn) {
                problems.append(problem)
            }  // an undecodable row is reported by the keyless key check
            guard proceed(read) else { break }
        }
        return problems
    }

    private func keyProblem(_ id: UInt32, _ record: KeyRecord, master: Principal, txn: ReadTransaction) -> String? {
        switch record {
        case .matterKey(let sealed):
            let opens = (try? sealed.withUnsafeBytes { try master.ring!.unwrapMatterKey($0, ledgerID: ledgerID, keyID: id) }) != nil
            return opens ? nil : "sealed matter key \(id) does not unwrap"
        case .keyPair(let pair):
            guard let secret = try? pair.sealedSecret.withUnsafeBytes({ try MatterSecret.open($0, with: master.box) }),
                  let derived = try? BoxKeyPair(secretKey: secret.secretKey) else {
                return "the private key of key pair \(id) does not open with the master key"
            }
            rememberKeyPair(derived, id: id)  // what opening it for its batch keys would give: not opened again
            if derived.publicKey != pair.publicKey { return "key pair \(id): the public key is not its private key's" }
            if master.ring!.matterTag(secret.matter) != pair.tag || secret.tag != pair.tag {
                return "key pair \(id): the sealed matter number does not match its matter tag"
            }
            return nil
        case .batchKey:
            return (try? entryKey(id: id, principal: master, txn: txn)) == nil ? "batch key \(id) does not open" : nil
        }
    }
}
