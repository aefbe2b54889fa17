import Foundation
import XCTest

/// `--help` and `help` are ArgumentParser's to answer: usage on stdout, exit 0, for the tool and every subcommand.
final class HelpTests: CLITestCase {
    static let subcommands = ["init", "append", "import", "list", "show", "checkpoint", "verify", "export", "produce",
                              "verify-bundle", "backup", "bench", "report", "grant", "revoke", "access", "hold",
                              "shred", "rotate-master", "retention", "compact", "exports", "recipient", "witness"]

    func testHelpOfEverySubcommandExitsZero() throws {
        let root = try ledger(["--help"])
        XCTAssertEqual(root.status, 0, root.summary)
        XCTAssertTrue(root.stdout.contains("USAGE: ledger"), root.summary)
        for name in Self.subcommands {
            for arguments in [[name, "--help"], ["help", name]] {
                let r = try ledger(arguments)
                XCTAssertEqual(r.status, 0, r.summary)
                XCTAssertTrue(r.stdout.contains("USAGE: ledger \(name)"), r.summary)
                XCTAssertFalse(r.stderr.contains("internal error"), r.summary)
            }
        }
    }

    func testAnUnknownOptionIsAUsageError() throws {
        let r = try ledger(["verify", "--no-such-option"])
        XCTAssertEqual(r.status, 64, r.summary)
    }
}
