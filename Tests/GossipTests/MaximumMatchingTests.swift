@testable import Gossip
import Seeded
import Testing

@Suite struct MaximumMatchingTests {
    @Test func matchesBruteForceOnSmallRandomGraphs() {
        var rng = SplitMix64(seed: 7)
        for trial in 0..<600 {
            let n = 1 + trial % 12
            let density = [0.1, 0.2, 0.35, 0.5, 0.8][trial % 5]
            let adjacent = randomGraph(vertices: n, density: density, rng: &rng)
            let partner = MaximumMatching.compute(adjacency: adjacencyLists(adjacent))
            #expect(isValidMatching(partner, edge: { adjacent[$0][$1] }), "trial \(trial)")
            let expected = BruteForce.maximumMatchingSize(vertices: n) { adjacent[$0][$1] }
            #expect(matchedPairs(partner) == expected, "trial \(trial): n \(n)")
        }
    }

    /// Odd cycles joined by paths: the shapes that need blossom contraction (a greedy or
    /// bipartite-only search misses augmenting paths through them).
    @Test func findsAugmentingPathsThroughBlossoms() {
        // A triangle 0-1-2 with tails 2-3 and 0-4, and a pentagon 3-5-6-7-8 with a tail 8-9.
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (0, 4), (3, 5), (5, 6), (6, 7), (7, 8), (8, 3), (8, 9)]
        let partner = MaximumMatching.compute(vertexCount: 10, edges: edges)
        #expect(isValidMatching(partner))
        #expect(matchedPairs(partner) == 5)
        // The classic: a flower where the greedy start matches the stem wrongly.
        let flower = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 1), (2, 5)]
        #expect(matchedPairs(MaximumMatching.compute(vertexCount: 6, edges: flower)) == 3)
    }

    @Test func ignoresSelfLoopsAndDuplicates() {
        let partner = MaximumMatching.compute(vertexCount: 3, edges: [(0, 0), (0, 1), (1, 0), (0, 1), (2, 2)])
        #expect(partner == [1, 0, nil])
        #expect(MaximumMatching.compute(vertexCount: 0, edges: []) == [])
    }

    @Test func growsAGivenMatching() {
        // Path 0-1-2-3 starting from the middle edge: augmenting must replace it.
        let adjacency = [[1], [0, 2], [1, 3], [2]]
        let partner = MaximumMatching.compute(adjacency: adjacency, startingFrom: [nil, 2, 1, nil])
        #expect(partner == [1, 0, 3, 2])
    }

    @Test func perfectOnLargeDenseGraphs() {
        var rng = SplitMix64(seed: 8)
        let n = 200
        let adjacent = randomGraph(vertices: n, density: 0.05, rng: &rng)
        let partner = MaximumMatching.compute(adjacency: adjacencyLists(adjacent))
        #expect(isValidMatching(partner, edge: { adjacent[$0][$1] }))
        // G(200, 0.05) has a perfect matching with overwhelming probability (and this one does).
        #expect(matchedPairs(partner) == n / 2)
        #expect(MaximumMatching.compute(adjacency: adjacencyLists(adjacent)) == partner, "deterministic")
    }
}
