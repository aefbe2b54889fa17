import Foundation
@testable import Ledger
import LedgerBundle
import LedgerFormat
import LedgerReport
import LMDB
import XCTest

/// The libraries describe the problem; only the CLI names flags, environment variables and commands
/// (Sources/LedgerCLI/Support/Failure.swift adds those hints).
final class ErrorMessageTests: XCTestCase {
    private static let cliWords = ["--", "LEDGER_", "`ledger"]

    func testLibraryMessagesNameNoFlagOrCommand() {
        let lmdb = LMDBError(code: LMDBError.Code.corrupted, operation: "mdb_get")
        let messages: [CustomStringConvertible] = [
            LedgerError.ledgerNotFound(path: "/l"), LedgerError.ledgerDirectoryNotEmpty(path: "/l"),
            LedgerError.keyFileInsideLedger(path: "/l/k"), LedgerError.corrupt("entry 3: bad"),
            LedgerError.masterKeyRequired, LedgerError.otherKeyKind(usesPassphrase: true),
            LedgerError.otherKeyKind(usesPassphrase: false), LedgerError.damagedStorage(operation: "read entry", cause: lmdb),
            LedgerError.storage(operation: "append", cause: LMDBError(code: LMDBError.Code.mapFull, operation: "mdb_put")),
            ExportError.noMatter, ExportError.olderCheckpointInvalid("bad signature"),
            BundleError.invalidVerifierKey("malformed"), BundleError.malformed("not a zip archive"),
            ReportError.bundleRejected(violations: 3),
        ]
        for message in messages {
            for word in Self.cliWords {
                XCTAssertFalse(message.description.contains(word), "\(message.description)")
            }
        }
    }

    func testStorageErrorsStayTypedAndCorruptionIsItsOwnCase() throws {
        let corrupted = LMDBError(code: LMDBError.Code.corrupted, operation: "mdb_get")
        XCTAssertThrowsError(try LedgerError.wrap("read entry") { throw corrupted }) { error in
            guard case LedgerError.damagedStorage(let operation, let cause)? = error as? LedgerError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(operation, "read entry")
            XCTAssertEqual(cause, corrupted)
        }
        let full = LMDBError(code: LMDBError.Code.mapFull, operation: "mdb_put")
        XCTAssertThrowsError(try LedgerError.wrap("append") { throw full }) { error in
            guard case LedgerError.storage(_, let cause)? = error as? LedgerError else { return XCTFail("\(error)") }
            XCTAssertEqual(cause, full)
        }
    }
}
