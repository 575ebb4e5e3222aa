/// Snapshots: the application compacts the log; the leader ships its latest
/// snapshot to followers that need compacted entries.
extension RaftCore {
    /// The application has captured its state through `index` in `snapshotData`:
    /// the log up to there is replaced by the returned snapshot. The driver must
    /// persist it (atomically replacing the previous one) and may then delete
    /// stored entries with index ≤ `index`. `index` must be applied (acknowledged
    /// with `advance`) and above the current snapshot.
    @discardableResult
    public mutating func compact(upTo index: UInt64, snapshotData: [UInt8]) throws(RaftError) -> Snapshot {
        guard index > log.snapshotIndex else {
            throw .snapshotOutOfDate(requested: index, snapshotIndex: log.snapshotIndex)
        }
        guard index <= log.applied, index <= log.stableIndex else {
            throw .compactionBeyondApplied(requested: index, applied: min(log.applied, log.stableIndex))
        }
        return log.compact(upTo: index, data: snapshotData)
    }

    mutating func sendSnapshot(to peer: NodeID) -> Bool {
        guard let snapshot = log.snapshot else { return false }
        send(to: peer, .installSnapshot(InstallSnapshot(snapshot: snapshot)))
        progress[peer]?.becomeSnapshot(index: snapshot.metadata.lastIncludedIndex)
        return true
    }

    mutating func handleInstallSnapshot(from leader: NodeID, _ request: InstallSnapshot) {
        let metadata = request.snapshot.metadata
        guard metadata.lastIncludedTerm <= term else { return }
        if metadata.lastIncludedIndex > log.committed {
            log.install(request.snapshot)
        }
        // Everything up to our commit matches the leader, whether or not we installed.
        send(to: leader, .installSnapshotResponse(InstallSnapshotResponse(matchIndex: log.committed)))
    }

    mutating func handleSnapshotResponse(from peer: NodeID, _ response: InstallSnapshotResponse) {
        guard var state = progress[peer], response.matchIndex <= log.lastIndex else { return }
        state.recentActive = true
        let advanced = state.acknowledge(match: response.matchIndex)
        if case .snapshot = state.state { state.becomeProbe(next: state.match + 1) }
        progress[peer] = state
        if advanced { matchAdvanced(for: peer) }
        sendAppends(to: peer)
    }
}
