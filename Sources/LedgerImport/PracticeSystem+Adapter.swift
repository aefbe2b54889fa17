import Foundation

extension PracticeSystem {
    /// The adapter for this system's exports, reading times without an offset in UTC.
    public var adapter: any RecordAdapter { adapter(timeZone: .gmt) }

    /// The adapter for this system's exports; date-only values and times without an offset are read in `timeZone`
    /// (`ledger import --time-zone`).
    public func adapter(timeZone: TimeZone) -> any RecordAdapter {
        let time = SourceTime(zone: timeZone)
        switch self {
        case .clio: return ClioAdapter(time: time)
        case .practicepanther: return PracticePantherAdapter(time: time)
        case .mycase: return MyCaseAdapter(time: time)
        case .actionstep: return ActionstepAdapter(time: time)
        }
    }
}
