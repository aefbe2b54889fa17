import Dispatch
import Foundation

/// Runs `transform` over `items` on every core, in contiguous chunks, and returns results in input order.
/// The hot loops of import and verify use it; it allocates one result buffer per call, not per item.
package func parallelMap<T, U>(_ items: [T], minimumChunk: Int = 64, _ transform: (T) throws -> U) throws -> [U] {
    try parallelMap(items, minimumChunk: minimumChunk, context: { () }) { _, item in try transform(item) }
}

/// As `parallelMap`, with scratch state that each worker makes once (`context`) and reuses for all its items.
package func parallelMap<T, U, C>(_ items: [T], minimumChunk: Int = 64, context: () -> C,
                          _ transform: (inout C, T) throws -> U) throws -> [U] {
    let workers = min(availableCores, max(1, items.count / minimumChunk))
    if workers <= 1 {
        var scratch = context()
        return try items.map { try transform(&scratch, $0) }
    }
    let results = UnsafeMutableBufferPointer<U>.allocate(capacity: items.count)
    defer { results.deallocate() }
    let failure = FirstError()
    let filled = UnsafeMutableBufferPointer<Bool>.allocate(capacity: items.count)
    filled.initialize(repeating: false)
    defer { filled.deallocate() }
    try withoutActuallyEscaping(transform) { transform in
        try withoutActuallyEscaping(context) { context in
            let box = UnsafeSendableBox((items, results, filled, transform, context))
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let (items, results, filled, transform, context) = box.value
                var scratch = context()
                for i in workerRange(worker, of: workers, count: items.count) {
                    if failure.isSet { return }
                    do {
                        (results.baseAddress! + i).initialize(to: try transform(&scratch, items[i]))
                        filled[i] = true
                    } catch {
                        failure.set(error)
                        return
                    }
                }
            }
        }
        if let error = failure.error {
            for i in 0..<items.count where filled[i] { (results.baseAddress! + i).deinitialize(count: 1) }
            throw error
        }
    }
    let out = Array(results)
    results.baseAddress!.deinitialize(count: items.count)
    return out
}

/// Cores this process may use, read once: Foundation reads cgroup files on every `activeProcessorCount` call.
package let availableCores = ProcessInfo.processInfo.activeProcessorCount

/// The contiguous share of `count` items that worker `worker` of `workers` handles: every item exactly once,
/// shares differing by at most one, and a valid (possibly empty) range for any core count.
package func workerRange(_ worker: Int, of workers: Int, count: Int) -> Range<Int> {
    (count * worker / workers)..<(count * (worker + 1) / workers)
}

/// Carries values across the concurrentPerform boundary; each worker touches only its own indexes.
package struct UnsafeSendableBox<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}

package final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    package init() {}

    package var isSet: Bool { lock.withLock { stored != nil } }
    package var error: Error? { lock.withLock { stored } }

    package func set(_ error: Error) {
        lock.withLock { if stored == nil { stored = error } }
    }
}

/// Runs independent jobs on every core, each job once, the longest first when listed first; results in job order.
/// Unlike `parallelMap` (equal contiguous shares), a few jobs of very different sizes keep both cores busy.
package func runConcurrently<T>(_ jobs: [() throws -> T]) throws -> [T] {
    if jobs.count <= 1 || availableCores <= 1 { return try jobs.map { try $0() } }
    let slots = UnsafeMutableBufferPointer<Result<T, Error>?>.allocate(capacity: jobs.count)
    slots.initialize(repeating: nil)
    defer {
        _ = slots.deinitialize()
        slots.deallocate()
    }
    let box = UnsafeSendableBox((jobs, slots))
    DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
        let (jobs, slots) = box.value
        let job = jobs[i]
        slots[i] = Result { try job() }
    }
    return try slots.map { try $0!.get() }
}
