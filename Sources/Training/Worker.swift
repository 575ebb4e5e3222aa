import Learning

/// One simulated worker: its model, optimiser state and stream of local batches.
struct Worker {
    var parameters: [Float]
    var optimizer: SGD
    var sampler: BatchSampler
    var batch: Batch
    var gradient: [Float]
    /// Training loss summed since the last evaluation.
    var lossSum: Double = 0
    var steps = 0

    init(parameters: [Float], samples: [Int], config: SimulationConfig, features: Int, seed: UInt64) {
        self.parameters = parameters
        optimizer = SGD(parameterCount: parameters.count, learningRate: config.learningRate, momentum: config.momentum,
                        weightDecay: config.weightDecay)
        sampler = BatchSampler(samples: samples, batchSize: config.batchSize, seed: seed)
        batch = Batch(capacity: config.batchSize, features: features)
        gradient = [Float](repeating: 0, count: parameters.count)
    }

    var sampleCount: Int { sampler.samples.count }

    /// One SGD step on the next local batch; returns its loss (not finite if the model diverged).
    mutating func step(network: Network, data: Dataset, learningRate: Float) -> Float {
        batch.fill(from: data, samples: sampler.next())
        optimizer.learningRate = learningRate
        let loss = network.trainStep(on: batch, parameters: &parameters, optimizer: &optimizer, gradient: &gradient)
        lossSum += Double(loss)
        steps += 1
        return loss
    }
}
