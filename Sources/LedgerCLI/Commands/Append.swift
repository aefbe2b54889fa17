import ArgumentParser
import Foundation
import Ledger
import LedgerFormat

struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one JSON record (from FILE or standard input) and print its seq.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Argument(help: ArgumentHelp("JSON file holding one record, or - for standard input.", valueName: "file"))
    var file: String = "-"

    func run() throws {
        let bytes = try readInput()
        let record = try RecordInput.validate(bytes)
        let ledger = try openUnlocked(location, keys)
        switch try ledger.append(record) {
        case .appended(let seq):
            print(seq)
        case .duplicate(let seq):
            print(seq)
            Terminal.note("already recorded: the same sourceSystem/sourceId is entry \(seq); nothing appended")
        }
    }

    private func readInput() throws -> [UInt8] {
        let handle: FileHandle
        if file == "-" {
            handle = FileHandle.standardInput
        } else {
            guard FileManager.default.fileExists(atPath: file) else { throw LedgerError.inputNotFound(path: file) }
            guard let h = FileHandle(forReadingAtPath: file) else {
                throw LedgerError.io(path: file, detail: "cannot open for reading")
            }
            handle = h
        }
        // Read at most 1 MiB + 1 byte: anything larger is refused without reading it all.
        let data = try handle.read(upToCount: RecordSchema.maxRecordBytes + 1) ?? Data()
        return [UInt8](data)
    }
}
