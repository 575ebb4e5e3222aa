@testable import Gossip
import Seeded
import Testing

@Suite struct BottleneckMatchingTests {
    @Test(arguments: [4, 6, 8])
    func perfectMatchingBottleneckIsOptimal(n: Int) throws {
        for seed in 0..<40 as Range<UInt64> {
            let bandwidth = seed % 2 == 0 ? coarseMatrix(workers: n, seed: seed)
                                           : .uniformRandom(workers: n, seed: seed)
            let pairs = BottleneckMatching.pairs(among: Array(0..<n), bandwidth: bandwidth)
            let matching = try #require(Matching(workers: n, pairs: pairs))
            #expect(matching.isPerfect)
            let best = BruteForce.bestPerfectBottleneck(Array(0..<n), bandwidth: bandwidth) { _, _ in true }
            #expect(matching.bottleneck(bandwidth) == best, "seed \(seed)")
        }
    }

    /// With restricted links and no perfect matching: still maximum cardinality, and the
    /// best bottleneck among maximum matchings.
    @Test func bestAmongMaximumMatchingsOnRestrictedLinks() throws {
        var rng = SplitMix64(seed: 3)
        for trial in 0..<200 {
            let n = 3 + trial % 6
            let bandwidth = coarseMatrix(workers: n, seed: UInt64(trial))
            let adjacent = randomGraph(vertices: n, density: 0.4, rng: &rng)
            let pairs = BottleneckMatching.pairs(among: Array(0..<n), bandwidth: bandwidth) { adjacent[$0][$1] }
            let matching = try #require(Matching(workers: n, pairs: pairs))
            #expect(isValidMatching(matching.partner, edge: { adjacent[$0][$1] }))
            let maximum = BruteForce.maximumMatchingSize(vertices: n) { adjacent[$0][$1] }
            #expect(pairs.count == maximum, "trial \(trial)")
            // Best bottleneck among maximum matchings: no maximum matching exists on links
            // strictly stronger than ours.
            if let bottleneck = matching.bottleneck(bandwidth) {
                let stronger = BruteForce.maximumMatchingSize(vertices: n) { adjacent[$0][$1] && bandwidth[$0, $1] > bottleneck }
                #expect(stronger < maximum, "trial \(trial)")
            }
        }
    }

    @Test func usesTheGivenWorkersOnly() {
        let bandwidth = BandwidthMatrix.uniformRandom(workers: 7, seed: 1)
        let pairs = BottleneckMatching.pairs(among: [1, 4, 5, 6], bandwidth: bandwidth)
        #expect(Set(pairs.flatMap { [$0.first, $0.second] }) == [1, 4, 5, 6])
        #expect(BottleneckMatching.pairs(among: [3], bandwidth: bandwidth).isEmpty)
        #expect(BottleneckMatching.pairs(among: [], bandwidth: bandwidth).isEmpty)
        #expect(BottleneckMatching.pairs(among: [0, 1], bandwidth: bandwidth) { _, _ in false }.isEmpty)
    }
}
