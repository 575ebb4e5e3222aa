import CEvent

/// A one-shot or repeating timer on an `EventLoop`. Create, fire and cancel it
/// on the loop thread only.
final class LoopTimer {
    private var event: OpaquePointer?
    /// Dropped once the timer can no longer fire, so an owner captured by it is not kept alive
    /// by a timer it still references (owner -> timer -> action -> owner).
    private var action: (() -> Void)?
    private let repeating: Bool
    private var selfRetain: Unmanaged<LoopTimer>?

    /// Schedules `action` after `delay` (and every `delay` if `repeating`).
    init(loop: EventLoop, after delay: Duration, repeating: Bool = false, action: @escaping () -> Void) {
        self.action = action
        self.repeating = repeating
        let retained = Unmanaged.passRetained(self)
        selfRetain = retained
        event = event_new(loop.base, -1, Int16(repeating ? EV_PERSIST : 0), { _, _, ctx in
            Unmanaged<LoopTimer>.fromOpaque(ctx!).takeUnretainedValue().fire()
        }, retained.toOpaque())
        var tv = delay.timeval
        event_add(event, &tv)
    }

    var isActive: Bool { event != nil }

    func cancel() {
        action = nil
        guard let event else { return }
        event_del(event)
        event_free(event)
        self.event = nil
        selfRetain?.release()
        selfRetain = nil
    }

    private func fire() {
        if !repeating {
            // Release before running so the action may schedule a new timer freely.
            let retain = selfRetain
            if let event { event_free(event) }
            event = nil
            selfRetain = nil
            let action = self.action
            self.action = nil
            action?()
            retain?.release()
        } else {
            action?()
        }
    }
}

extension Duration {
    var timeval: timeval {
        let (seconds, attoseconds) = components
        let clampedSeconds = max(0, seconds)
        let micros = clampedSeconds == 0 && seconds < 0 ? 0 : attoseconds / 1_000_000_000_000
        return CEvent.timeval(tv_sec: Int(clampedSeconds), tv_usec: Int(max(0, micros)))
    }

    /// Seconds as a Double, for logs and arithmetic.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
