import Consensus
import Testing

/// The safety checker itself: it must not report what Raft allows.
@Suite struct SafetyCheckerTests {
    /// Leader Completeness binds leaders of terms after the term in which an entry
    /// was *committed*, not after the entry's own term: an entry of term 2 can be
    /// committed in term 4 while an isolated leader of term 3 is still in office
    /// without it (Figure 8 (c)-(e) of the paper). An earlier checker compared with
    /// the entry's term and reported this (seen in manyElections seeds 1005, 1053,
    /// 1092, 1137 and figure8Unreliable seed 1129 of earlier loops).
    ///
    /// Three nodes, check-quorum off (so a cut-off leader stays leader):
    /// A wins term 2 and is cut off at once (its no-op at index 2 stays its own);
    /// B wins term 3 among the other two and is cut off at once too; A rejoins C,
    /// wins term 4 and commits its no-op at 3, and so index 2 (term 2), correctly.
    @Test func staleLeaderMayLackEntryCommittedInALaterTerm() throws {
        let lab = Lab(seed: 41, nodes: 3) { $0.checkQuorum = false }
        let sim = lab.sim
        try #require(sim.run(upToTicks: 100) { !sim.leaders.isEmpty } != nil)
        let a = sim.leaders[0]
        lab.disconnect(a)
        try #require(sim.run(upToTicks: 100) { sim.leaders.contains { $0 != a } } != nil)
        let b = sim.leaders.first { $0 != a }!
        lab.disconnect(b)
        let c = 3 - a - b
        let tB = try #require(sim.term(b))
        #expect(sim.core(a)!.term(at: 2) != sim.core(b)!.term(at: 2))

        lab.connect(a)
        try #require(sim.run(upToTicks: 200) { sim.failed || (sim.appliedIndex(a)! >= 3 && sim.appliedIndex(c)! >= 3) } != nil,
                     "\(sim.summary)")
        // What Raft promises: A leads a later term and commits an entry of that term
        // (its no-op at 3), which commits its term-2 no-op at index 2 along with it.
        let tA = try #require(sim.term(a))
        #expect(sim.role(a) == .leader && tA > tB)
        #expect(sim.core(a)!.commitIndex >= 3 && sim.core(a)!.term(at: 3) == tA)
        #expect(sim.committedTermAt.count > 2 && sim.committedTermAt[2] == sim.core(a)!.term(at: 2))
        // B still leads term 3, without that entry: allowed, since it was committed in term tA > 3.
        #expect(sim.role(b) == .leader && sim.term(b) == tB && sim.core(b)!.term(at: 2) == tB)
        // The checker compares with the term the entry was committed in, so this is no violation.
        #expect(sim.violations == [])
    }
}
