import Foundation
import LedgerFormat
import MerkleLog
import RecordFormats
import SignedNote
import Sodium
import Transparency

/// What `ReceiptVerifier` found about one receipt (`ledger verify-receipt`).
public struct ReceiptReport: Sendable {
    public var index: UInt64?
    public var origin = ""
    public var treeSize: UInt64 = 0
    public var root = ""
    /// The RFC 6962 record hash of the leaf the receipt was checked for (hex).
    public var recordHash = ""
    /// Where that leaf came from: "extra" (the receipt's own extra data) or "given" (`--leaf`).
    public var leafSource = ""
    /// The leaf's format version (1, 2: a record entry; 3: an event entry) and recordedAt, once it decoded.
    public var leafVersion: Int?
    public var recordedAt: String?
    public var policy: PolicyOutcome?
    public var violations: [BundleViolation] = []

    public var isValid: Bool { violations.isEmpty }

    mutating func fail(_ kind: BundleViolation.Kind, _ detail: String) {
        violations.append(BundleViolation(kind: kind, entry: index, detail: detail))
    }

    public var json: JSONValue {
        // With "ok": false, every other member is the receipt's claim, not a checked fact.
        var members: [(String, JSONValue)] = [("ok", .bool(isValid))]
        if let index { members.append(("index", .integer(Int64(index)))) }
        members += [("origin", .string(origin)), ("treeSize", .integer(Int64(treeSize))), ("root", .string(root)),
                    ("recordHash", .string(recordHash)), ("leafSource", .string(leafSource))]
        if let leafVersion { members.append(("leafVersion", .integer(Int64(leafVersion)))) }
        if let recordedAt { members.append(("recordedAt", .string(recordedAt))) }
        if let policy { members.append(("policy", policy.json)) }
        members += [("violationCount", .integer(Int64(violations.count))),
                    ("violations", .array(violations.map(\.json)))]
        return .object(JSONObject(members))
    }

    public var summaryLines: [String] {
        // An invalid receipt's claims are shown for diagnosis only, marked as such.
        let unverified = isValid ? "" : " (unverified)"
        var lines = ["index:        \(index.map(String.init) ?? "?")\(unverified)",
                     "checkpoint:   \(origin) size \(treeSize), root \(root)\(unverified)",
                     "leaf:         record hash \(recordHash) (from \(leafSource))"
                        + (leafVersion.map { ", leaf v\($0)" } ?? "") + (recordedAt.map { ", recorded \($0)" } ?? "")
                        + unverified]
        if let policy { lines.append("policy:       \(policy.summary)") }
        lines.append("result:       \(isValid ? "VALID" : "INVALID (\(violations.count) violations)")")
        return lines
    }
}

/// Checks a c2sp.org/tlog-proof receipt offline (docs/FORMAT.md, "Receipts"): parsed strictly; its leaf is the
/// receipt's extra data or the one given (and they must agree); the leaf decodes and names the receipt's index; the
/// checkpoint is signed by the firm's key for its origin; the inclusion proof leads from the leaf's record hash to
/// the checkpoint's root; with a policy, the cosignatures meet its quorum.
public enum ReceiptVerifier {
    /// A receipt is at most this large (c2sp.org/tlog-proof as `TlogProof` reads it: a note of at most 1 MiB and 8 KiB).
    public static let maxReceiptBytes = TlogProof.maxSize

    /// `verifierKey`: the firm's key text (pinned), or nil to take the policy's log key for the receipt's origin.
    /// `leaf`: the entry's leaf (e.g. from a bundle's entries.jsonl), or nil to use the receipt's extra data.
    /// Throws `BundleError` for unusable inputs (a malformed key or policy, neither given); every failed check of the
    /// receipt itself is a violation in the report.
    public static func verify(receipt bytes: [UInt8], verifierKey: String?, policy policyBytes: [UInt8]?,
                              leaf given: [UInt8]?) throws -> ReceiptReport {
        var report = ReceiptReport()
        let policy = try policyBytes.map(BundlePolicyCheck.parse)
        let receipt: TlogProof
        do { receipt = try TlogProof(parsing: bytes) } catch {
            report.fail(.receipt, "not a c2sp.org/tlog-proof@v1 receipt: \(error)")
            return report
        }
        report.index = receipt.index
        let keyText = try policy.map { try BundlePolicyCheck.verifierKey($0, pinned: verifierKey,
                                                                          checkpointNote: Array(receipt.checkpointNote.utf8)) }
            ?? verifierKey
        guard let keyText else { throw BundleError.invalidVerifierKey("no verifier key, and the policy names no log "
                                                                      + "for the receipt's origin") }
        let key: NoteVerifierKey
        do { key = try NoteVerifierKey(text: keyText.trimmingSuffix("\n")) } catch {
            throw BundleError.invalidVerifierKey("\(error)")
        }
        guard let leaf = leafBytes(receipt, given: given, into: &report) else { return report }
        checkLeaf(leaf, index: receipt.index, into: &report)
        checkProof(receipt, leaf: leaf, key: key, into: &report)
        if let policy {
            let (outcome, violations) = BundlePolicyCheck.evaluate(receipt.checkpointNote, policy: policy)
            report.policy = outcome
            report.violations += violations.map {
                BundleViolation(kind: $0.kind, entry: receipt.index, detail: $0.detail)
            }
        }
        return report
    }

    /// The leaf to check: the given one (which the extra data, if present, must equal) or the extra data.
    private static func leafBytes(_ receipt: TlogProof, given: [UInt8]?, into report: inout ReceiptReport) -> [UInt8]? {
        if let given {
            report.leafSource = "given"
            if let extra = receipt.extra, extra != given {
                report.fail(.receipt, "the receipt's extra data is not the given leaf")
            }
            return given
        }
        guard let extra = receipt.extra else {
            report.fail(.receipt, "the receipt carries no leaf (no extra line) and none was given")
            return nil
        }
        report.leafSource = "extra"
        return extra
    }

    /// The leaf decodes strictly (record leaf v1/v2 or event leaf v3) and names the receipt's index as its seq.
    private static func checkLeaf(_ leaf: [UInt8], index: UInt64, into report: inout ReceiptReport) {
        report.recordHash = recordHash(leaf).hex
        let seq: UInt64, recordedAt: Int64
        do {
            if leaf.first == EventLeaf.version {
                let event = try leaf.withUnsafeBytes { try EventLeaf.decode($0) }
                (seq, recordedAt) = (event.seq, event.recordedAt)
            } else {
                let record = try Leaf.decode(leaf)
                (seq, recordedAt) = (record.seq, record.recordedAt)
            }
        } catch {
            report.fail(.leafMalformed, "the leaf does not decode: \(error)")
            return
        }
        report.leafVersion = Int(leaf[0])
        report.recordedAt = Timestamp.formatRFC3339(micros: recordedAt)
        if seq != index {
            report.violations.append(BundleViolation(kind: .entryIndex, entry: index, detail: "the leaf names seq "
                                                     + "\(seq), the receipt index \(index)",
                                                     expected: String(index), found: String(seq)))
        }
    }

    /// The checkpoint opens with the firm's key (signature and origin), then the inclusion proof.
    private static func checkProof(_ receipt: TlogProof, leaf: [UInt8], key: NoteVerifierKey,
                                   into report: inout ReceiptReport) {
        if let body = try? Checkpoint(body: SignedNoteText(parsing: receipt.checkpointNote).text) {
            (report.origin, report.treeSize, report.root) = (body.origin, body.size, Base64.encode(body.rootHash))
        }
        do {
            try receipt.verify(recordHash: recordHash(leaf), logKey: key)
        } catch NoteError.originMismatch(let origin, let name) {
            report.fail(.checkpointOrigin, "the checkpoint's origin \(origin) is not the verifier key's name \(name)")
        } catch let error as NoteError {
            report.fail(.checkpointSignature, "the receipt's checkpoint does not verify with the firm's key: \(error)")
        } catch {
            report.fail(.inclusionProof, "the inclusion proof does not lead from the leaf to the checkpoint's root "
                        + "(\(error))")
        }
    }
}
