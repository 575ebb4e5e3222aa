/// Timers, campaigns, votes and role changes.
extension RaftCore {
    enum CampaignKind {
        /// Ask first whether we could win, without touching terms (thesis §9.6).
        case preVote
        case election
        /// Ordered by the leader (TimeoutNow): skip pre-vote, override leases.
        case transfer
    }

    enum ElectionResult { case won, lost, pending }

    /// Advances logical time by one tick.
    public mutating func tick() {
        if role == .leader {
            tickLeader()
        } else {
            electionElapsed += 1
            if canCampaign && electionElapsed >= randomizedElectionTimeout {
                campaign(config.preVote ? .preVote : .election)
            }
        }
    }

    /// Only voters of the latest config may campaign.
    var canCampaign: Bool { log.config.voters.contains(id) }

    mutating func randomizeElectionTimeout() {
        let base = config.electionTicks
        randomizedElectionTimeout = base + Int(rng.next(below: UInt64(base)))
    }

    mutating func campaign(_ kind: CampaignKind) {
        // At the bound a new term could not be sent (peers drop it): stay a follower rather than overflow.
        guard canCampaign, term < RaftBounds.maxValue else { return }
        let voteTerm: UInt64
        if kind == .preVote {
            resetRoleState(role: .preCandidate, leader: nil)
            voteTerm = term + 1
        } else {
            term += 1
            votedFor = id
            resetRoleState(role: .candidate, leader: nil)
            voteTerm = term
        }
        votes[id] = true
        if electionResult() == .won {
            if kind == .preVote { campaign(.election) } else { becomeLeader() }
            return
        }
        let request = RequestVote(lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm,
                                  preVote: kind == .preVote, leadershipTransfer: kind == .transfer)
        for voter in log.config.voters.sorted() where voter != id {
            send(to: voter, term: voteTerm, .requestVote(request))
        }
    }

    /// Callers guarantee `requestTerm >= term`; a real vote request has already moved us to its term.
    mutating func handleVoteRequest(from candidate: NodeID, term requestTerm: UInt64, _ request: RequestVote) {
        let free = votedFor == candidate || (votedFor == nil && leader == nil) || (request.preVote && requestTerm > term)
        let granted = free && log.isUpToDate(lastIndex: request.lastLogIndex, lastTerm: request.lastLogTerm)
        if granted && !request.preVote {
            votedFor = candidate
            electionElapsed = 0
        }
        // A granted pre-vote answers in the term it was asked about; a refusal tells our term.
        send(to: candidate, term: granted ? requestTerm : term,
             .requestVoteResponse(RequestVoteResponse(granted: granted, preVote: request.preVote)))
    }

    mutating func handleVoteResponse(from voter: NodeID, term responseTerm: UInt64, _ response: RequestVoteResponse) {
        switch role {
        case .preCandidate where response.preVote && (responseTerm == term + 1 || !response.granted):
            break
        case .candidate where !response.preVote && responseTerm == term:
            break
        default:
            return
        }
        guard log.config.voters.contains(voter), votes[voter] == nil else { return }
        votes[voter] = response.granted
        switch electionResult() {
        case .won: role == .preCandidate ? campaign(.election) : becomeLeader()
        case .lost: becomeFollower(term: term, leader: nil)
        case .pending: break
        }
    }

    func electionResult() -> ElectionResult {
        let voters = log.config.voters
        var granted = 0, refused = 0
        for voter in voters {
            switch votes[voter] {
            case true?: granted += 1
            case false?: refused += 1
            case nil: break
            }
        }
        let quorum = voters.count / 2 + 1
        if granted >= quorum { return .won }
        if voters.count - refused < quorum { return .lost }
        return .pending
    }

    // MARK: role changes

    mutating func becomeFollower(term newTerm: UInt64, leader newLeader: NodeID?) {
        if newTerm > term {
            term = newTerm
            votedFor = nil
        }
        resetRoleState(role: .follower, leader: newLeader)
    }

    mutating func becomeLeader() {
        resetRoleState(role: .leader, leader: id)
        syncProgressWithConfig()
        // The no-op commits entries of earlier terms (Figure 8: a leader only
        // counts replicas for entries of its own term).
        appendAsLeader(kind: .noop, data: [])
    }

    /// Clears everything that belongs to the previous role.
    mutating func resetRoleState(role newRole: Role, leader newLeader: NodeID?) {
        role = newRole
        leader = newLeader
        electionElapsed = 0
        heartbeatElapsed = 0
        randomizeElectionTimeout()
        votes = [:]
        progress = [:]
        peers = []
        reads = ReadIndexState()
        transfer = nil
        appendsPending = false
        heartbeatPending = false
    }

    // MARK: leader timers

    mutating func tickLeader() {
        electionElapsed += 1
        heartbeatElapsed += 1
        tickTransfer()
        for peer in peers {
            progress[peer]?.ticksWithoutProgress += 1
            progress[peer]?.ticksInSnapshot += 1
        }
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            if config.checkQuorum {
                guard quorumRecentlyActive() else {
                    becomeFollower(term: term, leader: nil)
                    return
                }
                for peer in peers { progress[peer]?.recentActive = false }
            }
        }
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }

    /// Check-quorum: did a quorum of voters (counting ourselves) talk to us this round?
    func quorumRecentlyActive() -> Bool {
        let voters = log.config.voters
        let active = voters.filter { $0 == id || progress[$0]?.recentActive == true }.count
        return active >= voters.count / 2 + 1
    }
}
