import Gossip
import Seeded

/// Round r's links, by node id: a matching for SAPS and random (each node in at most one pair),
/// the ring's edges for D-PSGD (each node in two).
public struct RoundPlan: Equatable, Sendable {
    public let round: Int
    public let participants: [Participant]
    public let pairs: [(String, String)]
    public let resting: String?

    public static func == (a: RoundPlan, b: RoundPlan) -> Bool {
        a.round == b.round && a.participants == b.participants && a.resting == b.resting
            && a.pairs.map { [$0.0, $0.1] } == b.pairs.map { [$0.0, $0.1] }
    }

    /// `node`'s partner this round, nil while it rests or does not train.
    public func partner(of node: String) -> String? {
        for (a, b) in pairs {
            if a == node { return b }
            if b == node { return a }
        }
        return nil
    }

    /// Everyone `node` exchanges with this round (at most one in a matching), in plan order.
    public func partners(of node: String) -> [String] {
        pairs.compactMap { a, b in a == node ? b : b == node ? a : nil }
    }
}

/// Round-by-round matchings from the committed ledger alone, the same on every peer. SAPS keeps a
/// history (who met when), so rounds are planned in order from the first; a peer that restarts
/// replays them. The history starts afresh whenever the participants change (their numbering does).
public struct RoundPlanner: Sendable {
    public let configuration: RunConfiguration
    private var saps: SAPSSelector
    private let random: RandomMatchingSelector
    private var participants: [Participant] = []
    public private(set) var nextRound = 0

    public init(configuration: RunConfiguration) {
        self.configuration = configuration
        saps = SAPSSelector(bandwidthThreshold: configuration.bandwidthThreshold, roundThreshold: configuration.roundThreshold)
        random = RandomMatchingSelector(seed: SeedDerivation.derive(configuration.seed, 5))
    }

    /// The plan for `nextRound` (then the next one).
    public mutating func planNext(ledger: TrainingLedger) -> RoundPlan {
        let round = nextRound
        nextRound += 1
        let current = ledger.participants(at: round)
        if current != participants {
            participants = current
            saps = SAPSSelector(bandwidthThreshold: configuration.bandwidthThreshold, roundThreshold: configuration.roundThreshold)
        }
        let nodes = current.map(\.node)
        guard nodes.count >= 2 else { return RoundPlan(round: round, participants: current, pairs: [], resting: nodes.first) }
        if configuration.algorithm == .dpsgd { return ring(round: round, participants: current) }
        let bandwidth = ledger.bandwidth(among: nodes, at: round)
        let matching = configuration.algorithm == .random ? random.matching(round: round, bandwidth: bandwidth)
                                                          : saps.matching(round: round, bandwidth: bandwidth)
        return RoundPlan(round: round, participants: current, pairs: matching.pairs.map { (nodes[$0.first], nodes[$0.second]) },
                         resting: matching.resting.first.map { nodes[$0] })
    }

    /// D-PSGD's fixed ring, in slot order (the simulation's worker order): each node with the
    /// next, the last with the first; two nodes share one edge.
    private func ring(round: Int, participants: [Participant]) -> RoundPlan {
        let nodes = participants.sorted { $0.slot < $1.slot }.map(\.node)
        // Each edge once, from a node to the next (RingTopology's neighbours, as pairs).
        let edges = (nodes.count == 2 ? [0] : Array(nodes.indices)).map { (nodes[$0], nodes[($0 + 1) % nodes.count]) }
        return RoundPlan(round: round, participants: participants, pairs: edges, resting: nil)
    }

    /// The seed of round r's random-k mask (both partners derive the same one).
    public var maskSeed: UInt64 { SeedDerivation.derive(configuration.seed, 6) }
}
