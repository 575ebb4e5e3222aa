import Synchronization

/// A buffered single-consumer queue between the event loop (producer) and a
/// task (consumer). The producer never blocks; `next()` suspends when empty.
/// The queue ends with `finish()` (nil from `next()`) or `fail(_:)` (throws).
final class AsyncMessageQueue<Element: Sendable>: Sendable {
    private struct State {
        var buffer: [Element] = []
        var head = 0
        var end: Result<Void, Error>?
        var waiter: CheckedContinuation<Element?, Error>?

        mutating func popFirst() -> Element {
            let element = buffer[head]
            head += 1
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 64 && head * 2 > buffer.count {
                buffer.removeFirst(head)
                head = 0
            }
            return element
        }
    }

    private let state = Mutex(State())

    init() {}

    /// Appends an element, waking the consumer if it waits.
    func yield(_ element: Element) {
        let waiter = state.withLock { s -> CheckedContinuation<Element?, Error>? in
            guard s.end == nil else { return nil }
            if let waiter = s.waiter {
                s.waiter = nil
                return waiter
            }
            s.buffer.append(element)
            return nil
        }
        waiter?.resume(returning: element)
    }

    /// Ends the queue normally after the buffered elements.
    func finish() { end(.success(())) }

    /// Ends the queue with an error after the buffered elements.
    func fail(_ error: Error) { end(.failure(error)) }

    private func end(_ result: Result<Void, Error>) {
        let waiter = state.withLock { s -> CheckedContinuation<Element?, Error>? in
            guard s.end == nil else { return nil }
            s.end = result
            defer { s.waiter = nil }
            return s.waiter
        }
        guard let waiter else { return }
        switch result {
        case .success: waiter.resume(returning: nil)
        case .failure(let error): waiter.resume(throwing: error)
        }
    }

    /// The next element, nil at a normal end; throws the failure or
    /// `CancellationError` when the consuming task is cancelled while waiting.
    func next() async throws -> Element? {
        if let ready = try takeReady() { return ready.value }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, Error>) in
                let immediate = state.withLock { s -> Result<Element?, Error>? in
                    if s.head < s.buffer.count { return .success(s.popFirst()) }
                    if let end = s.end {
                        switch end {
                        case .success: return .success(nil)
                        case .failure(let error): return .failure(error)
                        }
                    }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiter = continuation
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Element?, Error>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private struct Ready { let value: Element? }

    private func takeReady() throws -> Ready? {
        try state.withLock { s -> Ready? in
            if s.head < s.buffer.count { return Ready(value: s.popFirst()) }
            if let end = s.end {
                switch end {
                case .success: return Ready(value: nil)
                case .failure(let error): throw error
                }
            }
            return nil
        }
    }
}

/// A value set once by the loop and awaited by any number of tasks.
final class AsyncPromise<Value: Sendable>: Sendable {
    private struct State {
        var result: Result<Value, Error>?
        var waiters: [CheckedContinuation<Value, Error>] = []
    }

    private let state = Mutex(State())

    init() {}

    var isResolved: Bool { state.withLock { $0.result != nil } }

    /// Resolves the promise; later calls are ignored.
    func resolve(_ result: Result<Value, Error>) {
        let waiters = state.withLock { s -> [CheckedContinuation<Value, Error>] in
            guard s.result == nil else { return [] }
            s.result = result
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    func succeed(_ value: Value) { resolve(.success(value)) }
    func fail(_ error: Error) { resolve(.failure(error)) }

    var value: Value {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { s -> Result<Value, Error>? in
                    if let result = s.result { return result }
                    s.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }

    /// The result if already resolved.
    var current: Result<Value, Error>? { state.withLock { $0.result } }
}
