/// How workers exchange models between local steps. All run in the same engine, so each one's
/// accuracy, bytes and communication time are measured side by side.
public enum Algorithm: String, CaseIterable, Sendable, CustomStringConvertible {
    /// GossipFL/SAPS-PSGD: bandwidth-aware matching, random-k values at a shared mask, pairwise average.
    case saps
    /// SAPS's exchange on a uniformly random matching (no bandwidth).
    case random
    /// Random matching, whole models averaged pairwise.
    case randomDense = "random-dense"
    /// Dense D-PSGD on a ring: ⅓ self, ⅓ each neighbour.
    case dpsgd
    /// FedAvg: every worker's model averaged (weighted by its data) every `fedavgPeriod` rounds.
    case fedavg
    /// One worker holding all the data: the accuracy anchor, no communication.
    case centralised
    /// Ours: SAPS's matching, but partners average the dominant directions of their models'
    /// difference (low-rank power-iteration gossip) instead of random coordinates; see PowerGossip.swift.
    case power

    public var description: String { rawValue }

    /// The ones `gossipfl peer` trains (the others run in the simulation only).
    public static let onTheNetwork: [Algorithm] = [.saps, .random, .dpsgd]

    /// Whether the algorithm pairs workers each round (and so uses a peer selector).
    var pairs: Bool { [.saps, .random, .randomDense, .power].contains(self) }
}
