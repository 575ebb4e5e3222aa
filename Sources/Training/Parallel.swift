import Dispatch

/// Runs `body(item, lane)` for every item on `lanes` threads; item i runs on lane i % lanes, so
/// each lane owns its own scratch state (a network) and the results do not depend on `lanes`.
func forEachParallel(_ items: Int, lanes: Int, _ body: @Sendable (_ item: Int, _ lane: Int) -> Void) {
    let lanes = max(1, min(lanes, items))
    if lanes == 1 {
        for i in 0..<items { body(i, 0) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: lanes) { lane in
        for i in stride(from: lane, to: items, by: lanes) { body(i, lane) }
    }
}

/// Storage that parallel lanes mutate at disjoint indices, through a raw buffer (an Array's
/// accessors would check exclusivity on the whole array).
// @unchecked Sendable: every index is touched by exactly one lane at a time (forEachParallel's i % lanes).
final class Lanes<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>

    init(_ items: [Element]) {
        buffer = .allocate(capacity: items.count)
        _ = buffer.initialize(from: items)
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    var count: Int { buffer.count }

    subscript(i: Int) -> Element {
        get { buffer[i] }
        _modify { yield &buffer[i] }
    }
}
