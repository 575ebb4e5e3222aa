import Consensus
import Testing

/// The driver's transport feedback (etcd's ReportUnreachable): a follower that
/// could not be reached stops receiving pipelined AppendEntries and is probed
/// one message at a time until it answers again.
@Suite struct ReportUnreachableTests {
    @Test func anUnreachableFollowerIsProbedThenReplicatesAgain() throws {
        let lab = Lab(seed: 60, nodes: 3)
        let sim = lab.sim
        let leader = try #require(sim.checkOneLeader())
        #expect(lab.one(expectedServers: 3) != nil)
        let follower = sim.nodes[(leader + 1) % 3].id
        #expect(sim.core(leader)?.status.progress[follower]?.state == .replicate)

        try sim.input(leader) { core throws(RaftError) in core.reportUnreachable(follower) }
        #expect(sim.core(leader)?.status.progress[follower]?.state == .probe)
        // Followers and other nodes ignore the report; it changes nobody's role or term.
        let term = sim.term(leader), leaderID = sim.nodes[leader].id
        try sim.input((leader + 1) % 3) { core throws(RaftError) in core.reportUnreachable(leaderID) }
        #expect(sim.role(leader) == .leader && sim.term(leader) == term)

        // The follower answers the probe and is back in the pipeline.
        #expect(lab.one(expectedServers: 3) != nil, "\(sim.summary)")
        sim.run(ticks: 5)
        #expect(sim.core(leader)?.status.progress[follower]?.state == .replicate)
        #expect(sim.violations == [])
    }
}
