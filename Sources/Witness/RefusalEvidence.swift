import Foundation
import LedgerSupport
import MerkleLog
import Sodium
import Transparency

/// What a witness keeps when it refuses a fork: the refused checkpoint note, which the log's own key signed, beside
/// the head the witness had cosigned. With the firm's cosigned note of that size (same log key, another root) it is
/// a cryptographic proof of the split view, which the firm cannot delete. Files go to `<state>/refused/`, one per
/// refusal, written atomically and 0600; at most `maxFiles` (a log that keeps forking cannot fill the disk).
public struct RefusalEvidence: Sendable {
    public static let directoryName = "refused"
    public static let maxFiles = 10_000

    public let directory: String

    public init(stateDirectory: String) {
        directory = (stateDirectory as NSString).appendingPathComponent(Self.directoryName)
    }

    /// Stores the refused request's checkpoint note with the witness's head; returns the file's path, or nil when it
    /// could not be kept (the caller logs that; the refusal itself stands).
    @discardableResult
    public func keep(note: String, origin: String, refusedSize: UInt64, head: WitnessedHead?, reason: String,
                     at time: UInt64) -> String? {
        guard ensureDirectory(), count() < Self.maxFiles else { return nil }
        let originID = SHA256Sodium.hash(Array(origin.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        let name = "\(time)-\(originID)-\(refusedSize)-\(UInt32.random(in: 0...UInt32.max)).txt"
        let headLine = head.map { "witnessed size \($0.size) root \($0.root.base64)" } ?? "witnessed nothing"
        let text = "refused at \(time): \(reason); \(headLine)\n\n" + note
        let path = (directory as NSString).appendingPathComponent(name)
        do { try AtomicFile.write(text, to: path, mode: 0o600) } catch { return nil }
        return path
    }

    private func ensureDirectory() -> Bool {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) { return isDirectory.boolValue }
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else { return false }
        AtomicFile.syncDirectory(AtomicFile.directory(containing: directory))
        return true
    }

    private func count() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: directory).count) ?? Self.maxFiles
    }
}
