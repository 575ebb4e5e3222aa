import Seeded

/// Where one `state_dict` tensor lives in the flat parameter vector.
public struct ParameterTensor: Equatable, Sendable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// PyTorch's default initialisation bound for this tensor: 1/√fan_in of its layer.
    public let initBound: Float
}

/// A model's compute: forward and backward passes over batches of up to `maxBatch` samples,
/// reading parameters from (and writing gradients to) flat vectors laid out as `layout`.
/// Holds its activation buffers, so one instance serves one thread; the parameters and the
/// optimiser state live with the caller (a worker), and one network can serve many workers.
public final class Network {
    public let architecture: Architecture
    public let layout: [ParameterTensor]
    public let parameterCount: Int
    public let inputSize: Int
    public let classes: Int
    public let maxBatch: Int

    private let layers: [any Layer]
    private let parameterOffsets: [Int]
    /// activations[i] is layer i's input (activations[0] unused: the caller's batch); the last is the logits.
    private let activations: [UnsafeMutablePointer<Float>]
    private let activationGradients: [UnsafeMutablePointer<Float>]

    public init(_ architecture: Architecture, channels: Int = 1, rows: Int = 28, columns: Int = 28, classes: Int = 10,
                maxBatch: Int = 50) {
        precondition(maxBatch > 0 && classes > 1)
        self.architecture = architecture
        self.classes = classes
        self.maxBatch = maxBatch
        inputSize = channels * rows * columns
        let named = architecture.layers(channels: channels, rows: rows, columns: columns, classes: classes, maxBatch: maxBatch)
        layers = named.map(\.layer)
        var layout: [ParameterTensor] = [], offsets: [Int] = [], offset = 0
        for (name, layer) in named {
            offsets.append(offset)
            let fanIn = layer.parameterShapes.first.map { $0.shape.dropFirst().reduce(1, *) } ?? 1
            for (suffix, shape) in layer.parameterShapes {
                let tensor = ParameterTensor(name: "\(name ?? "").\(suffix)", shape: shape, offset: offset,
                                             initBound: 1 / Float(fanIn).squareRoot())
                layout.append(tensor)
                offset += tensor.count
            }
        }
        self.layout = layout
        parameterOffsets = offsets
        parameterCount = offset
        activations = [.allocate(capacity: 1)] + layers.map { .allocate(capacity: maxBatch * $0.outputSize) }
        activationGradients = [.allocate(capacity: maxBatch * inputSize)] + layers.map { .allocate(capacity: maxBatch * $0.outputSize) }
    }

    deinit {
        activations.forEach { $0.deallocate() }
        activationGradients.forEach { $0.deallocate() }
    }

    /// PyTorch's default initialisation of `nn.Linear` and `nn.Conv2d` (weights by
    /// `kaiming_uniform_(a=√5)`, biases alike: both U(−1/√fan_in, 1/√fan_in)), from our generator.
    public func initialParameters(seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var parameters = [Float](repeating: 0, count: parameterCount)
        for tensor in layout {
            for i in tensor.offset..<(tensor.offset + tensor.count) {
                parameters[i] = Float(rng.unitDouble() * 2 - 1) * tensor.initBound
            }
        }
        return parameters
    }

    /// The mean cross-entropy of `batch` samples (`inputs`: batch × inputSize, normalised); the
    /// gradient of that mean with respect to every parameter overwrites `gradient`.
    public func lossAndGradient(parameters: [Float], inputs: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch: Int,
                                gradient: inout [Float]) -> Float {
        precondition(parameters.count == parameterCount && gradient.count == parameterCount)
        precondition(batch > 0 && batch <= maxBatch, "batch \(batch) outside 1...\(maxBatch)")
        return parameters.withUnsafeBufferPointer { w in
            gradient.withUnsafeMutableBufferPointer { dw in
                let w = w.baseAddress!, dw = dw.baseAddress!
                forward(w, inputs, batch: batch)
                let loss = CrossEntropy.lossAndGradient(logits: activations[layers.count], labels: labels, batch: batch,
                                                        classes: classes, gradient: activationGradients[layers.count])
                for i in stride(from: layers.count - 1, through: 0, by: -1) {
                    let x = i == 0 ? inputs : UnsafePointer(activations[i])
                    layers[i].backward(x: x, y: activations[i + 1], dy: activationGradients[i + 1],
                                       dx: i == 0 ? nil : activationGradients[i], batch: batch,
                                       parameters: w + parameterOffsets[i], gradient: dw + parameterOffsets[i])
                }
                return loss
            }
        }
    }

    /// Predicted classes of `batch` samples.
    public func predict(parameters: [Float], inputs: UnsafePointer<Float>, batch: Int) -> [Int] {
        precondition(parameters.count == parameterCount && batch > 0 && batch <= maxBatch)
        return parameters.withUnsafeBufferPointer { w in
            forward(w.baseAddress!, inputs, batch: batch)
            return CrossEntropy.predictions(logits: activations[layers.count], batch: batch, classes: classes)
        }
    }

    /// Accuracy and mean loss on `dataset` (or its first `limit` samples).
    public func evaluate(parameters: [Float], on dataset: Dataset, limit: Int? = nil) -> Evaluation {
        precondition(dataset.featureCount == inputSize, "dataset has \(dataset.featureCount) features, the model \(inputSize)")
        let total = min(limit ?? dataset.count, dataset.count)
        var correct = 0, loss: Double = 0
        var scratch = [Float](repeating: 0, count: maxBatch * classes)
        dataset.pixels.withUnsafeBufferPointer { pixels in
            dataset.labels.withUnsafeBufferPointer { labels in
                parameters.withUnsafeBufferPointer { w in
                    var start = 0
                    while start < total {
                        let batch = min(maxBatch, total - start)
                        forward(w.baseAddress!, pixels.baseAddress! + start * inputSize, batch: batch)
                        let logits = activations[layers.count]
                        let batchLoss = scratch.withUnsafeMutableBufferPointer {
                            CrossEntropy.lossAndGradient(logits: logits, labels: labels.baseAddress! + start, batch: batch,
                                                         classes: classes, gradient: $0.baseAddress!)
                        }
                        loss += Double(batchLoss) * Double(batch)
                        for (n, guess) in CrossEntropy.predictions(logits: logits, batch: batch, classes: classes).enumerated()
                        where guess == Int(labels[start + n]) { correct += 1 }
                        start += batch
                    }
                }
            }
        }
        return Evaluation(samples: total, correct: correct, loss: total == 0 ? 0 : loss / Double(total))
    }

    private func forward(_ w: UnsafePointer<Float>, _ inputs: UnsafePointer<Float>, batch: Int) {
        for (i, layer) in layers.enumerated() {
            layer.forward(i == 0 ? inputs : UnsafePointer(activations[i]), activations[i + 1], batch: batch,
                          parameters: w + parameterOffsets[i])
        }
    }
}

/// How a model did on a data set.
public struct Evaluation: Equatable, Sendable {
    public let samples: Int
    public let correct: Int
    /// Mean cross-entropy.
    public let loss: Double
    public var accuracy: Double { samples == 0 ? 0 : Double(correct) / Double(samples) }
}
