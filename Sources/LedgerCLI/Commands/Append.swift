import ArgumentParser
import Foundation
import Ledger
import RecordFormats

struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append one JSON record (from FILE or standard input) and print its seq.")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions

    @Argument(help: ArgumentHelp("JSON file holding one record, or - for standard input.", valueName: "file"))
    var file: String = "-"

    func run() throws {
        try Failure.run {
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
    }

    private func readInput() throws -> [UInt8] {
        let handle: FileHandle
        if file == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let h = FileHandle(forReadingAtPath: file) else { throw LedgerError.io(path: file, detail: "cannot open") }
            handle = h
        }
        // Read at most 1 MiB + 1 byte: anything larger is refused without reading it all.
        let data = try handle.read(upToCount: RecordSchema.maxRecordBytes + 1) ?? Data()
        return [UInt8](data)
    }
}

/// Parses and validates one record given whole (append), with the same messages as import.
enum RecordInput {
    static func validate(_ bytes: [UInt8]) throws -> ValidatedRecord {
        guard bytes.count <= RecordSchema.maxRecordBytes else {
            throw LedgerError.invalidRecords([RecordError(reason: "record is larger than 1 MiB")])
        }
        do {
            return try RecordSchema.validate(JSONParser.parse(bytes))
        } catch let error as JSONParseError {
            throw LedgerError.invalidRecords([RecordError(field: error.path.isEmpty ? nil : error.path, reason: error.reasonText)])
        } catch let error as RecordError {
            throw LedgerError.invalidRecords([error])
        }
    }
}
