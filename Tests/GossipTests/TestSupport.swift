@testable import Gossip
import Seeded

/// Reference answers by exhaustive search, for small graphs.
enum BruteForce {
    /// The largest matching size in a graph given by an adjacency test.
    static func maximumMatchingSize(vertices n: Int, edge: (Int, Int) -> Bool) -> Int {
        var memo: [Int: Int] = [:]
        func best(_ free: Int) -> Int {
            guard free != 0 else { return 0 }
            if let known = memo[free] { return known }
            let v = free.trailingZeroBitCount
            let rest = free & ~(1 << v)
            var result = best(rest)  // v stays unmatched
            for u in 0..<n where rest & (1 << u) != 0 && edge(v, u) {
                result = max(result, 1 + best(rest & ~(1 << u)))
            }
            memo[free] = result
            return result
        }
        return best((1 << n) - 1)
    }

    /// Every perfect matching of `workers` using only edges where `edge(i, j)`.
    static func perfectMatchings(_ workers: [Int], edge: (Int, Int) -> Bool) -> [[WorkerPair]] {
        guard let first = workers.first else { return [[]] }
        var all: [[WorkerPair]] = []
        for (k, other) in workers.enumerated().dropFirst() where edge(first, other) {
            var rest = workers
            rest.remove(at: k)
            rest.removeFirst()
            for tail in perfectMatchings(rest, edge: edge) { all.append([WorkerPair(first, other)] + tail) }
        }
        return all
    }

    /// The largest bottleneck over the perfect matchings of `workers` on allowed edges; nil if none.
    static func bestPerfectBottleneck(_ workers: [Int], bandwidth: BandwidthMatrix,
                                      edge: (Int, Int) -> Bool) -> Double? {
        perfectMatchings(workers, edge: edge).map { pairs in
            pairs.map { bandwidth[$0.first, $0.second] }.min() ?? .infinity
        }.max()
    }
}

/// partner is symmetric, in range, no self-pairs, and only along `edge` when given.
func isValidMatching(_ partner: [Int?], edge: ((Int, Int) -> Bool)? = nil) -> Bool {
    for (i, p) in partner.enumerated() {
        guard let j = p else { continue }
        guard j >= 0, j < partner.count, j != i, partner[j] == i else { return false }
        if let edge, !edge(i, j) { return false }
    }
    return true
}

func matchedPairs(_ partner: [Int?]) -> Int { partner.compactMap { $0 }.count / 2 }

/// A random symmetric graph with the given edge probability.
func randomGraph(vertices n: Int, density: Double, rng: inout SplitMix64) -> [[Bool]] {
    var adjacent = [[Bool]](repeating: [Bool](repeating: false, count: n), count: n)
    for i in 0..<n {
        for j in (i + 1)..<max(i + 1, n) where rng.unitDouble() < density {
            adjacent[i][j] = true
            adjacent[j][i] = true
        }
    }
    return adjacent
}

func adjacencyLists(_ adjacent: [[Bool]]) -> [[Int]] {
    adjacent.map { row in row.indices.filter { row[$0] } }
}

/// Bandwidths with few distinct values, so ties between matchings are common.
func coarseMatrix(workers n: Int, seed: UInt64) -> BandwidthMatrix {
    var rng = SplitMix64(seed: seed)
    var rows = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n {
        for j in (i + 1)..<max(i + 1, n) {
            let b = Double(rng.next(below: 7))
            rows[i][j] = b
            rows[j][i] = b
        }
    }
    return try! BandwidthMatrix(rows: rows)
}
