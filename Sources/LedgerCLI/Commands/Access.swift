import ArgumentParser
import Foundation
import Ledger
import LedgerFormat
import RecordFormats

struct Access: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access",
        abstract: "Who could read what, and who read what (master key).",
        subcommands: [AccessGrants.self, AccessLog.self])
}

struct AccessGrants: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants",
        abstract: "The grants in force now or at --at: who could read matter M on date T (the master key always can).")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Option(help: "Only credentials that could read this matter.")
    var matter: String?

    @Option(help: ArgumentHelp("As of this RFC 3339 time or date (end of that day).", valueName: "time"))
    var at: String?

    @Flag(help: "One JSON object per line.")
    var json = false

    func run() throws {
        let ledger = try openUnlocked(location, keys)
        let time = try TimeArgument.parse(at, endOfDay: true, option: "--at")
        let holders = try ledger.grantHolders(matter: matter, at: time)
        if json {
            for holder in holders {
                print(JSONWriter.string(.object(JSONObject([
                    ("credential", .string(holder.credential)), ("role", .string(holder.role.rawValue)),
                    ("matters", .array(holder.matters.map { .string($0) })),
                ]))))
            }
            return
        }
        Terminal.note("the master key can read every matter; the credentials below hold grants")
        Terminal.table(header: ["CREDENTIAL", "ROLE", "MATTERS"], rows: holders.map {
            [$0.credential, $0.role.rawValue, $0.matters.isEmpty ? ($0.role == .appender ? "(all)" : "") :
                $0.matters.joined(separator: " ")]
        })
    }
}

struct AccessLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "The access entries: every read, recorded before it happened.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Option(help: "Only reads of this matter (reads of every matter included).")
    var matter: String?

    @Option(help: "Only reads by this credential ('master' for the master key).")
    var who: String?

    @Option(help: ArgumentHelp("Only reads recorded at or after this RFC 3339 time or date.", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("Only reads recorded at or before this RFC 3339 time or date (end of that day).",
                               valueName: "time"))
    var to: String?

    @Flag(help: "One JSON object per line.")
    var json = false

    func run() throws {
        let ledger = try openUnlocked(location, keys)
        let (from, to) = (try TimeArgument.parse(from, endOfDay: false, option: "--from"),
                          try TimeArgument.parse(to, endOfDay: true, option: "--to"))
        let entries = try ledger.accessLog(matter: matter, who: who, from: from, to: to)
        if json {
            for entry in entries { print(JSONWriter.string(.object(Self.object(entry)))) }
            return
        }
        Terminal.table(header: ["SEQ", "RECORDED", "WHO", "COMMAND", "MATTERS", "SEQS", "REASON"], rows: entries.map {
            [String($0.seq), Timestamp.formatRFC3339(micros: $0.recordedAt), $0.access.credential, $0.access.command,
             $0.access.allMatters ? "(all)" : $0.matterNames.joined(separator: " "),
             $0.access.seqRange.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "",
             EntryJSON.display(.string($0.access.reason ?? ""))]
        })
    }

    static func object(_ entry: AccessLogEntry) -> JSONObject {
        var members: [(String, JSONValue)] = [
            ("seq", .integer(Int64(entry.seq))),
            ("recordedAt", .string(Timestamp.formatRFC3339(micros: entry.recordedAt))),
            ("credential", .string(entry.access.credential)), ("command", .string(entry.access.command)),
            ("allMatters", .bool(entry.access.allMatters)),
            ("matters", .array(entry.matterNames.map { .string($0) })),
        ]
        if let range = entry.access.seqRange {
            members += [("firstSeq", .integer(Int64(range.lowerBound))), ("lastSeq", .integer(Int64(range.upperBound)))]
        }
        if let reason = entry.access.reason { members.append(("reason", .string(reason))) }
        return JSONObject(members)
    }
}
