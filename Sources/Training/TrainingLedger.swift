import Gossip
import Learning

/// A training run's fixed parameters, as committed when the run starts.
public struct RunConfiguration: Equatable, Sendable {
    public var runId: String
    public var architecture: Architecture
    /// The data set's name; each peer reads it from its own `--data-dir`.
    public var dataset: String
    public var partition: PartitionScheme
    /// Data slots: the training set is split into this many parts, one per admitted peer.
    public var slots: Int
    public var seed: UInt64
    public var algorithm: Algorithm
    public var keepFraction: Double
    public var learningRate: Float
    public var learningRateDecay: Float
    public var momentum: Float
    public var weightDecay: Float
    public var batchSize: Int
    public var roundsPerEpoch: Int
    /// Rounds to train; nil trains until stopped.
    public var rounds: Int?
    public var bandwidthThreshold: Double
    public var roundThreshold: Int
    /// Training starts once this many peers are admitted.
    public var minParticipants: Int
    /// How far ahead of the fastest peer the round horizon is pushed.
    public var horizonRounds: Int

    public static let defaultHorizonRounds = 16

    public init(runId: String, architecture: Architecture, dataset: String = "fashion-mnist", partition: PartitionScheme, slots: Int, seed: UInt64,
                algorithm: Algorithm = .saps, keepFraction: Double = 0.01, learningRate: Float = 0.05, learningRateDecay: Float = 0.992,
                momentum: Float = 0.9, weightDecay: Float = 1e-4, batchSize: Int = 50, roundsPerEpoch: Int, rounds: Int?,
                bandwidthThreshold: Double = 3, roundThreshold: Int = 3, minParticipants: Int = 1,
                horizonRounds: Int = RunConfiguration.defaultHorizonRounds) {
        self.runId = runId
        self.architecture = architecture
        self.dataset = dataset
        self.partition = partition
        self.slots = slots
        self.seed = seed
        self.algorithm = algorithm
        self.keepFraction = keepFraction
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.batchSize = batchSize
        self.roundsPerEpoch = roundsPerEpoch
        self.rounds = rounds
        self.bandwidthThreshold = bandwidthThreshold
        self.roundThreshold = roundThreshold
        self.minParticipants = minParticipants
        self.horizonRounds = horizonRounds
    }
}

/// One committed training entry (gossip.v1 `TrainingCommand`, decoded at the edge).
public enum TrainingEvent: Equatable, Sendable {
    case configure(RunConfiguration)
    /// `address`: where a participant outside the Raft cluster serves gossip.v1 (empty for members).
    case admit(node: String, fromRound: Int, slot: Int, address: String = "")
    case retire(node: String, fromRound: Int, reason: String)
    /// Link bandwidths among `workers` (the matrix's order) from `fromRound` on.
    case bandwidth(workers: [String], matrix: BandwidthMatrix, fromRound: Int)
    case progress(node: String, round: Int, accuracy: Double)
    /// Peers may run rounds below `untilRound` (see `TrainingLedger.horizon`).
    case horizon(untilRound: Int)
    /// `node`'s measured throughput to other peers (MB/s), for the leader to build the matrix from.
    case report(node: String, mbps: [String: Double])
}

/// A peer taking part in a round, and the data slot it trains on.
public struct Participant: Hashable, Sendable, Comparable {
    public let node: String
    public let slot: Int
    public static func < (a: Participant, b: Participant) -> Bool { a.node.utf8.lexicographicallyPrecedes(b.node.utf8) }
}

/// The training state every peer derives from the same committed entries, in log order: the
/// run, who trains in which round on which slot, the bandwidth matrix, progress. Pure: an entry
/// that does not fit (an admission before the run is configured, a slot in use, a second
/// configuration) is ignored identically on every peer, and the reason is returned.
///
/// Rounds are gated by the committed `horizon`: no peer plans round `horizon` or later until a
/// larger horizon is committed, and admissions, retirements and matrices take effect no earlier
/// than the horizon in force when they commit. So every peer has applied every change to a round
/// before it plans that round, whatever its speed: the same plan everywhere without lock-step.
public struct TrainingLedger: Sendable {
    public private(set) var configuration: RunConfiguration?
    public private(set) var horizon = 0
    /// Per node, its admissions in order: the slot and the rounds [from, to).
    private var spans: [String: [(slot: Int, from: Int, to: Int?)]] = [:]
    private var matrices: [(workers: [String], matrix: BandwidthMatrix, from: Int)] = []
    public private(set) var progress: [String: (round: Int, accuracy: Double)] = [:]
    /// Each peer's latest bandwidth report.
    public private(set) var reports: [String: [String: Double]] = [:]
    /// Where participants outside the Raft cluster serve gossip.v1, from their latest admission.
    public private(set) var externalAddresses: [String: String] = [:]

    public init() {}

    public enum Outcome: Equatable, Sendable {
        case applied
        case ignored(String)
    }

    @discardableResult
    public mutating func apply(_ event: TrainingEvent) -> Outcome {
        switch event {
        case .configure(let configuration):
            guard self.configuration == nil else { return .ignored("the run is already configured") }
            guard configuration.slots >= 1, configuration.roundsPerEpoch >= 1, configuration.batchSize >= 1,
                  !configuration.runId.isEmpty else { return .ignored("a run needs an id, slots, a batch size and rounds per epoch") }
            self.configuration = configuration
        case .admit(let node, let requested, let slot, let address):
            guard let configuration else { return .ignored("admission of \(node) before the run is configured") }
            let from = max(requested, horizon)
            guard slot >= 0, slot < configuration.slots, requested >= 0 else {
                return .ignored("admission of \(node): slot \(slot) outside 0..<\(configuration.slots) or round \(from) < 0")
            }
            if let last = spans[node]?.last, last.to == nil { return .ignored("\(node) is already admitted") }
            if let holder = holder(ofSlot: slot, from: from) { return .ignored("slot \(slot) is \(holder)'s") }
            spans[node, default: []].append((slot, from, nil))
            externalAddresses[node] = address.isEmpty ? nil : address
        case .retire(let node, let from, _):
            guard var list = spans[node], let last = list.last, last.to == nil else { return .ignored("\(node) is not training") }
            list[list.count - 1].to = max(from, last.from, horizon)
            spans[node] = list
        case .bandwidth(let workers, let matrix, let from):
            guard matrix.workers == workers.count, Set(workers).count == workers.count, from >= 0 else {
                return .ignored("a bandwidth matrix of \(matrix.workers) workers for \(workers.count) names")
            }
            matrices.append((workers, matrix, max(from, horizon)))
        case .progress(let node, let round, let accuracy):
            guard spans[node] != nil, accuracy.isFinite, accuracy >= 0, accuracy <= 1 else {
                return .ignored("progress from \(node), which never trained, or accuracy \(accuracy)")
            }
            if let previous = progress[node], previous.round >= round { return .ignored("\(node)'s progress for round \(round) is old") }
            progress[node] = (round, accuracy)
        case .report(let node, let mbps):
            guard spans[node] != nil, mbps.count <= 4096, mbps.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                return .ignored("a bandwidth report from \(node), which never trained, or with values that are not finite and >= 0")
            }
            reports[node] = mbps
        case .horizon(let until):
            guard configuration != nil else { return .ignored("a round horizon before the run is configured") }
            guard until > horizon else { return .ignored("horizon \(until) is not beyond \(horizon)") }
            horizon = until
        }
        return .applied
    }

    /// `node`'s current admission (slot and first round), nil while it is not admitted.
    public func admission(of node: String) -> (slot: Int, from: Int)? {
        guard let last = spans[node]?.last, last.to == nil else { return nil }
        return (last.slot, last.from)
    }

    /// The round from which `node` stopped training (its latest admission ended), if it did.
    public func retiredFrom(_ node: String) -> Int? { spans[node]?.last?.to }

    /// Whether `node` ever trained in this run.
    public func hasTrained(_ node: String) -> Bool { spans[node] != nil }

    /// Peers admitted now (an open admission), whatever round it starts from.
    public var admittedCount: Int { spans.values.filter { $0.last?.to == nil }.count }

    /// A slot nobody holds from round `from` on: `preferred` if free, else the lowest.
    public func freeSlot(from: Int, preferred: Int? = nil) -> Int? {
        guard let configuration else { return nil }
        let start = max(from, horizon)
        if let preferred, preferred >= 0, preferred < configuration.slots, holder(ofSlot: preferred, from: start) == nil { return preferred }
        return (0..<configuration.slots).first { holder(ofSlot: $0, from: start) == nil }
    }

    /// Who trains in `round`, in node-id order (every peer numbers them the same way).
    public func participants(at round: Int) -> [Participant] {
        spans.compactMap { node, list in
            list.last(where: { $0.from <= round && ($0.to.map { round < $0 } ?? true) }).map { Participant(node: node, slot: $0.slot) }
        }.sorted()
    }

    /// The newest committed matrix (its workers and first round), if any.
    public var latestMatrix: (workers: [String], matrix: BandwidthMatrix, from: Int)? { matrices.last }

    /// The bandwidths among `nodes` in `round`: the newest matrix in force then, `unmeasured` MB/s
    /// for any pair it does not cover.
    public func bandwidth(among nodes: [String], at round: Int, unmeasured: Double = 1) -> BandwidthMatrix {
        var reports: [String: [String: Double]] = [:]
        if let latest = matrices.last(where: { $0.from <= round }) {
            for (i, a) in latest.workers.enumerated() {
                for (j, b) in latest.workers.enumerated() where i != j { reports[a, default: [:]][b] = latest.matrix[i, j] }
            }
        }
        return BandwidthAggregation.matrix(workers: nodes, reports: reports, unmeasured: unmeasured)
    }

    /// The slot's holder at round `from` or later, if any (a slot belongs to one peer at a time).
    private func holder(ofSlot slot: Int, from: Int) -> String? {
        for node in spans.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            for span in spans[node]! where span.slot == slot && (span.to.map { from < $0 } ?? true) { return node }
        }
        return nil
    }
}
