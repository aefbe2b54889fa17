import Foundation
import RecordFormats
import XCTest
@testable import Ledger

/// Appends batches of 25 records on a thread of its own until stopped: for tests of work done while another
/// writer keeps appending.
final class BackgroundAppender: @unchecked Sendable {
    static let batchSize = 25
    private let lock = NSLock()
    private var stopped = false
    private var done = 0
    private var failure: Error?
    private var thread: Thread!

    init(_ ledger: Ledger, prefix: String) {
        thread = Thread { [unowned self] in
            var n = 0
            while !lock.withLock({ stopped }) {
                do {
                    let batch = try (0..<Self.batchSize).map { i in
                        try validRecord(["sourceSystem": "pms", "sourceId": .string("\(prefix)-\(n)-\(i)")])
                    }
                    _ = try ledger.append(batch)
                    lock.withLock { done += 1 }
                } catch {
                    lock.withLock { failure = error }
                    return
                }
                n += 1
            }
        }
        thread.start()
    }

    /// Batches committed so far.
    var batches: Int { lock.withLock { done } }

    /// Waits (up to 10 s) until `count` batches have been committed.
    func waitFor(batches count: Int) {
        let deadline = Date().addingTimeInterval(10)
        while batches < count && Date() < deadline { usleep(1000) }
    }

    /// Stops the writer and waits for it; returns the error that stopped it early, if any.
    func stop() -> Error? {
        lock.withLock { stopped = true }
        while !thread.isFinished { usleep(1000) }
        return lock.withLock { failure }
    }
}
