/// Matchings whose weakest link is as strong as possible: in a round every pair exchanges at
/// once, so the slowest pair sets the round's communication time.
public enum BottleneckMatching {
    /// Among `workers`, on the links where `allowed(i, j)`, a maximum-cardinality matching whose
    /// smallest bandwidth is largest. Binary search over the distinct link bandwidths, each probe
    /// a maximum-cardinality matching (blossom) on the links at least that strong. A perfect
    /// matching is found whenever the allowed links admit one. Deterministic.
    public static func pairs(among workers: [Int], bandwidth: BandwidthMatrix,
                             allowed: (Int, Int) -> Bool = { _, _ in true }) -> [WorkerPair] {
        let m = workers.count
        var edges: [(a: Int, b: Int, w: Double)] = []
        for a in 0..<m {
            for b in (a + 1)..<max(a + 1, m) where allowed(workers[a], workers[b]) {
                edges.append((a, b, bandwidth[workers[a], workers[b]]))
            }
        }
        guard !edges.isEmpty else { return [] }
        // Strongest first: probe i keeps the links of bandwidth >= weights[i].
        let weights = Array(Set(edges.map(\.w))).sorted(by: >)

        func probe(_ i: Int, from initial: [Int?]?) -> [Int?] {
            var adjacency = [[Int]](repeating: [], count: m)
            for e in edges where e.w >= weights[i] {
                adjacency[e.a].append(e.b)
                adjacency[e.b].append(e.a)
            }
            return MaximumMatching.compute(adjacency: adjacency, startingFrom: initial)
        }
        func size(_ mate: [Int?]) -> Int { mate.reduce(0) { $0 + ($1 == nil ? 0 : 1) } / 2 }

        var best = probe(weights.count - 1, from: nil)
        let target = size(best)
        guard target > 0 else { return [] }
        // Feasible (reaches target) is monotone in i. A failed probe's matching lives on fewer
        // links than any later probe's, so it is a valid starting point for them.
        var lo = 0, hi = weights.count - 1
        var warm: [Int?]? = nil
        while lo < hi {
            let mid = (lo + hi) / 2
            let mate = probe(mid, from: warm)
            if size(mate) == target {
                hi = mid
                best = mate
            } else {
                lo = mid + 1
                warm = mate
            }
        }
        return best.enumerated().compactMap { a, p in
            p.flatMap { $0 > a ? WorkerPair(workers[a], workers[$0]) : nil }
        }.sorted()
    }
}
