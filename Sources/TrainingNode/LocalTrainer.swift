import Foundation
import Gossip
import Learning
import Training

/// A peer's local learning: its model, optimiser, data slot and batches, stepped on a thread of
/// its own so that SGD never holds one of the few threads async code (the gossip and Raft
/// handlers) runs on.
final class LocalTrainer: @unchecked Sendable {
    // Used by the training loop only, one call at a time (each awaits the compute queue).
    let configuration: RunConfiguration
    let network: Network
    let data: DatasetDirectory
    let model: ModelBox
    private(set) var slot: Int
    private let parts: [[Int]]
    private(set) var optimizer: SGD
    private var sampler: BatchSampler
    private var batch: Batch
    private var gradient: [Float]
    private let queue = DispatchQueue(label: "gossipfl.training", qos: .userInitiated)
    private let evaluationSamples: Int?

    init(configuration: RunConfiguration, data: DatasetDirectory, slot: Int, threads: Int, evaluationSamples: Int?) throws {
        self.configuration = configuration
        self.data = data
        self.slot = slot
        self.evaluationSamples = evaluationSamples
        let train = data.train
        network = Network(configuration.architecture, channels: 1, rows: train.rows, columns: train.columns, classes: train.classes,
                          maxBatch: configuration.batchSize, threads: threads)
        parts = try Partitioner.split(labels: train.labels, classes: train.classes, workers: configuration.slots,
                                          scheme: configuration.partition, seed: SeedDerivation.derive(configuration.seed, 2))
        // Every peer starts from the same model (one seed), as the simulation's workers do.
        model = ModelBox(parameters: network.initialParameters(seed: SeedDerivation.derive(configuration.seed, 3)))
        optimizer = SGD(parameterCount: network.parameterCount, learningRate: configuration.learningRate,
                        momentum: configuration.momentum, weightDecay: configuration.weightDecay)
        sampler = BatchSampler(samples: parts[slot], batchSize: configuration.batchSize,
                               seed: SeedDerivation.derive(configuration.seed, 4, UInt64(slot)))
        batch = Batch(capacity: configuration.batchSize, features: train.featureCount)
        gradient = [Float](repeating: 0, count: network.parameterCount)
    }

    var sampleCount: Int { sampler.samples.count }

    /// Trains on another slot's data from now on (a peer admitted again may get a new slot).
    func move(toSlot slot: Int) {
        self.slot = slot
        sampler = BatchSampler(samples: parts[slot], batchSize: configuration.batchSize,
                               seed: SeedDerivation.derive(configuration.seed, 4, UInt64(slot)))
    }

    /// The learning rate of `round`: decayed once per epoch.
    func learningRate(round: Int) -> Float {
        configuration.learningRate * pow(configuration.learningRateDecay, Float(round / configuration.roundsPerEpoch))
    }

    /// One local SGD step; returns the loss (not finite if the model diverged).
    func step(round: Int) async -> Float {
        await onQueue { [self] in
            batch.fill(from: data.train, samples: sampler.next())
            optimizer.learningRate = learningRate(round: round)
            return network.trainStep(on: batch, parameters: &model.parameters, optimizer: &optimizer, gradient: &gradient)
        }
    }

    func evaluate() async -> Evaluation {
        await onQueue { [self] in network.evaluate(parameters: model.parameters, on: data.test, limit: evaluationSamples) }
    }

    /// Adopts a checkpoint's or a partner's model; without a velocity (a fetched model) the
    /// momentum starts afresh.
    func adopt(parameters: [Float], velocity: [Float]?) {
        model.parameters = parameters
        optimizer.velocity = velocity ?? [Float](repeating: 0, count: parameters.count)
    }

    func state(round: Int) -> TrainingState {
        TrainingState(round: round, parameters: model.parameters, velocity: optimizer.velocity,
                      learningRate: learningRate(round: round), run: configuration.runId)
    }

    func onQueue<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
