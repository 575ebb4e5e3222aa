/// Leadership transfer (thesis §3.10): the leader stops taking proposals,
/// brings the target up to date, then tells it to campaign at once (TimeoutNow).
struct LeadershipTransfer: Sendable {
    var target: NodeID
    var elapsed = 0
}

extension RaftCore {
    /// Hands leadership to `target`, a voter. Proposals are refused until the
    /// transfer completes or is abandoned after an election timeout.
    public mutating func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leaderHint: leader) }
        guard target != id else { return }
        guard log.config.voters.contains(target), progress[target] != nil else { throw .invalidTransferTarget(target) }
        if transfer?.target == target { return }
        transfer = LeadershipTransfer(target: target)
        if progress[target]?.match == log.lastIndex {
            send(to: target, .timeoutNow)
        } else {
            sendAppends(to: target)
        }
    }

    mutating func tickTransfer() {
        guard var current = transfer else { return }
        current.elapsed += 1
        transfer = current.elapsed >= config.electionTicks ? nil : current
    }
}
