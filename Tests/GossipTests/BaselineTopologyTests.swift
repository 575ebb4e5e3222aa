@testable import Gossip
import Testing

@Suite struct BaselineTopologyTests {
    @Test func randomMatchingIsPerfectAndReproducible() {
        let selector = RandomMatchingSelector(seed: 42)
        for n in [2, 4, 8, 14, 100] {
            var seen: Set<Matching> = []
            for round in 0..<20 {
                let matching = selector.matching(round: round, workers: n)
                #expect(isValidMatching(matching.partner) && matching.isPerfect)
                #expect(RandomMatchingSelector(seed: 42).matching(round: round, workers: n) == matching)
                seen.insert(matching)
            }
            if n >= 14 { #expect(seen.count == 20, "rounds repeat a matching for n \(n)") }
        }
        #expect(RandomMatchingSelector(seed: 1).matching(round: 0, workers: 32) != RandomMatchingSelector(seed: 2).matching(round: 0, workers: 32))
    }

    /// All three perfect matchings of four workers come up about equally often.
    @Test func randomMatchingIsUniform() {
        let selector = RandomMatchingSelector(seed: 3)
        var counts: [Matching: Int] = [:]
        for round in 0..<3000 { counts[selector.matching(round: round, workers: 4), default: 0] += 1 }
        #expect(counts.count == 3)
        #expect(counts.values.allSatisfy { (900...1100).contains($0) }, "\(counts.values)")
    }

    @Test func randomMatchingRestsInTurnForOddN() {
        let selector = RandomMatchingSelector(seed: 5)
        let bandwidth = BandwidthMatrix.uniformRandom(workers: 7, seed: 1)
        for round in 0..<21 {
            let matching = selector.matching(round: round, bandwidth: bandwidth)
            #expect(isValidMatching(matching.partner))
            #expect(matching.resting == [round % 7])
        }
    }

    @Test func ringNeighbours() {
        #expect(RingTopology(workers: 5).neighbours(of: 0) == [4, 1])
        #expect(RingTopology(workers: 5).neighbours(of: 4) == [3, 0])
        #expect(RingTopology(workers: 2).neighbours(of: 1) == [0])
        #expect(RingTopology(workers: 1).neighbours(of: 0) == [])
        #expect(RingTopology(workers: 8).mixingWeight == 1.0 / 3)
    }

    @Test func matchingInvariants() throws {
        #expect(Matching(partner: [1, 0, nil]) != nil)
        #expect(Matching(partner: [1, 2, 1]) == nil)  // not symmetric
        #expect(Matching(partner: [0]) == nil)  // self
        #expect(Matching(partner: [3, 0]) == nil)  // out of range
        #expect(Matching(workers: 4, pairs: [WorkerPair(0, 1), WorkerPair(1, 2)]) == nil)
        #expect(Matching(workers: 2, pairs: [WorkerPair(0, 2)]) == nil)
        let matching = try #require(Matching(workers: 5, pairs: [WorkerPair(3, 1), WorkerPair(0, 4)]))
        #expect(matching.partner == [4, 3, nil, 1, 0])
        #expect(matching.pairs == [WorkerPair(0, 4), WorkerPair(1, 3)])
        #expect(matching.resting == [2])
        #expect(!matching.isPerfect)
        let bandwidth = try BandwidthMatrix(rows: [[0, 1, 1, 1, 4], [1, 0, 1, 2, 1], [1, 1, 0, 1, 1], [1, 2, 1, 0, 1], [4, 1, 1, 1, 0]])
        #expect(matching.bottleneck(bandwidth) == 2)
        #expect(matching.roundTime(payload: 10, bandwidth: bandwidth) == 5)
        #expect(Matching(partner: [nil])!.bottleneck(try BandwidthMatrix(rows: [[0]])) == nil)
    }
}
