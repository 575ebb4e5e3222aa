import Consensus
import Testing

/// Messages no correct peer could send (terms and indexes near `UInt64.max`)
/// are dropped by the core: nothing traps, and the cluster keeps electing and
/// committing. Before the bounds, a follower adopted `term = 2^64-1` and the next
/// election's `term + 1` killed every node, on every restart.
@Suite struct ForgedMessageTests {
    static let huge = UInt64.max

    static func forgedRequests(to target: NodeID, prevTerm: UInt64) -> [Message] {
        let evil = "evil"
        return [
            Message(from: evil, to: target, term: huge, body: .appendEntries(AppendEntries(
                prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0))),
            Message(from: evil, to: target, term: prevTerm, body: .appendEntries(AppendEntries(
                prevLogIndex: huge, prevLogTerm: prevTerm, entries: [Entry(term: prevTerm, index: huge, kind: .normal, data: [1])],
                leaderCommit: huge))),
            Message(from: evil, to: target, term: huge, body: .requestVote(RequestVote(
                lastLogIndex: huge, lastLogTerm: huge, leadershipTransfer: true))),
            Message(from: evil, to: target, term: huge, body: .timeoutNow),
            Message(from: evil, to: target, term: prevTerm, body: .installSnapshot(InstallSnapshot(snapshot: Snapshot(
                metadata: SnapshotMetadata(lastIncludedIndex: huge, lastIncludedTerm: prevTerm, config: ClusterConfig(voters: [evil])),
                data: [])))),
        ]
    }

    @Test func forgedRequestsToAFollowerChangeNothing() throws {
        let lab = Lab(seed: 40, nodes: 3)
        let sim = lab.sim
        let leader = try #require(sim.checkOneLeader())
        let follower = (leader + 1) % 3
        sim.run(ticks: 5)
        let term = try #require(sim.term(follower))
        let knownLeader = sim.core(follower)?.leader
        for message in Self.forgedRequests(to: sim.nodes[follower].id, prevTerm: term) {
            #expect(message.boundsViolation != nil)
            try sim.input(follower) { core throws(RaftError) in core.step(message) }
            #expect(sim.term(follower) == term, "\(message.kind) moved the term")
        }
        #expect(sim.core(follower)?.leader == knownLeader)
        #expect(lab.one(expectedServers: 3) != nil, "\(sim.summary)")

        // Elections still work: the leader goes away, the others elect one and commit.
        lab.crash(leader)
        let next = try #require(lab.checkOneLeader(), "\(sim.summary)")
        #expect(next != leader)
        #expect(lab.one(expectedServers: 2) != nil, "\(sim.summary)")
        #expect(sim.violations == [])
    }

    @Test func forgedResponsesToTheLeaderChangeNothing() throws {
        let lab = Lab(seed: 41, nodes: 3)
        let sim = lab.sim
        let leader = try #require(sim.checkOneLeader())
        #expect(lab.one(expectedServers: 3) != nil)
        let follower = sim.nodes[(leader + 1) % 3].id, me = sim.nodes[leader].id
        let term = try #require(sim.term(leader))
        let commit = try #require(sim.core(leader)?.commitIndex)
        let forged = [
            Message(from: follower, to: me, term: term, body: .appendEntriesResponse(AppendEntriesResponse(
                success: true, matchIndex: Self.huge, readRound: Self.huge))),
            // Within the bounds, but beyond the leader's log: a correct follower cannot hold it.
            Message(from: follower, to: me, term: term, body: .appendEntriesResponse(AppendEntriesResponse(
                success: true, matchIndex: RaftBounds.maxValue))),
            Message(from: follower, to: me, term: term, body: .appendEntriesResponse(AppendEntriesResponse(
                success: false, rejectedIndex: Self.huge, conflictIndex: Self.huge, conflictTerm: Self.huge))),
            Message(from: follower, to: me, term: term, body: .installSnapshotResponse(InstallSnapshotResponse(matchIndex: Self.huge))),
            Message(from: follower, to: me, term: Self.huge, body: .requestVoteResponse(RequestVoteResponse(granted: false, preVote: false))),
        ]
        for message in forged {
            try sim.input(leader) { core throws(RaftError) in core.step(message) }
        }
        #expect(sim.role(leader) == .leader)
        #expect(sim.term(leader) == term)
        #expect(sim.core(leader)?.commitIndex == commit, "a forged match must not commit anything")
        #expect(lab.one(expectedServers: 3) != nil, "\(sim.summary)")
        #expect(sim.violations == [])
    }

    @Test func boundsCoverEveryTermAndIndexField() {
        let ok = RaftBounds.maxValue, bad = RaftBounds.maxValue + 1
        let bodies: [(Message.Body, Message.Body)] = [
            (.requestVote(RequestVote(lastLogIndex: ok, lastLogTerm: ok)), .requestVote(RequestVote(lastLogIndex: ok, lastLogTerm: bad))),
            (.appendEntries(AppendEntries(prevLogIndex: ok, prevLogTerm: ok, leaderCommit: ok, readRound: ok)),
             .appendEntries(AppendEntries(prevLogIndex: ok, prevLogTerm: ok, leaderCommit: ok, readRound: bad))),
            (.appendEntries(AppendEntries(prevLogIndex: 0, prevLogTerm: 0, entries: [Entry(term: ok, index: 1, kind: .normal, data: [])], leaderCommit: 0)),
             .appendEntries(AppendEntries(prevLogIndex: 0, prevLogTerm: 0, entries: [Entry(term: 1, index: bad, kind: .normal, data: [])], leaderCommit: 0))),
            (.appendEntriesResponse(AppendEntriesResponse(success: true, matchIndex: ok, conflictTerm: ok)),
             .appendEntriesResponse(AppendEntriesResponse(success: false, conflictIndex: bad))),
            (.installSnapshotResponse(InstallSnapshotResponse(matchIndex: ok)), .installSnapshotResponse(InstallSnapshotResponse(matchIndex: bad))),
            (.readIndexResponse(ReadIndexResponse(context: [], index: ok)), .readIndexResponse(ReadIndexResponse(context: [], index: bad))),
        ]
        for (good, forged) in bodies {
            #expect(Message(from: "a", to: "b", term: ok, body: good).boundsViolation == nil)
            #expect(Message(from: "a", to: "b", term: ok, body: forged).boundsViolation != nil)
        }
        #expect(Message(from: "a", to: "b", term: bad, body: .timeoutNow).boundsViolation?.contains("term") == true)
    }

    /// State an older build persisted after adopting a forged term: a clear error, not a trap.
    @Test func poisonedStoredStateIsRefusedClearly() {
        let config = RaftConfig(id: "n1", randomSeed: 1)
        let poisoned = [
            PersistentState(hardState: HardState(term: Self.huge, commit: 0)),
            PersistentState(hardState: HardState(term: 2, commit: 1), entries: [Entry(term: 2, index: 1, kind: .normal, data: [])]
                + [Entry(term: Self.huge, index: 2, kind: .normal, data: [])]),
        ]
        for state in poisoned {
            #expect {
                _ = try RaftCore(config: config, state: state)
            } throws: { error in
                guard case RaftError.invalidPersistentState(let text) = error else { return false }
                return text.contains("exceeds") && text.contains("poisoned")
            }
        }
    }

    /// A node at the largest term cannot campaign (nobody would accept a higher
    /// term); it stays a follower instead of overflowing.
    @Test func aNodeAtTheBoundDoesNotOverflow() throws {
        let voters: Set<NodeID> = ["n1", "n2", "n3"]
        let snapshot = Snapshot(metadata: SnapshotMetadata(lastIncludedIndex: 1, lastIncludedTerm: 1,
                                                           config: ClusterConfig(voters: voters)), data: [])
        var core = try RaftCore(config: RaftConfig(id: "n1", randomSeed: 7),
                                state: PersistentState(hardState: HardState(term: RaftBounds.maxValue, commit: 1), snapshot: snapshot))
        for _ in 0..<100 { core.tick() }
        #expect(core.role == .follower)
        #expect(core.term == RaftBounds.maxValue)
    }
}
