import Seeded

/// A mini-batch copied out of a data set: contiguous normalised inputs and their labels.
public struct Batch: Sendable {
    public private(set) var inputs: [Float]
    public private(set) var labels: [UInt8]
    public private(set) var count = 0

    public init(capacity: Int, features: Int) {
        inputs = [Float](repeating: 0, count: capacity * features)
        labels = [UInt8](repeating: 0, count: capacity)
    }

    public mutating func fill(from dataset: Dataset, samples: some Collection<Int>) {
        let features = dataset.featureCount
        precondition(samples.count * features <= inputs.count, "batch of \(samples.count) over capacity")
        count = 0
        inputs.withUnsafeMutableBufferPointer { inputs in
            dataset.pixels.withUnsafeBufferPointer { pixels in
                for sample in samples {
                    (inputs.baseAddress! + count * features).update(from: pixels.baseAddress! + sample * features, count: features)
                    labels[count] = dataset.labels[sample]
                    count += 1
                }
            }
        }
    }
}

/// A worker's endless stream of mini-batches over its own samples: reshuffled (seeded) at the start
/// of every pass, as PyTorch's `DataLoader(shuffle=True, drop_last=False)` would.
public struct BatchSampler: Sendable {
    public let samples: [Int]
    public let batchSize: Int
    private var order: [Int]
    private var position = 0
    private var rng: SplitMix64

    public init(samples: [Int], batchSize: Int, seed: UInt64) {
        precondition(!samples.isEmpty && batchSize > 0)
        self.samples = samples
        self.batchSize = batchSize
        rng = SplitMix64(seed: seed)
        order = samples
        rng.shuffle(&order)
    }

    /// The next batch's sample indices (shorter at the end of a pass).
    public mutating func next() -> ArraySlice<Int> {
        if position >= order.count {
            order = samples
            rng.shuffle(&order)
            position = 0
        }
        let end = min(position + batchSize, order.count)
        defer { position = end }
        return order[position..<end]
    }
}
