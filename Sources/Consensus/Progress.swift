/// The leader's view of one follower's (or learner's) replication.
struct Progress: Sendable {
    enum State: Equatable, Sendable {
        /// Where the follower's log diverges is unknown: one AppendEntries at a time.
        case probe
        /// The follower is in sync: AppendEntries are pipelined, `next` runs ahead of `match`.
        case replicate
        /// A snapshot ending at `index` is on its way; nothing else is sent meanwhile.
        case snapshot(index: UInt64)
    }

    var match: UInt64 = 0
    var next: UInt64
    var state: State = .probe
    /// Probe state: a probe is outstanding.
    var probeSent = false
    /// Replicate state: last index and entry bytes of each AppendEntries in flight, oldest first.
    var inflight: [(last: UInt64, bytes: Int)] = []
    var inflightBytes = 0
    /// Heard from since the last check-quorum round.
    var recentActive = true
    /// Ticks since `match` last moved (or anything was outstanding).
    var ticksWithoutProgress = 0
    var ticksInSnapshot = 0

    init(next: UInt64) { self.next = next }

    /// Replicate state pauses at `maxInflight` messages or `maxBytes` of entries in flight, so
    /// heartbeats never queue behind more data than the link moves in a fraction of a timeout.
    func isPaused(maxInflight: Int, maxBytes: Int) -> Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflight.count >= maxInflight || inflightBytes >= maxBytes
        case .snapshot: true
        }
    }

    /// Records an acknowledged match; true if it moved forward.
    mutating func acknowledge(match index: UInt64) -> Bool {
        while let first = inflight.first, first.last <= index {
            inflightBytes -= first.bytes
            inflight.removeFirst()
        }
        guard index > match else { return false }
        match = index
        next = max(next, index + 1)
        ticksWithoutProgress = 0
        return true
    }

    /// The leader sent entries up to `last`, carrying `bytes` of data.
    mutating func sent(upTo last: UInt64?, bytes: Int) {
        switch state {
        case .probe: probeSent = true
        case .replicate:
            if let last {
                next = last + 1
                inflight.append((last, bytes))
                inflightBytes += bytes
            }
        case .snapshot: break
        }
    }

    mutating func becomeProbe(next candidate: UInt64) {
        state = .probe
        next = max(candidate, match + 1)
        probeSent = false
        clearInflight()
        ticksWithoutProgress = 0
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        clearInflight()
        ticksWithoutProgress = 0
    }

    mutating func becomeSnapshot(index: UInt64) {
        state = .snapshot(index: index)
        probeSent = false
        clearInflight()
        ticksInSnapshot = 0
    }

    private mutating func clearInflight() {
        inflight.removeAll()
        inflightBytes = 0
    }

    /// The public view of this progress.
    func status(isLearner: Bool) -> FollowerProgress {
        let publicState: FollowerProgress.State = switch state {
        case .probe: .probe
        case .replicate: .replicate
        case .snapshot: .snapshot
        }
        return FollowerProgress(match: match, next: next, state: publicState, isLearner: isLearner, recentActive: recentActive)
    }
}
