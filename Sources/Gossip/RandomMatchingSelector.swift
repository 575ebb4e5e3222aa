import Seeded

/// Baseline: a uniformly random perfect matching each round, from (seed, round) alone. With odd
/// n, worker round mod n rests.
public struct RandomMatchingSelector: PeerSelector, Hashable, Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    public func matching(round: Int, bandwidth: BandwidthMatrix) -> Matching {
        matching(round: round, workers: bandwidth.workers)
    }

    /// Shuffles the active workers and pairs neighbours in the shuffled order, which makes every
    /// perfect matching equally likely.
    public func matching(round: Int, workers n: Int) -> Matching {
        precondition(n >= 0)
        var order = Array(0..<n)
        if n % 2 == 1 {
            let rests = ((round % n) + n) % n
            order.remove(at: rests)
        }
        var rng = SplitMix64(seed: SeedDerivation.derive(seed, UInt64(bitPattern: Int64(round))))
        rng.shuffle(&order)
        let pairs = stride(from: 0, to: order.count - 1, by: 2).map { WorkerPair(order[$0], order[$0 + 1]) }
        guard let matching = Matching(workers: n, pairs: pairs) else { preconditionFailure("shuffle repeated a worker") }
        return matching
    }
}
