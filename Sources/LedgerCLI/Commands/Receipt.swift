import ArgumentParser
import Foundation
import Ledger
import LedgerFormat
import LedgerSupport

struct Receipt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt",
        abstract: "Write a receipt (c2sp.org/tlog-proof@v1) proving an entry is in the firm's signed log.",
        discussion: """
        The receipt holds the entry's index, its RFC 6962 inclusion proof, the newest stored checkpoint (with any \
        witnesses' cosignatures, from `ledger checkpoint --witness`) and the entry's leaf as extra data: public data \
        only, so no key is needed. Exit 69 when no stored checkpoint covers the entry yet. Check it offline with \
        `ledger verify-receipt`. See docs/FORMAT.md, "Receipts".
        """)

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("The entry's sequence number.", valueName: "seq"))
    var seq: UInt64

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the receipt here (must not exist; default: stdout).",
                                                    valueName: "file.tlog-proof"))
    var output: String?

    func run() throws {
        let ledger = try Ledger.open(at: location.directory(), readOnly: true)
        let text = try ledger.receipt(seq: seq).text
        guard let output else {
            print(text, terminator: "")
            return
        }
        guard !FileManager.default.fileExists(atPath: output) else { throw ExportError.outputExists(output) }
        try AtomicFile.write(text, to: output)
        Terminal.note("wrote \(output): receipt for entry \(seq)")
    }
}
