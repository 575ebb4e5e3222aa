import Gossip
import Learning
import Seeded

/// N workers training in one process, exchanging models by `config.algorithm` over simulated
/// links (time = bytes / bandwidth of the link). Deterministic from the config's seed; worker
/// steps run on `config.threads` lanes without changing any result.
public final class Simulation {
    public let config: SimulationConfig
    public let bandwidth: BandwidthMatrix
    public let roundsPerEpoch: Int
    public let totalRounds: Int
    public let parameterCount: Int
    public let layout: [ParameterTensor]

    private let data: DatasetDirectory
    private let networks: Lanes<Network>
    private let workers: Lanes<Worker>
    private var exchange: any Exchange
    private var bytesSent: [Double]
    private var communicationSeconds = 0.0
    private var round = 0

    public init(config: SimulationConfig, data: DatasetDirectory) throws(SimulationError) {
        try config.validate()
        self.config = config
        self.data = data
        let train = data.train
        let lanes = max(1, min(config.threads, config.trainingWorkers))
        networks = Lanes((0..<lanes).map { _ in
            Network(config.architecture, channels: 1, rows: train.rows, columns: train.columns, classes: train.classes,
                    maxBatch: config.batchSize)
        })
        let network = networks[0]
        parameterCount = network.parameterCount
        layout = network.layout
        bandwidth = config.bandwidth ?? BandwidthMatrix.uniformRandom(workers: config.workers, seed: config.seed)

        let parts: [[Int]]
        if config.algorithm == .centralised {
            parts = [Array(0..<train.count)]
        } else {
            do {
                parts = try Partitioner.split(labels: train.labels, classes: train.classes, workers: config.workers,
                                              scheme: config.partition, seed: SeedDerivation.derive(config.seed, 2))
            } catch { throw SimulationError("\(error)") }
        }
        // Every worker starts from the same model, as in the original (one seed, one initialisation).
        let initial = network.initialParameters(seed: SeedDerivation.derive(config.seed, 3))
        workers = Lanes(parts.enumerated().map { i, samples in
            Worker(parameters: initial, samples: samples, config: config, features: train.featureCount,
                   seed: SeedDerivation.derive(config.seed, 4, UInt64(i)))
        })
        bytesSent = [Double](repeating: 0, count: parts.count)

        // An epoch: as many local steps as the mean worker needs to see its data once.
        let meanSamples = Double(train.count) / Double(config.algorithm == .centralised ? 1 : config.workers)
        let stepsPerEpoch = max(1, Int((meanSamples / Double(config.batchSize)).rounded(.up)))
        roundsPerEpoch = max(1, Int((Double(stepsPerEpoch) / Double(config.localSteps)).rounded()))
        totalRounds = max(1, Int((config.epochs * Double(roundsPerEpoch)).rounded()))
        exchange = try Self.makeExchange(config: config, layout: layout)
    }

    private static func makeExchange(config: SimulationConfig, layout: [ParameterTensor]) throws(SimulationError) -> any Exchange {
        let seed = SeedDerivation.derive(config.seed, 5)
        let saps = SAPSSelector(bandwidthThreshold: config.bandwidthThreshold, roundThreshold: config.roundThreshold)
        let random = RandomMatchingSelector(seed: seed)
        switch config.algorithm {
        case .saps, .random:
            let mask: RandomKMask
            do { mask = try RandomKMask(layout: MaskLayout(tensorSizes: layout.map(\.count)), keepFraction: config.keepFraction) }
            catch { throw SimulationError("\(error)") }
            return config.algorithm == .saps ? SparseGossip(selector: saps, mask: mask, seed: seed)
                                             : SparseGossip(selector: random, mask: mask, seed: seed)
        case .randomDense: return PairwiseAverage(selector: random)
        case .dpsgd: return RingAverage(topology: RingTopology(workers: config.workers))
        case .fedavg: return FederatedAverage(period: config.fedavgPeriod)
        case .centralised: return NoExchange()
        case .power:
            let rank = config.powerRank ?? PowerGossip<SAPSSelector>.rank(matchingBytesOf: config.keepFraction, layout: layout)
            return PowerGossip<SAPSSelector>(selector: saps, layout: layout, rank: rank, seed: seed)
        }
    }

    public var isFinished: Bool { round >= totalRounds }

    /// The model of worker `i` now.
    public func parameters(ofWorker i: Int) -> [Float] { workers[i].parameters }
    public var workerCount: Int { workers.count }

    /// Runs to the end: `onEvaluation` after every evaluation, `onRound` after every round.
    public func run(onRound: (RoundProgress) -> Void = { _ in },
                    onEvaluation: (EvaluationRecord) -> Void = { _ in }) throws(SimulationError) -> [EvaluationRecord] {
        var records: [EvaluationRecord] = []
        if round == 0 {
            let start = evaluate()
            records.append(start)
            onEvaluation(start)
        }
        while !isFinished {
            try step()
            onRound(progress)
            // Evaluations at rounds ⌈k·R/E⌉: exactly on every epoch boundary, evenly between.
            let evaluations = config.evaluationsPerEpoch
            if (round * evaluations) / roundsPerEpoch != ((round - 1) * evaluations) / roundsPerEpoch || isFinished {
                let record = evaluate()
                records.append(record)
                onEvaluation(record)
            }
        }
        return records
    }

    /// One round: the exchange, then H local SGD steps on every worker.
    public func step() throws(SimulationError) {
        let epoch = round / roundsPerEpoch
        let learningRate = config.learningRate * pow(config.learningRateDecay, Float(epoch))
        let traffic = exchange.exchange(round: round, workers: workers, bandwidth: bandwidth)
        for (i, bytes) in traffic.bytesSent.enumerated() { bytesSent[i] += bytes }
        communicationSeconds += traffic.seconds
        let workers = self.workers, networks = self.networks, data = self.data, steps = config.localSteps
        let failures = Lanes([Float?](repeating: nil, count: workers.count))
        forEachParallel(workers.count, lanes: networks.count) { i, lane in
            for _ in 0..<steps {
                let loss = workers[i].step(network: networks[lane], data: data.train, learningRate: learningRate)
                if !loss.isFinite { failures[i] = loss; return }
            }
        }
        if let worker = (0..<failures.count).first(where: { failures[$0] != nil }) {
            throw SimulationError("training diverged in round \(round): worker \(worker)'s loss is \(failures[worker]!) (try a lower --lr)")
        }
        round += 1
    }

    public var progress: RoundProgress {
        RoundProgress(round: round, totalRounds: totalRounds, epoch: Double(round) / Double(roundsPerEpoch),
                      trainLoss: meanTrainLoss(reset: false), megabytesPerWorker: megabytesPerWorker,
                      communicationSeconds: communicationSeconds)
    }

    private var megabytesPerWorker: Double { bytesSent.reduce(0, +) / Double(bytesSent.count) / 1e6 }

    private func meanTrainLoss(reset: Bool) -> Double {
        var sum = 0.0, steps = 0
        for i in 0..<workers.count {
            sum += workers[i].lossSum
            steps += workers[i].steps
            if reset {
                workers[i].lossSum = 0
                workers[i].steps = 0
            }
        }
        return steps == 0 ? .nan : sum / Double(steps)
    }

    /// Every worker's model on the test set (in parallel lanes).
    public func evaluate() -> EvaluationRecord {
        let workers = self.workers, networks = self.networks, test = data.test, limit = config.evaluationSamples
        let results = Lanes([Evaluation?](repeating: nil, count: workers.count))
        forEachParallel(workers.count, lanes: networks.count) { i, lane in
            results[i] = networks[lane].evaluate(parameters: workers[i].parameters, on: test, limit: limit)
        }
        let evaluations = (0..<results.count).map { results[$0]! }
        let accuracies = evaluations.map(\.accuracy)
        // Weighted by local data, as GossipFL reports it (equal weights under iid).
        let samples = (0..<workers.count).map { Double(workers[$0].sampleCount) }
        let meanAccuracy = zip(accuracies, samples).reduce(0) { $0 + $1.0 * $1.1 } / samples.reduce(0, +)
        // The rate of the last step taken.
        let epoch = max(0, round - 1) / roundsPerEpoch
        return EvaluationRecord(
            epoch: Double(round) / Double(roundsPerEpoch), round: round,
            meanAccuracy: meanAccuracy, minAccuracy: accuracies.min() ?? 0,
            testLoss: evaluations.map(\.loss).reduce(0, +) / Double(evaluations.count),
            trainLoss: meanTrainLoss(reset: true), megabytesPerWorker: megabytesPerWorker,
            communicationSeconds: communicationSeconds,
            learningRate: Double(config.learningRate * pow(config.learningRateDecay, Float(epoch))))
    }
}

import Foundation
