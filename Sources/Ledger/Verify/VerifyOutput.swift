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

