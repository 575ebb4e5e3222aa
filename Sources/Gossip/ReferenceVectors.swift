import Seeded

/// The algorithm's contract for other implementations (the Python node): inputs and the results
/// this implementation gives, as the JSON files under Tests/vectors/ (`gossipfl test-vectors`
/// writes them; the Swift tests check the committed files are what the code computes, the
/// Python tests check the port against them). float32 values travel as IEEE bit patterns.
public enum ReferenceVectors {
    public struct Seeds: Codable, Equatable, Sendable {
        public struct Case: Codable, Equatable, Sendable {
            public let seed: UInt64
            public let parts: [UInt64]
            public let derived: UInt64
        }
        public struct Stream: Codable, Equatable, Sendable {
            public let seed: UInt64
            public let outputs: [UInt64]
        }
        public let cases: [Case]
        public let splitmix64: [Stream]
    }

    public struct Masks: Codable, Equatable, Sendable {
        public struct Case: Codable, Equatable, Sendable {
            public let seed: UInt64
            public let round: UInt64
            public let tensor_sizes: [Int]
            public let keep_fraction: Double
            public let indices: [Int32]
        }
        public let cases: [Case]
    }

    public struct Matchings: Codable, Equatable, Sendable {
        public struct Round: Codable, Equatable, Sendable {
            public let round: Int
            public let pairs: [[Int]]
            public let resting: [Int]
        }
        public struct Case: Codable, Equatable, Sendable {
            public let selector: String
            public let seed: UInt64
            public let bandwidth_threshold: Double
            public let round_threshold: Int
            public let overdue_rule: String
            public let bandwidth: [[Double]]
            public let rounds: [Round]
        }
        public let cases: [Case]
    }

    public struct Merges: Codable, Equatable, Sendable {
        public struct Masked: Codable, Equatable, Sendable {
            public let params_bits: [UInt32]
            public let indices: [Int32]
            public let partner_bits: [UInt32]
            public let result_bits: [UInt32]
        }
        public struct Dense: Codable, Equatable, Sendable {
            public let params_bits: [UInt32]
            public let neighbours_bits: [[UInt32]]
            public let result_bits: [UInt32]
        }
        public let masked: [Masked]
        public let dense: [Dense]
    }

    // MARK: what the results are, from the inputs

    public static func seeds(_ inputs: [(seed: UInt64, parts: [UInt64])], streams: [UInt64]) -> Seeds {
        Seeds(cases: inputs.map { Seeds.Case(seed: $0.seed, parts: $0.parts, derived: SeedDerivation.derive($0.seed, $0.parts)) },
              splitmix64: streams.map { seed in
                  var rng = SplitMix64(seed: seed)
                  return Seeds.Stream(seed: seed, outputs: (0..<5).map { _ in rng.next() })
              })
    }

    public static func mask(seed: UInt64, round: UInt64, tensorSizes: [Int], keepFraction: Double) throws -> Masks.Case {
        let mask = try RandomKMask(layout: MaskLayout(tensorSizes: tensorSizes), keepFraction: keepFraction)
        return Masks.Case(seed: seed, round: round, tensor_sizes: tensorSizes, keep_fraction: keepFraction,
                          indices: mask.indices(seed: seed, round: round))
    }

    /// `rounds` consecutive rounds from 0 on one selector (SAPS keeps its history across them).
    public static func matchings(saps: SAPSSelector, bandwidth: BandwidthMatrix, rounds: Int) -> Matchings.Case {
        var selector = saps
        let list = (0..<rounds).map { round in self.round(round, selector.matching(round: round, bandwidth: bandwidth)) }
        return Matchings.Case(selector: "saps", seed: 0, bandwidth_threshold: saps.bandwidthThreshold, round_threshold: saps.roundThreshold,
                              overdue_rule: saps.overdueRule == .original ? "original" : "bridgeComponents",
                              bandwidth: bandwidth.rows, rounds: list)
    }

    public static func matchings(random: RandomMatchingSelector, bandwidth: BandwidthMatrix, rounds: Int) -> Matchings.Case {
        Matchings.Case(selector: "random", seed: random.seed, bandwidth_threshold: 0, round_threshold: 0, overdue_rule: "original",
                       bandwidth: bandwidth.rows,
                       rounds: (0..<rounds).map { round($0, random.matching(round: $0, bandwidth: bandwidth)) })
    }

    private static func round(_ round: Int, _ matching: Matching) -> Matchings.Round {
        Matchings.Round(round: round, pairs: matching.pairs.map { [$0.first, $0.second] }, resting: matching.resting)
    }

    public static func masked(params: [Float], indices: [Int32], partner: [Float]) throws -> Merges.Masked {
        var result = params
        try MaskedExchange.mergeAverage(params: &result, indices: indices, partnerValues: partner)
        return Merges.Masked(params_bits: params.map(\.bitPattern), indices: indices, partner_bits: partner.map(\.bitPattern),
                             result_bits: result.map(\.bitPattern))
    }

    public static func dense(params: [Float], neighbours: [[Float]]) -> Merges.Dense {
        var result = params
        DenseMixing.mix(params: &result, neighbours: neighbours)
        return Merges.Dense(params_bits: params.map(\.bitPattern), neighbours_bits: neighbours.map { $0.map(\.bitPattern) },
                            result_bits: result.map(\.bitPattern))
    }

    // MARK: the committed cases

    /// The run seed's derived streams the peers use (RoundPlanner: 5 random matching, 6 masks).
    static let runSeed: UInt64 = 1
    /// The MLP's tensors (fc1 weight, bias, fc2 weight, bias, fc3 weight, bias), in state_dict order.
    public static let mlpTensorSizes = [784 * 200, 200, 200 * 200, 200, 200 * 10, 10]

    public static func standardSeeds() -> Seeds {
        seeds([(0, []), (1, [5]), (1, [6]), (42, [0, 0]), (7, [3, 7, 1]), (.max, [.max]), (0x9E37_79B9_7F4A_7C15, [1 << 40, 12])],
              streams: [0, 1, 42, .max])
    }

    public static func standardMasks() throws -> Masks {
        let runMaskSeed = SeedDerivation.derive(runSeed, 6)
        return Masks(cases: [
            try mask(seed: 1, round: 0, tensorSizes: [10], keepFraction: 0.5),
            try mask(seed: runMaskSeed, round: 0, tensorSizes: mlpTensorSizes, keepFraction: 0.01),
            try mask(seed: runMaskSeed, round: 1, tensorSizes: mlpTensorSizes, keepFraction: 0.01),
            try mask(seed: runMaskSeed, round: 299, tensorSizes: mlpTensorSizes, keepFraction: 0.01),
            try mask(seed: 7, round: 3, tensorSizes: [0, 5, 1, 1000], keepFraction: 0.3),
            try mask(seed: 123, round: 1 << 40, tensorSizes: [64, 64], keepFraction: 1),
            try mask(seed: 9, round: 17, tensorSizes: [50, 3], keepFraction: 0.001),
        ])
    }

    public static func standardMatchings() throws -> Matchings {
        let equal = try BandwidthMatrix(rows: (0..<4).map { i in (0..<4).map { $0 == i ? 0 : 1 } })
        let random = RandomMatchingSelector(seed: SeedDerivation.derive(runSeed, 5))
        return Matchings(cases: [
            matchings(saps: SAPSSelector(), bandwidth: .clustered(workers: 4, clusters: 2, seed: 3), rounds: 30),
            matchings(saps: SAPSSelector(), bandwidth: equal, rounds: 12),
            matchings(saps: SAPSSelector(), bandwidth: .logUniform(workers: 7, seed: 11), rounds: 30),
            matchings(saps: SAPSSelector(bandwidthThreshold: 1, roundThreshold: 2), bandwidth: .uniformRandom(workers: 6, seed: 2), rounds: 30),
            matchings(saps: SAPSSelector(overdueRule: .bridgeComponents), bandwidth: .clustered(workers: 8, clusters: 2, seed: 5), rounds: 30),
            matchings(random: random, bandwidth: equal, rounds: 20),
            matchings(random: random, bandwidth: .logUniform(workers: 5, seed: 4), rounds: 20),
        ])
    }

    public static func standardMerges() throws -> Merges {
        var rng = SplitMix64(seed: 77)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.unitDouble() * 4 - 2) } }
        let mask = try RandomKMask(layout: MaskLayout(tensorSizes: [40, 24]), keepFraction: 0.25)
        let indices = mask.indices(seed: 5, round: 2)
        let edge: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, -0.0, .leastNonzeroMagnitude, 1e-30, 3, -7.25, 1]
        let edgePartner: [Float] = [.greatestFiniteMagnitude, .greatestFiniteMagnitude, 0.0, .leastNonzeroMagnitude, -1e-30, 1e30, 0.1, 1]
        return Merges(
            masked: [
                try masked(params: values(64), indices: indices, partner: values(indices.count)),
                try masked(params: edge, indices: Array(0..<8), partner: edgePartner),
                try masked(params: values(5), indices: [], partner: []),
            ],
            dense: [
                dense(params: values(32), neighbours: [values(32), values(32)]),
                dense(params: values(16), neighbours: [values(16)]),
                dense(params: values(8), neighbours: []),
                dense(params: [1e30, -0.0, 1e-38, 0.1], neighbours: [[1e30, 0.0, 1e-38, 0.2], [-1e30, -0.0, 1e-38, 0.3]]),
            ])
    }
}
