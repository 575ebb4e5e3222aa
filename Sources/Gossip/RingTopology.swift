/// Baseline for dense D-PSGD: workers on a ring, each averaging with both neighbours.
public struct RingTopology: Hashable, Sendable {
    public let workers: Int

    public init(workers: Int) {
        precondition(workers > 0)
        self.workers = workers
    }

    /// i's neighbours, previous then next: none alone, one for two workers.
    public func neighbours(of i: Int) -> [Int] {
        precondition(i >= 0 && i < workers)
        switch workers {
        case 1: return []
        case 2: return [1 - i]
        default: return [(i + workers - 1) % workers, (i + 1) % workers]
        }
    }

    /// Equal weights for self and each neighbour (⅓ each on a ring of three or more).
    public var mixingWeight: Double { 1 / Double(neighbours(of: 0).count + 1) }
}
