import ArgumentParser
import Foundation
import LedgerBundle
import LedgerSupport
import RecordFormats

struct VerifyReceipt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-receipt",
        abstract: "Check a receipt (c2sp.org/tlog-proof@v1) offline: leaf, inclusion proof, the firm's signature, "
            + "and with --policy the witnesses' cosignatures.",
        discussion: """
        Needs no ledger. The leaf checked is the receipt's extra data, or --leaf (the base64 "leaf" of the entry's \
        line in a bundle's entries.jsonl), which the extra data must then equal. Exit 0: the receipt proves the leaf \
        is entry INDEX of the log the key signs; 1: a violation (named); 64: usage (no key or policy, a malformed \
        key or policy); 66: file not found. See docs/FORMAT.md, "Receipts".
        """)

    @Argument(help: ArgumentHelp("The receipt.", valueName: "file.tlog-proof"))
    var receipt: String

    @Option(help: ArgumentHelp("The firm's verifier key, obtained separately.", valueName: "file"))
    var verifierKey: String?

    @Option(help: ArgumentHelp("A c2sp.org/tlog-policy file: the log key (for the receipt's origin) and the witnesses "
                               + "whose cosignatures must meet its quorum.", valueName: "file"))
    var policy: String?

    @Option(help: ArgumentHelp("A file with the entry's leaf in base64 (entries.jsonl's \"leaf\").", valueName: "file"))
    var leaf: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if verifierKey == nil && policy == nil {
            throw ValidationError("give the firm's --verifier-key FILE or a --policy FILE naming its log key")
        }
    }

    func run() throws {
        let bytes = try Self.readBytes(receipt, limit: ReceiptVerifier.maxReceiptBytes)
        let key = try verifierKey.map(BundleFiles.readText)
        let policyBytes = try policy.map { try Self.readBytes($0, limit: 1 << 20) }
        let leafBytes = try leaf.map { path -> [UInt8] in
            let text = try BundleFiles.readText(path).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let decoded = Data(base64Encoded: text), Data(decoded).base64EncodedString() == text else {
                throw ValidationError("--leaf: \(path) does not hold a base64 leaf")
            }
            return Array(decoded)
        }
        let report = try ReceiptVerifier.verify(receipt: bytes, verifierKey: key, policy: policyBytes,
                                                leaf: leafBytes)
        if json {
            print(JSONWriter.string(report.json))
        } else {
            report.summaryLines.forEach { print($0) }
            for violation in report.violations { print("violation: \(violation)") }
        }
        if !report.isValid { throw ExitCode(1) }
    }

    /// A file's bytes, at most `limit` (a larger file is read up to one byte over, and refused by the checks).
    static func readBytes(_ path: String, limit: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw FileError(path: path, detail: "cannot read") }
            throw BundleError.notFound(path: path)
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        guard data.count <= limit else { throw FileError(path: path, detail: "over \(limit) bytes") }
        return Array(data)
    }
}
