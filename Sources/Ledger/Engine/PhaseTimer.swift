import Dispatch

/// Wall-clock time per phase, for debug logs (LEDGER_LOG_LEVEL=debug). Never used for results.
struct PhaseTimer: CustomStringConvertible {
    private var last = DispatchTime.now().uptimeNanoseconds
    private var laps: [(String, UInt64)] = []

    mutating func lap(_ name: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        laps.append((name + (ProcessMemory.peakResidentBytes().map { "(hwm \($0 >> 20)M)" } ?? ""), now - last))
        last = now
    }

    var description: String {
        laps.map { "\($0.0)=\($0.1 / 1_000_000)ms" }.joined(separator: " ")
    }
}
