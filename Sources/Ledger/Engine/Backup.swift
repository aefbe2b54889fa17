import Dispatch
import Foundation
import LMDB
import MerkleLog

/// What a verified backup holds.
public struct BackupSummary: Sendable {
    /// The backup directory (data.mdb and verifier.key).
    public let directory: String
    /// Entries in the copy: the source's size at the instant the copy's snapshot was taken.
    public let entries: UInt64
    /// The recomputed root of the copy's tree (equal to the source's root at `entries`).
    public let root: Hash
    /// Size of the copy's data file.
    public let bytes: Int
    /// Stored checkpoints that verified in the copy.
    public let checkpointsChecked: Int
    /// Wall time of copy and verification.
    public let seconds: Double
}

extension Ledger {
    /// Takes a consistent hot backup into `directory` (new, or an empty directory) and verifies it.
    ///
    /// The copy is LMDB's compacting copy (`mdb_env_copy2` with `MDB_CP_COMPACT`): one read snapshot, so writers
    /// in this and other processes keep running and the copy holds exactly the entries committed when it began.
    /// `verifier.key` is copied beside it. The copy is then opened and verified keyless, with checkpoints checked
    /// against `pinnedVerifierKey` (by default this ledger's own verifier key). Only an intact copy is kept:
    /// otherwise the copy is removed and `LedgerError.corrupt` thrown. Needs no master key.
    public func backup(to directory: String, pinnedVerifierKey: String? = nil) throws -> BackupSummary {
        let started = DispatchTime.now()
        if Self.isPath((directory as NSString).appendingPathComponent("x"), inside: self.directory) {
            throw LedgerError.invalidArgument("the backup directory must not be the ledger directory itself")
        }
        // A page-level copy now could carry destroyed keys from freed pages: the compaction must finish first.
        guard try store.environment.read({ try $0.meta(store, .scrubPending) }) == nil else {
            throw LedgerError.invalidArgument("the compaction after a shred or rotation has not finished: run "
                                              + "`ledger compact` before taking a backup (a copy now could carry "
                                              + "destroyed keys)")
        }
        let created = try Self.prepareBackupDirectory(directory)
        do {
            let dataPath = try copy(to: directory)
            let report = try Self.verifyCopy(directory, pinnedVerifierKey: pinnedVerifierKey ?? storedVerifierKey)
            let bytes = Store.fileSize(dataPath)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            Self.logger.debug("backup verified", metadata: ["directory": "\(directory)",
                                                            "entries": "\(report.entries)"])
            return BackupSummary(directory: directory, entries: report.entries, root: report.root, bytes: bytes,
                                 checkpointsChecked: report.checkpointsChecked, seconds: seconds)
        } catch {
            Self.removeBackup(directory, created: created)  // leave no unverified copy behind
            throw error
        }
    }

    /// LMDB's compacting copy of one read snapshot, made private like the ledger's own files, and the verifier key
    /// beside it. Returns the copy's data file.
    private func copy(to directory: String) throws -> String {
        try LedgerError.wrap("copy the ledger") { try store.environment.copy(to: directory, compact: true) }
        let dataPath = (directory as NSString).appendingPathComponent("data.mdb")
        chmod(dataPath, 0o600)  // mdb_env_copy2 creates the file 0666 & ~umask; the ledger's own files are 0600
        try copyVerifierKey(to: directory)
        return dataPath
    }

    /// Verifies the copy keyless; anything but an intact copy is `LedgerError.corrupt`.
    private static func verifyCopy(_ directory: String, pinnedVerifierKey: String) throws -> VerifyReport {
        let copy = try Ledger.open(at: directory)
        defer { copy.close() }
        let report = try copy.verify(VerifyOptions(pinnedVerifierKey: pinnedVerifierKey))
        copy.close()
        // lock.mdb only holds reader slots of the verification just done; ledger.lock is empty.
        for name in ["lock.mdb", LedgerLock.fileName] {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
        guard report.isIntact else {
            let first = report.violations.prefix(3).map(\.description).joined(separator: "; ")
            let count = "\(report.violationCount) violation\(report.violationCount == 1 ? "" : "s")"
            throw LedgerError.corrupt("the backup copy does not verify (\(count): \(first)); it was removed")
        }
        return report
    }

    private static func removeBackup(_ directory: String, created: Bool) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] {
            try? fm.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
        if created { try? fm.removeItem(atPath: directory) }
    }

    /// Creates `directory` (mode 0700) or accepts an existing empty one; returns true when it created it.
    private static func prepareBackupDirectory(_ directory: String) throws -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try? fm.contentsOfDirectory(atPath: directory))?.isEmpty ?? false else {
                throw LedgerError.backupTargetNotEmpty(path: directory)
            }
            return false
        }
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o700])
        } catch {
            throw LedgerError.io(path: directory, detail: "cannot create the backup directory")
        }
        return true
    }

    /// Copies `verifier.key` byte for byte (a differing file is then reported by the copy's verification);
    /// writes the stored key if the ledger has no such file.
    private func copyVerifierKey(to directory: String) throws {
        let source = (self.directory as NSString).appendingPathComponent(Self.verifierKeyFileName)
        let target = (directory as NSString).appendingPathComponent(Self.verifierKeyFileName)
        let data = FileManager.default.contents(atPath: source) ?? Data((storedVerifierKey + "\n").utf8)
        do {
            try data.write(to: URL(fileURLWithPath: target))
        } catch {
            throw LedgerError.io(path: target, detail: "cannot write the verifier key")
        }
    }
}
