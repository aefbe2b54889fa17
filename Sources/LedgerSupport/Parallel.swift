import Dispatch
import Foundation
import Synchronization

// The one parallel-work helper of the package. Import, verify, export and verify-bundle use these five shapes of
// work on every core; none of them starts threads of its own:
// - `parallelMap`: the same transform over many items, in equal contiguous shares (results in input order);
// - `runConcurrently`: a few unlike jobs, each once (results in job order);
// - `SharedBatches`: items handed out in small batches to whoever asks, the caller joining last (no core idles
//   while items of very different cost remain);
// - `BackgroundTask`: one job on another thread while the caller does something else (a pipeline stage);
// - `Lookahead` (Lookahead.swift, built on `BackgroundTask`): items made in order on one job, a bounded number
//   ahead of the caller who takes them (a pipeline stage with a queue).

/// Cores this process may use, read once: Foundation reads cgroup files on every `activeProcessorCount` call.
package let availableCores = ProcessInfo.processInfo.activeProcessorCount

/// Runs `transform` over `items` on every core, in contiguous chunks, and returns results in input order.
/// The hot loops of import and verify use it; it allocates one result buffer per call, not per item.
package func parallelMap<T, U>(_ items: [T], minimumChunk: Int = 64, _ transform: (T) throws -> U) throws -> [U] {
    try parallelMap(items, minimumChunk: minimumChunk, context: { () }) { _, item in try transform(item) }
}

/// Shares of a `parallelMap` per core.
private let sharesPerCore = 8

/// As `parallelMap`, with scratch state that each share makes once (`context`) and reuses for all its items.
package func parallelMap<T, U, C>(_ items: [T], minimumChunk: Int = 64, context: () -> C,
                                  _ transform: (inout C, T) throws -> U) throws -> [U] {
    let workers = min(availableCores, max(1, items.count / minimumChunk))
    if workers <= 1 {
        var scratch = context()
        return try items.map { try transform(&scratch, $0) }
    }
    let results = UnsafeMutableBufferPointer<U?>.allocate(capacity: items.count)
    results.initialize(repeating: nil)
    var moved = false
    defer {
        if !moved { results.deinitialize() }
        results.deallocate()
    }
    let failure = FirstError()
    withoutActuallyEscaping(transform) { transform in
        withoutActuallyEscaping(context) { context in
            // Each share reads the inputs and writes only its own result slots. More shares than cores, which
            // concurrentPerform hands to whichever thread is free: a thread the machine's other work slows down
            // does less, instead of the others waiting for its half.
            let shares = min(workers * sharesPerCore, max(1, items.count / minimumChunk))
            let box = UnsafeSendableBox((items, transform, context, results))
            DispatchQueue.concurrentPerform(iterations: shares) { share in
                let (items, transform, context, results) = box.value
                var scratch = context()
                for i in workerRange(share, of: shares, count: items.count) where !failure.isSet {
                    do { results[i] = try transform(&scratch, items[i]) } catch { failure.set(error) }
                }
            }
        }
    }
    if let error = failure.error { throw error }
    moved = true
    return moveOut(results)
}

/// The results, moved (not copied) into an array: the caller's thread then never retains and releases what the
/// workers built, which would bounce every record's buffers between the cores' caches.
private func moveOut<U>(_ results: UnsafeMutableBufferPointer<U?>) -> [U] {
    Array(unsafeUninitializedCapacity: results.count) { out, count in
        for i in results.indices { (out.baseAddress! + i).initialize(to: (results.baseAddress! + i).move()!) }
        count = results.count
    }
}

/// Runs independent jobs on every core, each job once, the longest first when listed first; results in job order.
/// Unlike `parallelMap` (equal contiguous shares), a few jobs of very different sizes keep both cores busy.
package func runConcurrently<T>(_ jobs: [() throws -> T]) throws -> [T] {
    if jobs.count <= 1 || availableCores <= 1 { return try jobs.map { try $0() } }
    let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: jobs.count)
    results.initialize(repeating: nil)
    defer { results.deinitialize(); results.deallocate() }
    let failure = FirstError()
    let box = UnsafeSendableBox((jobs, results))  // job i writes only slot i
    DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
        let (jobs, results) = box.value
        do { results[i] = try jobs[i]() } catch { failure.set(error) }
    }
    if let error = failure.error { throw error }
    return results.map { $0! }
}

/// The contiguous share of `count` items that worker `worker` of `workers` handles: every item exactly once,
/// shares differing by at most one, and a valid (possibly empty) range for any core count.
package func workerRange(_ worker: Int, of workers: Int, count: Int) -> Range<Int> {
    (count * worker / workers)..<(count * (worker + 1) / workers)
}

/// Items `0..<count` handed out in batches to participants `0..<availableCores` (started at once on the worker
/// threads) and, in `finish`, to the caller as participant `availableCores`. `nextBatch(i)` is the batch that
/// starts at the first untaken item `i`. After the first error no batch is handed out; `finish` rethrows it.
package final class SharedBatches: Sendable {
    private let count: Int
    private let nextBatch: @Sendable (Int) -> Range<Int>
    private let work: @Sendable (_ participant: Int, _ items: Range<Int>) throws -> Void
    /// The first item not yet handed out.
    private let taken = Mutex(0)
    private let failure = FirstError()
    private let group = DispatchGroup()

    /// Participants: the worker threads and the caller of `finish`.
    package static var participants: Int { availableCores + 1 }

    package init(count: Int, nextBatch: @escaping @Sendable (Int) -> Range<Int>,
                 work: @escaping @Sendable (_ participant: Int, _ items: Range<Int>) throws -> Void) {
        self.count = count
        self.nextBatch = nextBatch
        self.work = work
        for worker in 0..<availableCores {
            DispatchQueue.global().async(group: group) { self.participate(worker) }
        }
    }

    /// Helps as the last participant until every batch is taken, waits for the workers, rethrows the first error.
    package func finish() throws {
        participate(availableCores)
        group.wait()
        if let error = failure.error { throw error }
    }

    private func take() -> Range<Int>? {
        taken.withLock { taken in
            guard taken < count, !failure.isSet else { return nil }
            let batch = nextBatch(taken).clamped(to: taken..<count)
            taken = max(batch.upperBound, taken + 1)
            return batch
        }
    }

    private func participate(_ participant: Int) {
        while let batch = take() {
            do { try work(participant, batch) } catch {
                failure.set(error)
                return
            }
        }
    }
}

/// One job running on a worker thread while the caller does something else (a pipeline stage): `wait()` returns
/// its result or rethrows its error. Wait before anything the job borrows goes away.
package final class BackgroundTask<T>: @unchecked Sendable {
    // @unchecked: `result` is written once by the job before the group is left and read only after `group.wait()`.
    private var result: Result<T, Error>?
    private let group = DispatchGroup()

    package init(_ job: @escaping @Sendable () throws -> T) {
        DispatchQueue.global().async(group: group) { self.result = Result { try job() } }
    }

    package func wait() throws -> T {
        group.wait()
        return try result!.get()
    }
}

/// Carries values across the concurrentPerform boundary; each worker touches only its own indexes.
package struct UnsafeSendableBox<T>: @unchecked Sendable {
    // @unchecked: used only where every worker reads the value and writes nothing but its own result slots
    // (concurrentPerform's closure must be Sendable; the non-escaping closures and buffers inside are not).
    package let value: T
    package init(_ value: T) { self.value = value }
}

/// The first error any worker met; later ones are dropped.
package final class FirstError: Sendable {
    private let stored = Mutex<(any Error)?>(nil)

    package init() {}

    package var isSet: Bool { stored.withLock { $0 != nil } }
    package var error: (any Error)? { stored.withLock { $0 } }

    package func set(_ error: any Error) {
        stored.withLock { if $0 == nil { $0 = error } }
    }
}

/// A value behind a lock, like `Synchronization.Mutex`, but on a pthread mutex that ThreadSanitizer sees: on Linux a
/// contended `Mutex` is handed over by the kernel (a PI futex in the uninstrumented runtime), so TSan reports every
/// next holder's access as a race and the sanitizer stops being useful for the code it guards.
package final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched inside `withLock`, under `lock`.
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
