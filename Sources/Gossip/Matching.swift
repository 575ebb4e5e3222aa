/// Two workers exchanging with each other in a round; `first < second`.
public struct WorkerPair: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let first: Int
    public let second: Int

    public init(_ a: Int, _ b: Int) {
        precondition(a != b, "a worker cannot pair with itself")
        first = min(a, b)
        second = max(a, b)
    }

    public static func < (l: WorkerPair, r: WorkerPair) -> Bool {
        (l.first, l.second) < (r.first, r.second)
    }

    public var description: String { "\(first)-\(second)" }
}

/// A round's topology: who exchanges with whom. partner[i] == j ⇔ partner[j] == i; nil rests.
public struct Matching: Hashable, Sendable, CustomStringConvertible {
    public let partner: [Int?]

    /// Nil unless `partner` is symmetric, in range and never pairs a worker with itself.
    public init?(partner: [Int?]) {
        for (i, p) in partner.enumerated() {
            guard let j = p else { continue }
            guard j >= 0, j < partner.count, j != i, partner[j] == i else { return nil }
        }
        self.partner = partner
    }

    /// Nil if a worker appears twice or is out of range.
    public init?(workers: Int, pairs: [WorkerPair]) {
        var partner = [Int?](repeating: nil, count: workers)
        for pair in pairs {
            guard pair.first >= 0, pair.second < workers,
                  partner[pair.first] == nil, partner[pair.second] == nil else { return nil }
            partner[pair.first] = pair.second
            partner[pair.second] = pair.first
        }
        self.partner = partner
    }

    public var workers: Int { partner.count }

    /// Sorted by first worker.
    public var pairs: [WorkerPair] {
        partner.enumerated().compactMap { i, p in p.flatMap { $0 > i ? WorkerPair(i, $0) : nil } }
    }

    /// Workers without a partner this round.
    public var resting: [Int] { partner.indices.filter { partner[$0] == nil } }

    /// Every worker has a partner.
    public var isPerfect: Bool { partner.allSatisfy { $0 != nil } }

    /// The weakest link in use, which sets how long the round's exchange takes; nil with no pairs.
    public func bottleneck(_ bandwidth: BandwidthMatrix) -> Double? {
        precondition(bandwidth.workers == workers, "a \(bandwidth.workers)-worker matrix for \(workers) workers")
        return pairs.map { bandwidth[$0.first, $0.second] }.min()
    }

    /// Time for every pair to swap `payload` (in the matrix's unit × seconds, e.g. MB at MB/s):
    /// the slowest pair finishes last. 0 with no pairs; infinite over a zero-bandwidth link.
    public func roundTime(payload: Double, bandwidth: BandwidthMatrix) -> Double {
        guard let slowest = bottleneck(bandwidth) else { return 0 }
        return slowest > 0 ? payload / slowest : .infinity
    }

    public var description: String {
        pairs.map(\.description).joined(separator: " ") + (resting.isEmpty ? "" : " rest \(resting)")
    }
}
