/// Linearizable reads without log writes (thesis §6.4): the leader records its
/// commit index, confirms with a quorum that it is still leader (a heartbeat
/// round), and then the read may be served once applied ≥ that index.
struct ReadIndexState: Sendable {
    struct Request: Sendable {
        var context: [UInt8]
        /// The node that will serve the read (the leader itself or a follower that forwarded it).
        var requester: NodeID
    }

    struct Pending: Sendable {
        var request: Request
        var index: UInt64
        var round: UInt64
    }

    /// Bumped for every read; carried by every AppendEntries and echoed back.
    var round: UInt64 = 0
    /// The highest round each peer echoed in this term.
    var acknowledged: [NodeID: UInt64] = [:]
    /// Registered, waiting for a quorum to echo their round (in round order).
    var pending: [Pending] = []
    /// Received before this leader committed an entry of its term: its commit
    /// index could still be behind an earlier leader's.
    var awaitingCommit: [Request] = []
}

extension RaftCore {
    /// Requests a linearizable read identified by `context`. The answer is a
    /// `ReadState` in a later Ready, on this node (a follower forwards the
    /// request to its leader). Requests can be lost on leader changes or message
    /// loss: the driver retries after a timeout.
    public mutating func readIndex(context: [UInt8]) throws(RaftError) {
        if role == .leader {
            registerRead(ReadIndexState.Request(context: context, requester: id))
        } else if let leader {
            send(to: leader, .readIndex(ReadIndexRequest(context: context)))
        } else {
            throw .notLeader(leaderHint: nil)
        }
    }

    mutating func registerRead(_ request: ReadIndexState.Request) {
        guard log.term(at: log.committed) == term else {
            reads.awaitingCommit.append(request)
            return
        }
        reads.round += 1
        reads.pending.append(ReadIndexState.Pending(request: request, index: log.committed, round: reads.round))
        heartbeatPending = true
        releaseConfirmedReads()
    }

    mutating func releaseReadsAwaitingCommit() {
        guard !reads.awaitingCommit.isEmpty, log.term(at: log.committed) == term else { return }
        let waiting = reads.awaitingCommit
        reads.awaitingCommit = []
        for request in waiting { registerRead(request) }
    }

    mutating func acknowledgeReadRound(from peer: NodeID, _ round: UInt64) {
        if round > reads.acknowledged[peer, default: 0] { reads.acknowledged[peer] = round }
        releaseConfirmedReads()
    }

    /// Serves every read whose round a quorum of voters has echoed.
    mutating func releaseConfirmedReads() {
        guard role == .leader, !reads.pending.isEmpty else { return }
        let voters = log.config.voters
        guard !voters.isEmpty else { return }
        let rounds = voters.map { $0 == id ? reads.round : reads.acknowledged[$0, default: 0] }.sorted(by: >)
        let confirmed = rounds[voters.count / 2]
        while let first = reads.pending.first, first.round <= confirmed {
            reads.pending.removeFirst()
            if first.request.requester == id {
                readStates.append(ReadState(context: first.request.context, index: first.index))
            } else {
                send(to: first.request.requester,
                     .readIndexResponse(ReadIndexResponse(context: first.request.context, index: first.index)))
            }
        }
    }
}
