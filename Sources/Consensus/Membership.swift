/// Single-server membership changes. A config takes effect as soon as its
/// entry is appended (thesis §4.1), on every node; a truncated config entry
/// reverts it. Safety rests on two rules enforced here: at most one change is
/// uncommitted at any time, and a new leader changes nothing before it has
/// committed an entry of its own term (the fix to the single-server bug
/// described on raft-dev, 2015).
extension RaftCore {
    /// Proposes a membership change on the leader; returns where it landed.
    /// Joiners enter with `addLearner` and are promoted automatically once
    /// caught up (see `RaftConfig.learnerCatchUpMargin`).
    @discardableResult
    public mutating func proposeConfigChange(_ change: ConfigChange) throws(RaftError) -> LogPosition {
        guard role == .leader else { throw .notLeader(leaderHint: leader) }
        guard transfer == nil else { throw .leadershipTransferInProgress }
        guard log.lastConfigIndex <= log.committed else { throw .configChangeInProgress }
        guard log.term(at: log.committed) == term else { throw .leaderNotReady }
        try Self.validate(change, against: log.config)
        return appendConfigChange(change)
    }

    static func validate(_ change: ConfigChange, against current: ClusterConfig) throws(RaftError) {
        let node = change.node
        guard !node.isEmpty else { throw .invalidConfigChange("empty node id") }
        guard !current.removed.contains(node) else { throw .nodeRemoved(node) }
        switch change {
        case .addLearner:
            guard !current.contains(node) else { throw .invalidConfigChange("\(node) is already a member") }
        case .promote:
            guard current.learners.contains(node) else { throw .invalidConfigChange("\(node) is not a learner") }
        case .remove:
            guard current.contains(node) else { throw .invalidConfigChange("\(node) is not a member") }
            guard current.voters != [node] else { throw .invalidConfigChange("cannot remove the last voter") }
        }
    }

    @discardableResult
    mutating func appendConfigChange(_ change: ConfigChange) -> LogPosition {
        let position = appendAsLeader(kind: .configChange, data: change.encoded())
        syncProgressWithConfig()
        // A smaller quorum (say, a dead voter removed) may already hold more entries.
        maybeCommit()
        return position
    }

    /// Tracks exactly the members of the latest config (besides ourselves).
    mutating func syncProgressWithConfig() {
        let members = log.config.members.subtracting([id])
        for peer in progress.keys where !members.contains(peer) { progress.removeValue(forKey: peer) }
        for peer in members where progress[peer] == nil { progress[peer] = Progress(next: log.lastIndex + 1) }
        peers = members.sorted()
        if let target = transfer?.target, !log.config.voters.contains(target) { transfer = nil }
    }

    /// A leader that removed itself keeps leading until the removal commits,
    /// then hands over (TimeoutNow to the most caught-up voter) and steps down.
    mutating func stepDownIfRemoved() {
        guard role == .leader, !log.config.voters.contains(id), log.committed >= log.lastConfigIndex else { return }
        let successor = log.config.voters.sorted().max { (progress[$0]?.match ?? 0) < (progress[$1]?.match ?? 0) }
        if let successor, progress[successor]?.match == log.lastIndex {
            send(to: successor, .timeoutNow)
        }
        becomeFollower(term: term, leader: nil)
    }

    /// Proposes `promote` for the first learner within the catch-up margin, when
    /// no other change is pending.
    mutating func maybePromoteLearner() {
        guard role == .leader, config.autoPromoteLearners, transfer == nil, log.config.voters.count < config.maxVoters,
              log.lastConfigIndex <= log.committed, log.term(at: log.committed) == term else { return }
        for learner in log.config.learners.sorted() {
            guard let state = progress[learner], state.state == .replicate,
                  state.match + config.learnerCatchUpMargin >= log.lastIndex else { continue }
            appendConfigChange(.promote(learner))
            return
        }
    }
}
