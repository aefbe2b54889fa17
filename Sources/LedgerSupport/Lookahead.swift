import Foundation

/// Makes items `indices` in order on one background job, at most `depth` ahead of the caller, who takes them in the
/// same order (a pipeline stage with a bounded queue). The maker owns `state` and carries it from one item to the
/// next; it stops at its first error, which the caller receives from `take` of that item, after every item before it.
///
/// The import seals batches this way while its writer commits earlier ones: with one batch ahead, the cores idle
/// whenever a seal finishes before the commit it overlaps (the commit waits for the disk); two ahead keep them busy.
package final class Lookahead<State, Item>: @unchecked Sendable {
    // @unchecked: every field below `condition` is only touched with `condition` locked.
    private let condition = NSCondition()
    private var ready: [Int: Result<Item, Error>] = [:]
    private var making = false
    private var paused = false
    private var stopping = false
    private var finished = false
    private let depth: Int
    private var job: BackgroundTask<Void>?

    /// Starts making `indices`; `make(i, &state)` runs on the background job, one item at a time, in order.
    package init(_ indices: Range<Int>, depth: Int, state: State,
                 make: @escaping @Sendable (Int, inout State) throws -> Item) {
        precondition(depth >= 1)
        self.depth = depth
        let box = UnsafeSendableBox(state)  // handed to the job, which alone uses it from here on
        job = BackgroundTask { [self] in
            var state = box.value
            defer { condition.withLock { finished = true; condition.broadcast() } }
            for index in indices {
                guard waitForRoom() else { return }
                let result = Result { try make(index, &state) }
                condition.withLock {
                    making = false
                    ready[index] = result
                    condition.broadcast()
                }
                if case .failure = result { return }
            }
        }
    }

    deinit { stop() }

    /// Item `index` (waiting for it), or the error that stopped the maker there. Take items in order.
    package func take(_ index: Int) throws -> Item {
        let result = condition.withLock { () -> Result<Item, Error>? in
            while ready[index] == nil && !finished { condition.wait() }
            defer { condition.broadcast() }  // room for the next item
            return ready.removeValue(forKey: index)
        }
        guard let result else { preconditionFailure("item \(index) was never made: take items in order, before stop()") }
        return try result.get()
    }

    /// Runs `body` while no item is being made (waiting for the one in progress to end), then lets the maker go on.
    package func whileIdle<R>(_ body: () throws -> R) rethrows -> R {
        condition.withLock {
            paused = true
            while making { condition.wait() }
        }
        defer { condition.withLock { paused = false; condition.broadcast() } }
        return try body()
    }

    /// Stops making items (the one in progress ends first) and drops those not taken; waits for the job to end.
    /// Call it before anything `make` borrows goes away.
    package func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
        _ = try? job?.wait()
        job = nil
    }

    /// Waits until the queue has room and the maker may go on; false once stopped.
    private func waitForRoom() -> Bool {
        condition.withLock {
            while !stopping && (paused || ready.count >= depth) { condition.wait() }
            if stopping { return false }
            making = true
            return true
        }
    }
}
