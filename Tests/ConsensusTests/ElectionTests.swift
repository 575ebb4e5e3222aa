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
        // With no failures the leader and term stay put.
        sim.run(ticks: 100)
        #expect(sim.settledLeader() == leader)
        #expect(sim.term(leader!) == term)
        #expect(sim.violations == [])
    }
}
