import Foundation

/// Resident memory of this process, from /proc/self/status (Linux).
public enum ProcessMemory {
    /// Peak resident set size (VmHWM) of this process image, in bytes. Unlike `getrusage`'s ru_maxrss it
    /// starts afresh at exec, so a child started from a large parent reports only its own peak.
    public static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kib = Int(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }
}
