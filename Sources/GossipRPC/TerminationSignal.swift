import Foundation
import Glibc

/// SIGTERM/SIGINT turned into an awaitable event. Creating it installs a
/// `sigaction` handler synchronously (a dispatch signal source registers
/// asynchronously, and a signal in that window would be lost), so a signal
/// that arrives any time after `init` is seen by `wait()`.
public final class TerminationSignal: Sendable {
    public init() {
        SignalPipe.install()
    }

    /// Suspends until SIGTERM or SIGINT has arrived (at once if one already did).
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                SignalPipe.waitForSignal()
                continuation.resume()
            }
        }
    }
}

/// The self-pipe trick: the handler only writes a byte (async-signal-safe).
private enum SignalPipe {
    // Invariant: written once, under `installOnce`, before any handler can run.
    nonisolated(unsafe) static var fds: (read: Int32, write: Int32) = (-1, -1)

    private static let installOnce: Void = {
        var pair: [Int32] = [-1, -1]
        guard pipe(&pair) == 0 else { fatalError("pipe() for signal handling failed: \(String(cString: strerror(errno)))") }
        fds = (pair[0], pair[1])
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            var byte: UInt8 = 1
            _ = write(SignalPipe.fds.write, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        for sig in [SIGTERM, SIGINT] { sigaction(sig, &action, nil) }
    }()

    static func install() { _ = installOnce }

    static func waitForSignal() {
        var byte: UInt8 = 0
        while read(fds.read, &byte, 1) < 0 && errno == EINTR {}
    }
}
