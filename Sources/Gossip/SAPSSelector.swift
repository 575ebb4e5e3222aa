/// SAPS peer selection (the original's SAPS_gossip), as a value: the same history and inputs
/// give the same matching on every node.
///
/// Each round: if the union of the pairs matched in the last T_thres rounds connects all
/// workers, partners may use links above B_thres; otherwise only pairs not matched for more
/// than T_thres rounds (meant to keep the recent topologies connected, as convergence needs;
/// `OverdueRule.bridgeComponents` makes sure of it).
/// On those links, the perfect matching with the strongest weakest link, weighted by the real
/// bandwidths (the original weighted them at random). If there is none, the best maximum
/// matching there is completed on any link. With odd n one worker rests, in turn.
public struct SAPSSelector: PeerSelector, Hashable, Sendable {
    public enum AllowedLinks: Hashable, Sendable {
        /// The recent topologies are connected: links with bandwidth above B_thres.
        case highBandwidth
        /// They are not: pairs not matched for more than T_thres rounds, or never.
        case overdue
        /// They are not: pairs joining two parts of the recent topologies (`.bridgeComponents`).
        case bridging
    }

    /// Which links the disconnected case allows.
    public enum OverdueRule: Hashable, Sendable {
        /// The original: any pair not matched for more than T_thres rounds. With real bandwidths
        /// the best of those can stay inside fast clusters forever (the original's random weights
        /// crossed clusters by chance), leaving the clusters' models apart.
        case original
        /// Only pairs in different connected parts of the recent topologies (all of them overdue),
        /// so every such round joins parts; the fall-back completes the rest on overdue links,
        /// then on any link.
        case bridgeComponents
    }

    /// B_thres: a link is fast above it.
    public let bandwidthThreshold: Double
    /// T_thres: how many rounds a pair counts as recent.
    public let roundThreshold: Int
    public let overdueRule: OverdueRule
    /// The worker count the history is for; a matrix of another size starts a fresh history
    /// (indices then name different workers).
    public private(set) var workers = 0
    /// R[i][j], row-major: the last round i and j were matched; nil if never.
    private var lastMatched: [Int?] = []
    private var lastRested: [Int?] = []

    public init(bandwidthThreshold: Double = 3.0, roundThreshold: Int = 3, overdueRule: OverdueRule = .original) {
        precondition(!bandwidthThreshold.isNaN, "B_thres must be a number")
        precondition(roundThreshold >= 0, "T_thres must not be negative")
        self.bandwidthThreshold = bandwidthThreshold
        self.roundThreshold = roundThreshold
        self.overdueRule = overdueRule
    }

    public mutating func matching(round: Int, bandwidth: BandwidthMatrix) -> Matching {
        decide(round: round, bandwidth: bandwidth).matching
    }

    /// This round's matching with how it was reached; recorded in the history.
    public mutating func decide(round: Int, bandwidth: BandwidthMatrix) -> SAPSDecision {
        if bandwidth.workers != workers { reset(workers: bandwidth.workers) }
        let decision = plan(round: round, bandwidth: bandwidth)
        let n = workers
        for pair in decision.matching.pairs {
            lastMatched[pair.first * n + pair.second] = round
            lastMatched[pair.second * n + pair.first] = round
        }
        if let resting = decision.resting { lastRested[resting] = round }
        return decision
    }

    /// What `decide` would choose, without recording it.
    public func plan(round: Int, bandwidth: BandwidthMatrix) -> SAPSDecision {
        precondition(round >= 0, "rounds count from 0")
        let n = bandwidth.workers
        guard n == workers else {
            var fresh = self
            fresh.reset(workers: n)
            return fresh.plan(round: round, bandwidth: bandwidth)
        }
        let resting = n % 2 == 1 ? nextToRest() : nil
        let active = (0..<n).filter { $0 != resting }
        let part = recentComponents(round: round)
        let allowedLinks: AllowedLinks = part.allSatisfy({ $0 == 0 }) ? .highBandwidth
            : overdueRule == .original ? .overdue : .bridging
        let allowedPairs = BottleneckMatching.pairs(among: active, bandwidth: bandwidth) { i, j in
            switch allowedLinks {
            case .highBandwidth: bandwidth[i, j] > bandwidthThreshold
            case .overdue: isOverdue(i, j, round: round)
            case .bridging: part[i] != part[j]
            }
        }
        var left = Self.unmatched(active, by: allowedPairs)
        var completionPairs: [WorkerPair] = []
        if allowedLinks == .bridging && left.count > 1 {
            // Those no bridge reached pair on overdue links first, as the original rule would:
            // repeating recent pairs would keep the parts from growing.
            completionPairs = BottleneckMatching.pairs(among: left, bandwidth: bandwidth) { isOverdue($0, $1, round: round) }
            left = Self.unmatched(left, by: completionPairs)
        }
        // Whoever is left (an even number) can always pair up when every link may be used.
        completionPairs += BottleneckMatching.pairs(among: left, bandwidth: bandwidth)
        guard let matching = Matching(workers: n, pairs: allowedPairs + completionPairs) else {
            preconditionFailure("bottleneck matching returned overlapping pairs")
        }
        return SAPSDecision(matching: matching, allowedLinks: allowedLinks, allowedPairs: allowedPairs,
                            completionPairs: completionPairs, resting: resting)
    }

    private static func unmatched(_ workers: [Int], by pairs: [WorkerPair]) -> [Int] {
        let matched = Set(pairs.flatMap { [$0.first, $0.second] })
        return workers.filter { !matched.contains($0) }
    }

    /// The last round i and j were matched; nil if never (or for another worker count).
    public func lastMatchedRound(_ i: Int, _ j: Int) -> Int? {
        i < workers && j < workers ? lastMatched[i * workers + j] : nil
    }

    public func lastRestedRound(_ i: Int) -> Int? { i < workers ? lastRested[i] : nil }

    /// Matched within the last T_thres rounds (round - R <= T_thres). The original tested
    /// R > t - T_thres, so a pair matched exactly T_thres rounds ago was neither recent nor
    /// overdue there; here the two are complements.
    func isRecent(_ i: Int, _ j: Int, round: Int) -> Bool {
        guard let last = lastMatched[i * workers + j] else { return false }
        return round - last <= roundThreshold
    }

    func isOverdue(_ i: Int, _ j: Int, round: Int) -> Bool { !isRecent(i, j, round: round) }

    /// The connected parts of the union of recent pairs, as a label per worker (0 for worker 0's
    /// part). Resting workers count: they rejoin next round and must not drift apart.
    func recentComponents(round: Int) -> [Int] {
        let n = workers
        var part = [Int](repeating: -1, count: n)
        var parts = 0
        for start in 0..<n where part[start] == -1 {
            part[start] = parts
            var stack = [start]
            while let v = stack.popLast() {
                for u in 0..<n where part[u] == -1 && isRecent(v, u, round: round) {
                    part[u] = parts
                    stack.append(u)
                }
            }
            parts += 1
        }
        return part
    }

    /// The worker that rested longest ago (never first), ties to the lowest index: with rounds
    /// in sequence every worker rests once every n rounds.
    func nextToRest() -> Int {
        var best = 0
        for i in 1..<workers {
            switch (lastRested[i], lastRested[best]) {
            case (nil, .some): best = i
            case (.some(let a), .some(let b)) where a < b: best = i
            default: break
            }
        }
        return best
    }

    private mutating func reset(workers n: Int) {
        workers = n
        lastMatched = Array(repeating: nil, count: n * n)
        lastRested = Array(repeating: nil, count: n)
    }
}

/// One SAPS round: the matching and how it was reached.
public struct SAPSDecision: Hashable, Sendable {
    public let matching: Matching
    public let allowedLinks: SAPSSelector.AllowedLinks
    /// The best maximum matching on the allowed links.
    public let allowedPairs: [WorkerPair]
    /// Pairs on any link that complete it when the allowed links have no perfect matching.
    public let completionPairs: [WorkerPair]
    /// The worker sitting out (odd n only).
    public let resting: Int?

    public var usedFallback: Bool { !completionPairs.isEmpty }
}
