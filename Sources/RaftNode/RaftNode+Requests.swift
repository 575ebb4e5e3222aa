import Consensus

/// What callers ask of a node: proposals, membership changes, linearizable reads, status.
extension RaftNode {
    /// Appends `data` through this node (it must lead) and waits until it is committed and applied here.
    public func propose(_ data: [UInt8]) async -> Result<LogPosition, RaftNodeError> {
        if let failure { return .failure(failure) }
        guard data.count <= options.maxRequestBytes else { return .failure(.tooLarge(bytes: data.count, limit: options.maxRequestBytes)) }
        let position: LogPosition
        do {
            position = try core.propose(data)
        } catch {
            return .failure(refusal(error))
        }
        return await waitForCommit(position)
    }

    /// Adds `node` as a learner (promoted automatically once caught up). Idempotent:
    /// a node already in the config at the same address succeeds at once.
    public func addMember(_ node: NodeID, address: String) async -> Result<LogPosition, RaftNodeError> {
        if let failure { return .failure(failure) }
        let config = core.clusterConfig
        if config.contains(node), config.addresses[node] == address, core.role == .leader {
            return .success(LogPosition(index: core.commitIndex, term: core.term))
        }
        return await changeConfig(.addLearner(node, address: address))
    }

    public func removeMember(_ node: NodeID) async -> Result<LogPosition, RaftNodeError> {
        if let failure { return .failure(failure) }
        return await changeConfig(.remove(node))
    }

    private func changeConfig(_ change: ConfigChange) async -> Result<LogPosition, RaftNodeError> {
        let position: LogPosition
        do {
            position = try core.proposeConfigChange(change)
        } catch {
            return .failure(refusal(error))
        }
        return await waitForCommit(position)
    }

    private func waitForCommit(_ position: LogPosition) async -> Result<LogPosition, RaftNodeError> {
        scheduleReady()
        return await withCheckedContinuation { continuation in
            proposals[position.index] = PendingProposal(term: position.term, registeredAt: ticks, continuation: continuation)
        }
    }

    /// Confirms with a quorum that the leader still leads (ReadIndex), then waits until this
    /// node applied that far. Returns the read index; state read afterwards is linearizable.
    public func linearizableRead() async -> Result<UInt64, RaftNodeError> {
        if let failure { return .failure(failure) }
        nextReadID += 1
        var context = Array(id.utf8)
        withUnsafeBytes(of: nextReadID.littleEndian) { context.append(contentsOf: $0) }
        do {
            try core.readIndex(context: context)
        } catch {
            return .failure(refusal(error))
        }
        scheduleReady()
        return await withCheckedContinuation { continuation in
            reads[context] = PendingRead(index: nil, registeredAt: ticks, continuation: continuation)
        }
    }

    /// A page of committed entries from `index` (0: the first in the log), see `raft.v1.Cluster/ReadEntries`.
    public func readCommitted(from index: UInt64, maxCount: Int, maxBytes: Int)
        -> (entries: [Entry]?, from: UInt64, commit: UInt64, first: UInt64) {
        let first = core.snapshotIndex + 1
        let from = index == 0 ? first : index
        return (core.committedEntries(from: from, maxCount: maxCount, maxBytes: maxBytes), from, core.commitIndex, first)
    }

    public var status: Status { core.status }
    public var softState: SoftState { core.softState }
    public var clusterConfig: ClusterConfig { core.clusterConfig }

    /// The leader's ID and address as this node knows them.
    public var leaderHint: (id: NodeID, address: String?)? {
        guard let leader = core.leader else { return nil }
        return (leader, core.clusterConfig.addresses[leader])
    }

    func refusal(_ error: RaftError) -> RaftNodeError {
        switch error {
        case .notLeader(let hint):
            .notLeader(leaderID: hint, address: hint.flatMap { core.clusterConfig.addresses[$0] })
        case .nodeRemoved(let node):
            .removed(node)
        case .configChangeInProgress, .leaderNotReady, .leadershipTransferInProgress:
            .busy("\(error)")
        default:
            .rejected("\(error)")
        }
    }
}
