import Dispatch
import Foundation

/// Runs `transform` over `items` on every core, in contiguous chunks, and returns results in input order.
/// The hot loops of import and verify use it; it allocates one result buffer per call, not per item.
func parallelMap<T, U>(_ items: [T], minimumChunk: Int = 64, _ transform: (T) throws -> U) throws -> [U] {
    let workers = min(ProcessInfo.processInfo.activeProcessorCount, max(1, items.count / minimumChunk))
    if workers <= 1 { return try items.map(transform) }
    let results = UnsafeMutableBufferPointer<U>.allocate(capacity: items.count)
    defer { results.deallocate() }
    let failure = FirstError()
    let filled = UnsafeMutableBufferPointer<Bool>.allocate(capacity: items.count)
    filled.initialize(repeating: false)
    defer { filled.deallocate() }
    try withoutActuallyEscaping(transform) { transform in
        let box = UnsafeSendableBox((items, results, filled, transform))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let (items, results, filled, transform) = box.value
            let chunk = (items.count + workers - 1) / workers
            let range = (worker * chunk)..<min(items.count, (worker + 1) * chunk)
            for i in range {
                if failure.isSet { return }
                do {
                    (results.baseAddress! + i).initialize(to: try transform(items[i]))
                    filled[i] = true
                } catch {
                    failure.set(error)
                    return
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

/// Carries values across the concurrentPerform boundary; each worker touches only its own indexes.
struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    var isSet: Bool { lock.withLock { stored != nil } }
    var error: Error? { lock.withLock { stored } }

    func set(_ error: Error) {
        lock.withLock { if stored == nil { stored = error } }
    }
}
