/// The output side: `ready()` hands out pending work, `advance(_:)` records
/// that the driver persisted, sent and applied it.
extension RaftCore {
    /// True when `ready()` has something; false while a Ready awaits `advance`.
    public var hasReady: Bool {
        guard !readyOutstanding else { return false }
        return !outbox.isEmpty || appendsPending || heartbeatPending || !readStates.isEmpty
            || hardState != persistedHardState || softState != reportedSoftState
            || log.hasUnpersisted || log.hasCommittedToApply
    }

    /// Takes everything to persist, send and apply; see `Ready` for the contract.
    /// Precondition: the previous Ready was passed to `advance`.
    public mutating func ready() -> Ready {
        precondition(!readyOutstanding, "ready() called before advance() of the previous Ready")
        if role == .leader {
            if heartbeatPending { broadcastHeartbeat() }
            flushAppends()
        }
        let written = log.takeUnpersisted()
        let current = hardState
        let ready = Ready(softState: softState,
                          hardState: current != persistedHardState ? current : nil,
                          snapshot: written.snapshot,
                          truncateFrom: written.truncateFrom,
                          entries: written.entries,
                          committedEntries: log.committedToApply(),
                          messages: outbox,
                          readStates: readStates)
        outbox = []
        readStates = []
        reportedSoftState = ready.softState
        readyOutstanding = true
        return ready
    }

    /// The driver persisted `ready`, sent its messages and applied its entries.
    public mutating func advance(_ ready: Ready) {
        readyOutstanding = false
        if let written = ready.hardState { persistedHardState = written }
        if let snapshot = ready.snapshot { log.snapshotPersisted(snapshot.metadata) }
        if let last = ready.entries.last { log.stable(to: last.index, term: last.term) }
        if let last = ready.committedEntries.last { log.applied(to: last.index) }
        // Our own durable entries count towards the quorum.
        if role == .leader { maybeCommit() }
    }
}
