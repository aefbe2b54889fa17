import Foundation
import XCTest

/// tools/interop/notecheck (Go's golang.org/x/mod/sumdb note and tlog), built once per test run by
/// tools/interop/build.sh and shared by every test class that checks our output with it; removed at exit.
enum Notecheck {
    enum Outcome: Sendable {
        case built(URL)
        case goMissing(String)
        case failed(String)
    }

    static let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("ledger-notecheck-\(UUID().uuidString)")
    static let outcome: Outcome = build()

    private static func build() -> Outcome {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            atexit { try? FileManager.default.removeItem(at: Notecheck.directory) }
            let out = directory.appendingPathComponent("notecheck")
            let script = LedgerBinary.packageRoot.appendingPathComponent("tools/interop/build.sh")
            let r = try runProcess(URL(fileURLWithPath: "/bin/bash"), [script.path, out.path],
                                   environment: ProcessInfo.processInfo.environment, scratch: directory)
            switch r.status {
            case 0: return .built(out)
            case 69: return .goMissing(r.stderr)  // build.sh: go or the x/mod source is not installed
            default: return .failed(r.summary)
            }
        } catch {
            return .failed("cannot run tools/interop/build.sh: \(error)")
        }
    }
}

extension CLITestCase {
    /// The notecheck binary, or a skip (a failure under CI) when Go is not installed.
    func notecheckBinary() throws -> URL {
        switch Notecheck.outcome {
        case .built(let url):
            return url
        case .goMissing(let message):
            let text = "Go or golang.org/x/mod is missing; run `bash tools/install-deps.sh` "
                + "(\(message.trimmingCharacters(in: .whitespacesAndNewlines)))"
            if ProcessInfo.processInfo.environment["CI"] != nil {
                XCTFail(text)
                throw CLIError(description: text)
            }
            throw XCTSkip(text)
        case .failed(let message):
            XCTFail("building notecheck failed: \(message)")
            throw CLIError(description: message)
        }
    }

    /// Runs notecheck with `arguments` in this test's scratch directory.
    func notecheck(_ arguments: [String]) throws -> CLIResult {
        try runProcess(try notecheckBinary(), arguments, environment: baseEnvironment(), scratch: temp)
    }
}
