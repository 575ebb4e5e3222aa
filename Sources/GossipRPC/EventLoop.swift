import CEvent
import Foundation
import Synchronization

/// A thread running one libevent `event_base`.
///
/// It is also a `SerialExecutor` and a `TaskExecutor`: RPC handlers run as tasks
/// preferring this executor, so the socket, nghttp2 and the handler share one
/// thread and a message costs no thread hop.
public final class EventLoop: @unchecked Sendable {
    // Invariant: `base`, `wakeEvent`, `endOfTick` and `readScratch` are touched only on the loop
    // thread (libevent's own locking makes `event_active` safe from any thread);
    // `pending` is guarded by its Mutex.
    let base: OpaquePointer
    private var wakeEvent: OpaquePointer!
    private let pending = Mutex(PendingWork())
    private var endOfTick: [() -> Void] = []
    private let threadID = Mutex<pthread_t?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    public let name: String
    /// Where plain-TCP connections on this loop read their sockets (loop thread only; nghttp2
    /// consumes every byte before the next read).
    let readScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)

    private struct PendingWork {
        var items: [Work] = []
        var wakeScheduled = false
        var stopping = false
    }

    private enum Work: Sendable {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    /// Starts a new loop thread and returns once it is running.
    public init(name: String = "gossipfl-loop") {
        LibeventThreading.enable()
        guard let base = event_base_new() else { fatalError("event_base_new failed") }
        self.base = base
        self.name = name
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            threadID.withLock { $0 = pthread_self() }
            started.signal()
            run()
        }
        thread.name = name
        thread.stackSize = 1 << 21
        wakeEvent = event_new(base, -1, 0, { _, _, ctx in
            Unmanaged<EventLoop>.fromOpaque(ctx!).takeUnretainedValue().drain()
        }, Unmanaged.passUnretained(self).toOpaque())
        thread.start()
        started.wait()
    }

    deinit {
        readScratch.deallocate()
        event_free(wakeEvent)
        event_base_free(base)
    }

    /// True when called on this loop's thread.
    public var inLoop: Bool {
        guard let id = threadID.withLock({ $0 }) else { return false }
        return pthread_equal(pthread_self(), id) != 0
    }

    /// Runs `body` on the loop thread, soon (never inline).
    public func execute(_ body: @escaping @Sendable () -> Void) {
        push(.closure(body))
    }

    /// Runs `body` inline when already on the loop thread, else schedules it.
    public func run(_ body: @escaping @Sendable () -> Void) {
        if inLoop { body() } else { push(.closure(body)) }
    }

    /// Runs `action` after everything already queued this tick, once per call.
    /// Used to coalesce socket flushes. Loop thread only.
    func atEndOfTick(_ action: @escaping () -> Void) {
        endOfTick.append(action)
        wake()
    }

    /// Stops the loop after the work already queued and waits for its thread.
    /// Must not be called on the loop thread itself.
    public func shutdown() {
        precondition(!inLoop, "EventLoop.shutdown() called on its own thread")
        let alreadyStopping = pending.withLock { state -> Bool in
            defer { state.stopping = true }
            return state.stopping
        }
        if alreadyStopping { return }
        execute { [self] in event_base_loopbreak(base) }
        finished.wait()
    }

    private func run() {
        event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY)
        // Run what was queued before the stop so no continuation is lost silently.
        drain()
        finished.signal()
    }

    private func push(_ work: Work) {
        let needsWake = pending.withLock { state -> Bool in
            state.items.append(work)
            defer { state.wakeScheduled = true }
            return !state.wakeScheduled
        }
        if needsWake { event_active(wakeEvent, 0, 0) }
    }

    private func wake() {
        let needsWake = pending.withLock { state -> Bool in
            defer { state.wakeScheduled = true }
            return !state.wakeScheduled
        }
        if needsWake { event_active(wakeEvent, 0, 0) }
    }

    private func drain() {
        let batch = pending.withLock { state -> [Work] in
            state.wakeScheduled = false
            return state.items.isEmpty ? [] : state.items.swapAndClear()
        }
        for work in batch {
            switch work {
            case .job(let job):
                job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
            case .closure(let body):
                body()
            }
        }
        while !endOfTick.isEmpty {
            let actions = endOfTick
            endOfTick = []
            for action in actions { action() }
        }
    }
}

extension EventLoop: SerialExecutor, TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        push(.job(UnownedJob(job)))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(inLoop, "not on event loop \(name)")
    }
}

extension Array {
    fileprivate mutating func swapAndClear() -> [Element] {
        var out: [Element] = []
        out.reserveCapacity(count)
        swap(&out, &self)
        return out
    }
}

/// Process-wide setup done once, before the first loop exists.
enum LibeventThreading {
    private static let enabled: Bool = {
        // A peer closing its socket while we write must not kill the process:
        // OpenSSL writes without MSG_NOSIGNAL, so SIGPIPE is ignored and the
        // write fails with EPIPE, closing only that connection.
        signal(SIGPIPE, SIG_IGN)
        // libevent must use pthreads before the first base is created, so that
        // `event_active` from other threads wakes the loop safely.
        return evthread_use_pthreads() == 0
    }()

    static func enable() {
        precondition(enabled, "evthread_use_pthreads failed")
    }
}
