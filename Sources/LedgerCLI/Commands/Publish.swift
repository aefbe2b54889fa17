import ArgumentParser
import Foundation
import Ledger
import RecordFormats

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish the newest checkpoint as a static c2sp.org/tlog-tiles log (checkpoint and hash tiles).",
        discussion: """
        Writes DIR/checkpoint and DIR/tile/… so that any static web server or object store can serve the log, and \
        anyone holding the verifier key can fetch inclusion and consistency proofs from it. Needs no key: the \
        checkpoint is verified and checked against the stored tree first. Publishes the newest stored checkpoint \
        (run `ledger checkpoint` first to include the latest entries). Incremental: a second run writes only new \
        tiles; full tiles are never rewritten, and the checkpoint is written last.

        --with-leaves also writes entry bundles (tile/entries/…): every leaf as hashed into the tree. A leaf holds no \
        field value, but it does reveal each entry's metadata: when it was recorded, the keyed matter and source \
        tags (which entries belong to the same matter), the key id, the field names present, and the digests; \
        event leaves (grants, access, holds, destructions) carry their bodies in clear, including credential names \
        and reasons. That stays true after a matter is destroyed. Publish bundles only where that is acceptable.
        """)

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("Directory of the tiled log (created if missing; public: 0755/0644).",
                               valueName: "dir"))
    var tiles: String

    @Flag(help: "Also write entry bundles (tile/entries/…): they reveal every entry's metadata (see above).")
    var withLeaves = false

    @Option(help: ArgumentHelp("Verifier key kept outside the ledger, to check the checkpoint with.",
                               valueName: "file"))
    var verifierKey: String?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        let ledger = try Ledger.open(at: location.directory(), readOnly: true)
        var options = PublishOptions(directory: tiles)
        options.withLeaves = withLeaves
        if let verifierKey { options.pinnedVerifierKey = try readKey(verifierKey) }
        let report = try ledger.publishTiles(options)
        if report.ledgerSize > report.size {
            Terminal.note("note: the ledger has \(report.ledgerSize) entries; published its newest checkpoint "
                          + "(\(report.size)). Run `ledger checkpoint` to publish the rest.")
        }
        if report.bundlesLeftBehind {
            Terminal.warning("\(tiles)/tile/entries holds entry bundles from an earlier --with-leaves run; "
                             + "this run added none (remove them, or keep passing --with-leaves)")
        }
        json ? print(JSONWriter.string(jsonSummary(report))) : printSummary(report)
    }

    private func printSummary(_ report: PublishReport) {
        print("published:    \(report.directory)")
        print("origin:       \(report.origin)")
        print("size:         \(report.size)" + (report.previousSize.map { " (was \($0))" } ?? " (first publish)"))
        print("root:         \(report.root.base64)")
        print("tiles:        \(report.tilesWritten) written, \(report.tilesSkipped) unchanged")
        if withLeaves || report.bundlesWritten + report.bundlesSkipped > 0 {
            print("bundles:      \(report.bundlesWritten) written, \(report.bundlesSkipped) unchanged")
        }
        print("partials:     \(report.partialsRemoved) superseded removed")
        print("checkpoint:   " + (report.checkpointWritten ? "written" : "unchanged"))
        print("bytes:        \(report.bytesWritten)")
        print(String(format: "time:         %.3f s", report.seconds))
    }

    private func jsonSummary(_ report: PublishReport) -> JSONValue {
        .object(JSONObject([
            ("ok", .bool(true)),
            ("directory", .string(report.directory)),
            ("origin", .string(report.origin)),
            ("size", .integer(Int64(report.size))),
            ("root", .string(report.root.base64)),
            ("ledgerSize", .integer(Int64(report.ledgerSize))),
            ("previousSize", report.previousSize.map { .integer(Int64($0)) } ?? .null),
            ("tilesWritten", .integer(Int64(report.tilesWritten))),
            ("tilesUnchanged", .integer(Int64(report.tilesSkipped))),
            ("bundlesWritten", .integer(Int64(report.bundlesWritten))),
            ("bundlesUnchanged", .integer(Int64(report.bundlesSkipped))),
            ("partialsRemoved", .integer(Int64(report.partialsRemoved))),
            ("checkpointWritten", .bool(report.checkpointWritten)),
            ("bytesWritten", .integer(Int64(report.bytesWritten))),
            ("durationMicroseconds", .integer(Int64(report.seconds * 1e6))),
        ]))
    }

    private func readKey(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw LedgerError.io(path: path, detail: "cannot read (missing, unreadable or over 1 MiB)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
