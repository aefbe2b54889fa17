import Foundation
import LedgerSupport
import RecordFormats
import Sodium

/// Renderings of a verify report: human text, JSON (schema in docs/VERIFY.md) and a Prometheus textfile.
extension VerifyReport {
    public var summaryLines: [String] {
        var lines = [
            "origin:       \(origin)",
            "entries:      \(entries)",
            "size:         \(ledgerBytes) bytes on disk",
            "root:         \(root.base64)",
            "checkpoints:  \(checkpointsChecked) verified"
                + (trustedCheckpointSize.map { ", trusted checkpoint at size \($0) checked" } ?? ""),
            "mode:         " + (deep ? "deep (decrypted every entry)" : "keyless")
                + (verifierKeyPinned ? ", pinned verifier key" : ", ledger's own verifier key"),
            String(format: "time:         %.3f s (%.0f entries/s)", seconds,
                   seconds > 0 ? Double(entries) / seconds : 0),
        ]
        lines += shredded.map { "shredded:     matter \($0.matterTag.hex.prefix(16))… " + $0.summary
            + (deep ? " (not decrypted: its keys are destroyed)" : "") }
        if let witnessedBy {
            lines.append("witnesses:    " + (witnessedBy.isEmpty ? "none cosigned the newest checkpoint"
                                                                 : "cosigned by " + witnessedBy.joined(separator: ", ")))
            lines += acknowledgedRefusals.map { "acknowledged: \($0)" }
        }
        if scrubPending {
            lines.append("notice:       destroyed keys may remain in free pages of data.mdb: run `ledger compact`")
        }
        lines.append(isIntact ? "result:       INTACT"
                              : "result:       \(violationCount) VIOLATION\(violationCount == 1 ? "" : "S")")
        return lines
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("ok", .bool(isIntact)),
            ("origin", .string(origin)),
            ("entries", .integer(Int64(entries))),
            ("ledgerBytes", .integer(Int64(ledgerBytes))),
            ("root", .string(root.base64)),
            ("checkpointsChecked", .integer(Int64(checkpointsChecked))),
            ("deep", .bool(deep)),
            ("verifierKeyPinned", .bool(verifierKeyPinned)),
            ("durationMicroseconds", .integer(Int64(seconds * 1e6))),
            ("bytesHashed", .integer(Int64(bytesHashed))),
            ("violationCount", .integer(Int64(violationCount))),
            ("violations", .array(violations.map(\.json))),
        ]
        if !shredded.isEmpty { members.append(("shredded", .array(shredded.map(\.json)))) }
        if scrubPending { members.append(("scrubPending", .bool(true))) }
        if let witnessedBy {
            members.append(("witnessedBy", .array(witnessedBy.map { .string($0) })))
            members.append(("acknowledgedRefusals", .array(acknowledgedRefusals.map { .string($0) })))
        }
        if let size = trustedCheckpointSize { members.append(("trustedCheckpointSize", .integer(Int64(size)))) }
        if let peak = ProcessMemory.peakResidentBytes() { members.append(("peakResidentBytes", .integer(Int64(peak)))) }
        return .object(JSONObject(members))
    }

    /// Prometheus text exposition (node_exporter textfile collector).
    /// `lastSuccess` carries over from the previous file on failure.
    /// `completed: false` is a run that stopped on an error (damaged storage, key, I/O): reported as not ok.
    public func metrics(now: Date, previousLastSuccess: Double?, completed: Bool = true) -> String {
        // Prometheus label value: backslash and double quote escaped.
        let escaped = origin.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let label = "{origin=\"\(escaped)\"}"
        let isIntact = completed && self.isIntact
        let lastSuccess = isIntact ? now.timeIntervalSince1970 : (previousLastSuccess ?? 0)
        func metric(_ name: String, _ help: String, _ value: String) -> String {
            "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name)\(label) \(value)\n"
        }
        return metric("ledger_verify_ok", "1 if the last verification found the ledger intact, 0 if not.",
                      isIntact ? "1" : "0")
            + metric("ledger_verify_entries", "Entries verified.", String(entries))
            + metric("ledger_verify_duration_seconds", "Time the verification took.", String(format: "%.6f", seconds))
            + metric("ledger_verify_last_success_timestamp_seconds",
                     "Unix time of the last verification that found the ledger intact.",
                     String(format: "%.3f", lastSuccess))
            + metric("ledger_verify_violations", "Integrity violations found by the last verification.",
                     String(violationCount))
    }
}

extension Violation {
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("class", .string(kind.rawValue)), ("detail", .string(detail))]
        if let seq { members.append(("seq", .integer(Int64(seq)))) }
        if let expected { members.append(("expected", .string(expected))) }
        if let found { members.append(("found", .string(found))) }
        return .object(JSONObject(members))
    }
}


extension ShreddedRange {
    /// "shredded (seq A–B, destruction entry #N)", with the count.
    public var summary: String {
        let seqs = seqRange.map { "seq \($0.lowerBound)–\($0.upperBound), " } ?? ""
        return "\(entries) entr\(entries == 1 ? "y" : "ies") shredded (\(seqs)destruction entry #\(destroySeq))"
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("matterTag", .string(matterTag.hex)), ("entries", .integer(Int64(entries))),
                                              ("destroySeq", .integer(Int64(destroySeq)))]
        if let range = seqRange {
            members.append(("firstSeq", .integer(Int64(range.lowerBound))))
            members.append(("lastSeq", .integer(Int64(range.upperBound))))
        }
        return .object(JSONObject(members))
    }
}
