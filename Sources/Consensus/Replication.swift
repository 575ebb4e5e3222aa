/// Log replication: the leader's AppendEntries, the follower's consistency
/// check with fast-backup hints, and commitment.
extension RaftCore {
    // MARK: leader: sending

    @discardableResult
    mutating func appendAsLeader(kind: Entry.Kind, data: [UInt8]) -> LogPosition {
        let entry = Entry(term: term, index: log.lastIndex + 1, kind: kind, data: data)
        log.append(entry)
        appendsPending = true
        return LogPosition(index: entry.index, term: term)
    }

    /// Sends whatever each follower is missing, as far as its window allows.
    /// Deferred to `ready()` so proposals arriving together share messages.
    mutating func flushAppends() {
        guard appendsPending else { return }
        appendsPending = false
        for peer in peers { sendAppends(to: peer) }
    }

    /// Sends AppendEntries to `peer` until its window is full or it has everything.
    mutating func sendAppends(to peer: NodeID) {
        while role == .leader, sendAppend(to: peer, allowEmpty: false) {}
    }

    /// One AppendEntries (or a snapshot if the entries it needs are compacted).
    /// Returns false if nothing was sent.
    @discardableResult
    mutating func sendAppend(to peer: NodeID, allowEmpty: Bool) -> Bool {
        guard var state = progress[peer],
              !state.isPaused(maxInflight: config.maxInflightMessages, maxBytes: config.maxInflightBytes) else { return false }
        let prevIndex = state.next - 1
        guard let prevTerm = log.term(at: prevIndex) else { return sendSnapshot(to: peer) }
        let entries = log.entries(from: state.next, maxCount: config.maxEntriesPerMessage, maxBytes: config.maxBytesPerMessage)
        guard !entries.isEmpty || allowEmpty else { return false }
        send(to: peer, .appendEntries(AppendEntries(prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: entries,
                                                    leaderCommit: log.committed, readRound: reads.round)))
        state.sent(upTo: entries.last?.index, bytes: entries.reduce(0) { $0 + $1.data.count })
        progress[peer] = state
        return true
    }

    /// The driver could not deliver to `peer` (etcd's ReportUnreachable): stop pipelining
    /// into what is probably a dead connection and probe it with one message at a time.
    public mutating func reportUnreachable(_ peer: NodeID) {
        guard role == .leader, var state = progress[peer], state.state == .replicate else { return }
        state.becomeProbe(next: state.match + 1)
        progress[peer] = state
    }

    mutating func broadcastHeartbeat() {
        heartbeatPending = false
        for peer in peers { sendHeartbeat(to: peer) }
    }

    /// A heartbeat checks the log only up to the follower's known match, so it
    /// can never be rejected because pipelined entries are still in flight.
    /// Followers still being probed get the probe itself, which resets their
    /// timer just as well; stalled pipelines and snapshots are retried here.
    mutating func sendHeartbeat(to peer: NodeID) {
        guard var state = progress[peer] else { return }
        switch state.state {
        case .probe:
            state.probeSent = false
            progress[peer] = state
            if sendAppend(to: peer, allowEmpty: true) { return }
        case .replicate:
            if state.match < log.lastIndex && state.ticksWithoutProgress >= config.replicationStallTicks {
                state.becomeProbe(next: state.match + 1)
                progress[peer] = state
                if sendAppend(to: peer, allowEmpty: true) { return }
            } else if state.match >= log.lastIndex {
                progress[peer]?.ticksWithoutProgress = 0
            }
        case .snapshot:
            if state.ticksInSnapshot >= config.electionTicks {
                state.becomeProbe(next: state.match + 1)
                progress[peer] = state
                if sendAppend(to: peer, allowEmpty: true) { return }
            }
        }
        let match = progress[peer]?.match ?? 0
        let (prevIndex, prevTerm) = log.term(at: match).map { (match, $0) } ?? (0, 0)
        send(to: peer, .appendEntries(AppendEntries(prevLogIndex: prevIndex, prevLogTerm: prevTerm,
                                                    leaderCommit: log.committed, readRound: reads.round)))
    }

    // MARK: follower: receiving

    mutating func handleAppendEntries(from leader: NodeID, _ request: AppendEntries) {
        guard Self.isWellFormed(request, term: term) else { return }
        var prevIndex = request.prevLogIndex
        var prevTerm = request.prevLogTerm
        var entries = request.entries
        // Entries up to our commit are settled and identical in every later
        // leader's log: skip them (they may also be compacted away here).
        if prevIndex < log.committed {
            let settled = log.committed - prevIndex
            guard UInt64(entries.count) > settled else {
                reply(to: leader, success: log.committed, request)
                return
            }
            entries.removeFirst(Int(settled))
            prevIndex = log.committed
            prevTerm = log.term(at: prevIndex)!
        }
        guard let localTerm = log.term(at: prevIndex), localTerm == prevTerm else {
            rejectAppend(from: leader, request)
            return
        }
        let lastNew = log.merge(after: prevIndex, entries)
        log.commit(to: min(request.leaderCommit, lastNew))
        reply(to: leader, success: lastNew, request)
    }

    private mutating func reply(to leader: NodeID, success match: UInt64, _ request: AppendEntries) {
        send(to: leader, .appendEntriesResponse(AppendEntriesResponse(success: true, matchIndex: match,
                                                                      readRound: request.readRound)))
    }

    /// Fast backup: tell the leader the term we hold at `prevLogIndex` and where
    /// it starts (or how short our log is), so it skips a whole term per round trip.
    private mutating func rejectAppend(from leader: NodeID, _ request: AppendEntries) {
        let conflictIndex: UInt64, conflictTerm: UInt64
        if request.prevLogIndex > log.lastIndex {
            conflictIndex = log.lastIndex + 1
            conflictTerm = 0
        } else {
            conflictTerm = log.term(at: request.prevLogIndex) ?? 0
            conflictIndex = log.firstIndex(ofTermAt: request.prevLogIndex, above: log.committed)
        }
        send(to: leader, .appendEntriesResponse(AppendEntriesResponse(
            success: false, rejectedIndex: request.prevLogIndex, conflictIndex: conflictIndex,
            conflictTerm: conflictTerm, readRound: request.readRound)))
    }

    /// Entries must follow `prevLogIndex` contiguously with terms that never
    /// decrease and never exceed the leader's; anything else is dropped.
    static func isWellFormed(_ request: AppendEntries, term: UInt64) -> Bool {
        var expectedIndex = request.prevLogIndex + 1
        var previousTerm = request.prevLogTerm
        for entry in request.entries {
            guard entry.index == expectedIndex, entry.term >= previousTerm, entry.term <= term else { return false }
            expectedIndex += 1
            previousTerm = entry.term
        }
        return request.prevLogTerm <= term
    }

    // MARK: leader: responses

    mutating func handleAppendResponse(from peer: NodeID, _ response: AppendEntriesResponse) {
        // A follower cannot hold more than we sent, nor echo a read round we never started.
        guard var state = progress[peer], response.matchIndex <= log.lastIndex, response.readRound <= reads.round else { return }
        state.recentActive = true
        if response.success {
            let advanced = state.acknowledge(match: response.matchIndex)
            switch state.state {
            case .probe:
                state.becomeReplicate()
            case .snapshot(let index) where state.match >= index:
                state.becomeProbe(next: state.match + 1)
            case .snapshot, .replicate:
                break
            }
            progress[peer] = state
            if advanced { matchAdvanced(for: peer) }
        } else if let next = backedUpNext(state, response) {
            state.becomeProbe(next: next)
            progress[peer] = state
        } else {
            progress[peer] = state
        }
        if response.readRound > 0 { acknowledgeReadRound(from: peer, response.readRound) }
        sendAppends(to: peer)
    }

    /// Where to resume after a rejection, or nil if the rejection is stale.
    private func backedUpNext(_ state: Progress, _ response: AppendEntriesResponse) -> UInt64? {
        switch state.state {
        case .replicate where response.rejectedIndex <= state.match: return nil
        case .probe where response.rejectedIndex != state.next - 1: return nil
        case .snapshot: return nil
        case .replicate, .probe: break
        }
        var next = response.conflictIndex
        if response.conflictTerm > 0,
           let last = log.lastIndex(ofTerm: response.conflictTerm, atOrBelow: response.rejectedIndex) {
            // We hold that term too: the follower's entries of it may match ours up to our last one.
            next = last + 1
        }
        return max(1, min(next, response.rejectedIndex, log.lastIndex + 1))
    }

    /// A follower's match moved forward: commit, promote, hand over.
    mutating func matchAdvanced(for peer: NodeID) {
        maybeCommit()
        guard role == .leader else { return }
        if let target = transfer?.target, target == peer, progress[peer]?.match == log.lastIndex {
            send(to: peer, .timeoutNow)
        }
        if log.config.learners.contains(peer) { maybePromoteLearner() }
    }

    /// Commits the highest index a quorum of voters holds, if it is of our term.
    @discardableResult
    mutating func maybeCommit() -> Bool {
        guard role == .leader else { return false }
        let voters = log.config.voters
        guard !voters.isEmpty else { return false }
        let matches = voters.map { $0 == id ? log.stableIndex : (progress[$0]?.match ?? 0) }.sorted(by: >)
        let candidate = matches[voters.count / 2]
        guard candidate > log.committed else { return false }
        // Raft §5.4.2 (Figure 8): replica counting commits only an entry of the
        // leader's own term; earlier entries are committed by it indirectly.
        guard log.term(at: candidate) == term else { return false }
        log.commit(to: candidate)
        committedAdvanced()
        return true
    }

    /// The leader's commit moved: serve waiting reads, finish membership work.
    mutating func committedAdvanced() {
        releaseReadsAwaitingCommit()
        stepDownIfRemoved()
        if role == .leader { maybePromoteLearner() }
    }
}
