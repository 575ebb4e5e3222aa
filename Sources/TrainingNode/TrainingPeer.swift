import Foundation
import Gossip
import GossipRPC
import GossipWire
import Learning
import Logging
import RaftNode
import Synchronization
import Training

/// A GossipFL training peer: the loop that trains, round by round, the run committed in the
/// Raft log, with the partner each round's plan gives it. Every decision (who trains, who meets
/// whom, which values travel) comes from committed state; partners meet in the exchange itself.
///
/// Create it before the Raft node (it is the gossip.v1 backend the node's server serves), `bind`
/// the node, then `run` until `stop`.
public final class TrainingPeer: Sendable {
    public let id: String
    let data: DatasetDirectory
    let options: TrainingPeerOptions
    let logger: Logger
    let channels: PeerChannels
    private let nodeSlot = Mutex<RaftNode<TrainingMachine>?>(nil)
    let engine = Mutex<Engine?>(nil)
    let status = Mutex(StatusInfo())
    private let stopping = Mutex(false)
    private let horizonInFlight = Mutex(false)

    /// What the handlers need once the run is known.
    struct Engine: Sendable {
        let configuration: RunConfiguration
        let point: ExchangePoint
        let parameterCount: Int
        /// Values in one Exchange: the mask's, or the whole model for D-PSGD.
        let maskCount: Int
    }

    struct StatusInfo: Sendable {
        var runId = ""
        var round = 0
        var epoch = 0.0
        var training = false
        var partner = ""
        var accuracy = 0.0
        var evaluatedRound = 0
        var bytesSent = 0
        var exchanges = 0
        var missed = 0
        var links: [String: Double] = [:]
    }

    /// `data` is the data set the run names, loaded from `options.dataDirectory`.
    public init(id: String, data: DatasetDirectory, options: TrainingPeerOptions, logger: Logger = Logger(label: "gossipfl.training")) {
        self.id = id
        self.data = data
        self.options = options
        self.logger = logger
        channels = PeerChannels(tls: options.tls)
    }

    public func bind(node: RaftNode<TrainingMachine>) { nodeSlot.withLock { $0 = node } }
    var boundNode: RaftNode<TrainingMachine>? { nodeSlot.withLock { $0 } }

    /// Ends `run` at the next round boundary (after a last checkpoint).
    public func stop() { stopping.withLock { $0 = true } }
    var isStopping: Bool { stopping.withLock { $0 } }

    /// Trains until stopped or the run's last round; throws when it cannot (no data, a corrupt
    /// checkpoint, a diverged model), with a message that says what to do.
    public func run() async throws {
        guard let node = nodeSlot.withLock({ $0 }) else { throw TrainingPeerError("bind the Raft node before running") }
        let proposer = TrainingProposer(node: node, channels: channels)
        guard let config = await awaitConfiguration(node: node, proposer: proposer) else { return }
        guard Algorithm.onTheNetwork.contains(config.algorithm) else {
            throw TrainingPeerError("run \(config.runId) uses \(config.algorithm.rawValue); peers on the network train "
                                    + Algorithm.onTheNetwork.map(\.rawValue).joined(separator: ", "))
        }
        let firstSlot = await node.machine.ledger.admission(of: id)?.slot ?? 0
        let trainer: LocalTrainer
        let mask: RandomKMask
        do {
            trainer = try LocalTrainer(configuration: config, data: data, slot: firstSlot, threads: options.threads,
                                       evaluationSamples: options.evaluationSamples)
            mask = try RandomKMask(layout: MaskLayout(tensorSizes: trainer.network.layout.map(\.count)), keepFraction: config.keepFraction)
        } catch {
            throw TrainingPeerError("run \(config.runId) cannot train here: \(error)")
        }
        let store = CheckpointStore(directory: options.checkpointDirectory, architecture: config.architecture, layout: trainer.network.layout)
        var round = 0
        do {
            if let (state, skipped) = try store.loadLatest(run: config.runId) {
                for reason in skipped { logger.warning("checkpoint passed over: \(reason)") }
                trainer.adopt(parameters: state.parameters, velocity: state.velocity)
                round = state.round
                logger.info("resumed from the checkpoint of round \(round)")
            }
        } catch {
            throw TrainingPeerError("\(error.description). Move the folder aside to start this peer afresh (it then fetches the model from a partner)")
        }
        let point = ExchangePoint(model: trainer.model)
        engine.withLock { $0 = Engine(configuration: config, point: point, parameterCount: trainer.network.parameterCount,
                                      maskCount: config.algorithm == .dpsgd ? trainer.network.parameterCount
                                                                            : mask.indices(seed: 0, round: 0).count) }
        status.withLock {
            $0.runId = config.runId
            $0.round = round
        }
        let probing = options.probeInterval.map { interval in
            Task { [self] in
                var prober = BandwidthProber(peer: self, node: node, proposer: proposer, interval: interval)
                await prober.run()
            }
        }
        defer { probing?.cancel() }
        var loop = RoundLoop(peer: self, node: node, proposer: proposer, trainer: trainer, mask: mask, point: point, store: store,
                             round: round)
        try await loop.run()
    }

    /// The committed run; proposes ours while there is none. Nil when stopped first.
    private func awaitConfiguration(node: RaftNode<TrainingMachine>, proposer: TrainingProposer) async -> RunConfiguration? {
        var lastProposal: ContinuousClock.Instant?
        while !isStopping {
            if let config = await node.machine.ledger.configuration { return config }
            if let proposal = options.proposal, lastProposal.map({ ContinuousClock.now - $0 > .seconds(2) }) ?? true {
                lastProposal = ContinuousClock.now
                Task { _ = await proposer.propose(.configure(proposal)) }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Proposes a wider round horizon in the background (one proposal at a time).
    func extendHorizon(to until: Int, proposer: TrainingProposer) {
        guard horizonInFlight.withLock({ inFlight in
            defer { inFlight = true }
            return !inFlight
        }) else { return }
        Task {
            _ = await proposer.propose(.horizon(untilRound: until))
            horizonInFlight.withLock { $0 = false }
        }
    }
}
