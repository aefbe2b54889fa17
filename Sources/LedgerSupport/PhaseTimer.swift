import Dispatch
import Logging

/// Wall-clock time per phase, for debug logs (LEDGER_LOG_LEVEL=debug). Never used for results.
/// Costs nothing unless debug logging is on: a lap reads /proc/self/status, which a single append cannot afford.
package struct PhaseTimer: CustomStringConvertible {
    private let enabled: Bool
    private var last: UInt64
    private var laps: [(String, UInt64)] = []

    package init(logger: Logger) {
        enabled = logger.logLevel <= .debug
        last = enabled ? DispatchTime.now().uptimeNanoseconds : 0
    }

    package mutating func lap(_ name: String) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        laps.append((name + (ProcessMemory.peakResidentBytes().map { "(hwm \($0 >> 20)M)" } ?? ""), now - last))
        last = now
    }

    package var description: String {
        laps.map { "\($0.0)=\($0.1 / 1_000_000)ms" }.joined(separator: " ")
    }
}
