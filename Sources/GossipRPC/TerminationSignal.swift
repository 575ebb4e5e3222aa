import Foundation

/// SIGTERM/SIGINT turned into an awaitable event. Creating it installs the
/// handlers, so signals that arrive before `wait()` are not lost.
public final class TerminationSignal: @unchecked Sendable {
    // Invariant: all mutable state is guarded by `lock`.
    private let lock = NSLock()
    private var fired = false
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [DispatchSourceSignal] = []

    public init() {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.fire() }
            source.resume()
            sources.append(source)
        }
    }

    private func fire() {
        let waiter = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            fired = true
            defer { continuation = nil }
            return continuation
        }
        waiter?.resume()
    }

    public func wait() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let alreadyFired = lock.withLock { () -> Bool in
                if !fired { continuation = waiter }
                return fired
            }
            if alreadyFired { waiter.resume() }
        }
    }
}
