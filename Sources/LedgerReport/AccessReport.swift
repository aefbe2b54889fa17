import LedgerFormat
import RecordFormats

/// The report's access section (docs/REPORT.md, "Access"): reads per person per matter from the access entries, and
/// every read by someone without a grant covering it at the time, which the engine never writes and is flagged.
public struct AccessReport: Sendable, Equatable {
    public struct Reads: Sendable, Equatable {
        public var credential: String
        /// The matter number, "(all)" for a master-key read of every matter.
        public var matter: String
        public var count: Int
        public var lastAt: Int64
        public init(credential: String, matter: String, count: Int, lastAt: Int64) {
            self.credential = credential
            self.matter = matter
            self.count = count
            self.lastAt = lastAt
        }
    }

    public struct Flagged: Sendable, Equatable {
        public var seq: UInt64
        public var credential: String
        public var at: Int64
        public var detail: String
        public init(seq: UInt64, credential: String, at: Int64, detail: String) {
            self.seq = seq
            self.credential = credential
            self.at = at
            self.detail = detail
        }
    }

    public var reads: [Reads]
    public var flagged: [Flagged]

    public init(reads: [Reads], flagged: [Flagged]) {
        self.reads = reads
        self.flagged = flagged
    }
}

extension CommunicationReport {
    func accessSections() -> [Section] {
        guard let access else { return [] }
        let reads = access.reads.map { [$0.credential, $0.matter, String($0.count), Self.time($0.lastAt)] }
        let flagged = access.flagged.map { [String($0.seq), $0.credential, Self.time($0.at), $0.detail] }
        return [Section(title: "ACCESS (reads per person per matter)", header: ["WHO", "MATTER", "READS", "LAST READ"],
                        rows: reads, right: [2], empty: "no reads recorded"),
                Section(title: "READS WITHOUT A GRANT (must be none)", header: ["SEQ", "WHO", "AT", "WHY FLAGGED"],
                        rows: flagged, right: [0], empty: "none")]
    }

    func accessJSON() -> JSONValue {
        guard let access else { return .null }
        return .object(JSONObject([
            ("reads", .array(access.reads.map {
                .object(JSONObject([("credential", .string($0.credential)), ("matter", .string($0.matter)),
                                    ("count", .integer(Int64($0.count))),
                                    ("lastAt", .string(Timestamp.formatRFC3339(micros: $0.lastAt)))]))
            })),
            ("readsWithoutGrant", .array(access.flagged.map {
                .object(JSONObject([("seq", .integer(Int64($0.seq))), ("credential", .string($0.credential)),
                                    ("at", .string(Timestamp.formatRFC3339(micros: $0.at))),
                                    ("detail", .string($0.detail))]))
            })),
        ]))
    }
}
