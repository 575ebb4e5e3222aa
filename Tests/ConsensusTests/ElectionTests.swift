import Consensus
import Testing

/// Lab 2A: leader election.
@Suite struct ElectionTests {
    @Test(arguments: [3, 5])
    func initialElection(nodes: Int) {
        var options = Simulation.Options()
        options.nodeCount = nodes
        let sim = Simulation(seed: 1, options: options)
        let leader = sim.checkOneLeader()
        #expect(leader != nil)
        let term = sim.term(leader!)!
        // Everybody agrees on the term.
        #expect(sim.nodes.indices.allSatisfy { sim.term($0) == term })
        // With no failures the leader and term stay put.
        sim.run(ticks: 100)
        #expect(sim.settledLeader() == leader)
        #expect(sim.term(leader!) == term)
        #expect(sim.violations == [])
    }

    /// TestReElection2A.
    @Test func reElection() throws { try Self.reElection(seed: 2) }

    static func reElection(seed: UInt64) throws {
        let lab = Lab(seed: seed, nodes: 3)
        let sim = lab.sim
        let leader1 = try #require(sim.checkOneLeader())

        // The leader leaves: the other two elect a new one.
        lab.disconnect(leader1)
        let leader2 = try #require(sim.checkOneLeader(), "\(sim.summary)")
        #expect(leader2 != leader1)
        let term2 = try #require(sim.term(leader2))

        // The old leader rejoins: it follows and, thanks to pre-vote and the
        // leader lease, does not disturb the new leader.
        lab.connect(leader1)
        #expect(sim.checkOneLeader() == leader2)
        sim.run(ticks: 50)
        #expect(sim.settledLeader() == leader2)
        #expect(sim.term(leader2) == term2)
        #expect(sim.term(leader1) == term2)

        // No quorum: no leader (check-quorum deposes leader2), and pre-vote keeps terms from climbing.
        let other = (leader2 + 1) % 3, last = (leader2 + 2) % 3
        lab.disconnect(leader2)
        lab.disconnect(other)
        sim.run(ticks: 4 * sim.options.electionTicks)
        #expect(sim.leaders == [], "\(sim.summary)")
        #expect(sim.nodes.indices.allSatisfy { sim.term($0) == term2 }, "\(sim.summary)")

        // A quorum again: a leader.
        lab.connect(other)
        let leader3 = try #require(sim.checkOneLeader(), "\(sim.summary)")
        #expect([other, last].contains(leader3))

        // The last node rejoins: still exactly one leader.
        lab.connect(leader2)
        #expect(sim.checkOneLeader() != nil)
        #expect(sim.violations == [])
    }

    /// TestManyElections2A: seven nodes, three random ones disconnected per round.
    @Test func manyElections() throws { try Self.manyElections(seed: 3) }

    static func manyElections(seed: UInt64) throws {
        let lab = Lab(seed: seed, nodes: 7)
        let sim = lab.sim
        var plan = SplitMix64(seed: seed &* 0x9E37)
        _ = try #require(sim.checkOneLeader())
        var terms: Set<UInt64> = []
        for round in 0..<10 {
            let out = (0..<3).map { _ in Int(plan.next(below: 7)) }
            for node in out { lab.disconnect(node) }
            // Whoever is left (at least four of seven) elects a leader, or keeps the one it has.
            let leader = lab.checkOneLeader()
            #expect(leader != nil, "round \(round), out \(out): \(sim.summary)")
            if let leader {
                #expect(!out.contains(leader))
                terms.insert(sim.term(leader)!)
            }
            for node in out { lab.connect(node) }
            if sim.failed { break }
        }
        #expect(terms.count > 1, "some rounds must have replaced the leader")
        #expect(sim.checkOneLeader() != nil, "\(sim.summary)")
        #expect(sim.violations == [])
    }
}
