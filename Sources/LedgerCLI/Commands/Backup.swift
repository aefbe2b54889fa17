import ArgumentParser
import Foundation
import Ledger
import RecordFormats

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a consistent hot backup (compacted copy) into a new or empty directory, then verify it.",
        discussion: """
        Writers may keep running: the copy holds exactly the entries committed when it began. verifier.key is \
        copied too. The copy is verified keyless (checkpoints against --verifier-key, or this ledger's own key) \
        and kept only if intact; otherwise it is removed and the exit code is 1. No master key is needed. \
        Restore by copying the directory back and running `ledger verify --trusted` on it.
        """)

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("Backup directory: must not exist or be empty.", valueName: "dir"))
    var to: String

    @Option(help: ArgumentHelp("Verifier key kept outside the ledger, to check the copy's checkpoints with.",
                               valueName: "file"))
    var verifierKey: String?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        let ledger = try Ledger.open(at: location.directory())
        var pinned: String?
        if let verifierKey {
            guard let data = FileManager.default.contents(atPath: verifierKey), data.count <= 1 << 20 else {
                throw LedgerError.io(path: verifierKey, detail: "cannot read (missing, unreadable or over 1 MiB)")
            }
            pinned = String(decoding: data, as: UTF8.self)
        }
        let summary = try ledger.backup(to: to, pinnedVerifierKey: pinned)
        if json {
            print(JSONWriter.string(.object(JSONObject([
                ("ok", .bool(true)),
                ("directory", .string(summary.directory)),
                ("entries", .integer(Int64(summary.entries))),
                ("root", .string(summary.root.base64)),
                ("bytes", .integer(Int64(summary.bytes))),
                ("checkpointsChecked", .integer(Int64(summary.checkpointsChecked))),
                ("durationMicroseconds", .integer(Int64(summary.seconds * 1e6))),
            ]))))
        } else {
            print("backup:       \(summary.directory)")
            print("entries:      \(summary.entries)")
            print("root:         \(summary.root.base64)")
            print("size:         \(summary.bytes) bytes")
            print("checkpoints:  \(summary.checkpointsChecked) verified")
            print(String(format: "time:         %.3f s", summary.seconds))
            print("result:       VERIFIED")
        }
    }
}
