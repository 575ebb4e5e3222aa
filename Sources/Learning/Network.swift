import Dispatch
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
/// Holds its activation buffers, so one instance serves one caller at a time; the parameters and
/// the optimiser state live with the caller (a worker), and one network can serve many workers.
///
/// `threads` is the only concurrency: a batch is cut into that many contiguous slices, each run
/// through its own copy of the layers on its own thread (with single-threaded GEMM), and the
/// slices' gradients are added in slice order. The cut depends only on the batch size and the
/// thread count, so results are reproducible for a given count (and bit-identical to the
/// sequential code at one thread).
public final class Network {
    public let architecture: Architecture
    public let layout: [ParameterTensor]
    public let parameterCount: Int
    public let inputSize: Int
    public let classes: Int
    public let maxBatch: Int
    public let threads: Int

    private let lanes: [NetworkLane]

    public init(_ architecture: Architecture, channels: Int = 1, rows: Int = 28, columns: Int = 28, classes: Int = 10,
                maxBatch: Int = 50, threads: Int = 1) {
        precondition(maxBatch > 0 && classes > 1 && threads > 0)
        self.architecture = architecture
        self.classes = classes
        self.maxBatch = maxBatch
        self.threads = min(threads, maxBatch)
        inputSize = channels * rows * columns
        let sliceCapacity = (maxBatch + self.threads - 1) / self.threads
        lanes = (0..<self.threads).map { lane in
            NetworkLane(architecture.layers(channels: channels, rows: rows, columns: columns, classes: classes, maxBatch: sliceCapacity),
                        inputSize: channels * rows * columns, capacity: sliceCapacity, ownGradient: lane > 0)
        }
        var layout: [ParameterTensor] = [], offset = 0
        for (name, layer) in architecture.layers(channels: channels, rows: rows, columns: columns, classes: classes, maxBatch: 1) {
            let fanIn = layer.parameterShapes.first.map { $0.shape.dropFirst().reduce(1, *) } ?? 1
            for (suffix, shape) in layer.parameterShapes {
                let tensor = ParameterTensor(name: "\(name ?? "").\(suffix)", shape: shape, offset: offset,
                                             initBound: 1 / Float(fanIn).squareRoot())
                layout.append(tensor)
                offset += tensor.count
            }
        }
        self.layout = layout
        parameterCount = offset
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
                let job = SliceJob(parameters: w.baseAddress!, inputs: inputs, labels: labels, batch: batch,
                                   gradient: dw.baseAddress!, inputSize: inputSize, classes: classes)
                let slices = Self.slices(batch, lanes.count)
                let sums = collect(slices.count) { lane in self.lanes[lane].train(job, slices[lane]) }
                // The slices' gradients, added in slice order, each thread over its share of the parameters.
                if slices.count > 1 {
                    let shares = Self.slices(parameterCount, slices.count)
                    _ = collect(shares.count) { part in
                        for lane in 1..<slices.count { self.lanes[lane].addGradient(to: dw.baseAddress!, range: shares[part]) }
                    }
                }
                return Float(sums.reduce(0, +) / Double(batch))
            }
        }
    }

    /// Predicted classes of `batch` samples.
    public func predict(parameters: [Float], inputs: UnsafePointer<Float>, batch: Int) -> [Int] {
        precondition(parameters.count == parameterCount && batch > 0 && batch <= maxBatch)
        return parameters.withUnsafeBufferPointer { w in
            let slices = Self.slices(batch, lanes.count)
            return collect(slices.count) { lane in
                let slice = slices[lane]
                self.lanes[lane].forward(w.baseAddress!, inputs + slice.lowerBound * self.inputSize, batch: slice.count)
                return self.lanes[lane].predictions(batch: slice.count, classes: self.classes)
            }.flatMap { $0 }
        }
    }

    /// Accuracy and mean loss on `dataset` (or its first `limit` samples).
    public func evaluate(parameters: [Float], on dataset: Dataset, limit: Int? = nil) -> Evaluation {
        precondition(dataset.featureCount == inputSize, "dataset has \(dataset.featureCount) features, the model \(inputSize)")
        let total = min(limit ?? dataset.count, dataset.count)
        var correct = 0, loss: Double = 0
        dataset.pixels.withUnsafeBufferPointer { pixels in
            dataset.labels.withUnsafeBufferPointer { labels in
                parameters.withUnsafeBufferPointer { w in
                    var start = 0
                    while start < total {
                        let batch = min(maxBatch, total - start)
                        let slices = Self.slices(batch, lanes.count)
                        let results = collect(slices.count) { lane in
                            let first = start + slices[lane].lowerBound
                            return self.lanes[lane].score(w.baseAddress!, pixels.baseAddress! + first * self.inputSize,
                                                                   labels.baseAddress! + first, batch: slices[lane].count,
                                                                   classes: self.classes)
                        }
                        for result in results {
                            correct += result.correct
                            loss += result.loss
                        }
                        start += batch
                    }
                }
            }
        }
        return Evaluation(samples: total, correct: correct, loss: total == 0 ? 0 : loss / Double(total))
    }

    /// Contiguous, nearly equal slices of a batch, one per lane that gets any samples.
    static func slices(_ batch: Int, _ lanes: Int) -> [Range<Int>] {
        let used = min(lanes, batch)
        return (0..<used).map { lane in (batch * lane / used)..<(batch * (lane + 1) / used) }
    }

    /// `body(lane)` for every lane, on as many threads, each result in its own slot.
    private func collect<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        if count <= 1 { return [body(0)] }
        let results = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
        defer { results.deallocate() }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedBox((body, results))
            DispatchQueue.concurrentPerform(iterations: count) { lane in (shared.value.1.baseAddress! + lane).initialize(to: shared.value.0(lane)) }
        }
        defer { _ = results.deinitialize() }
        return Array(results)
    }
}

/// What every slice of one training batch reads and writes.
struct SliceJob {
    let parameters: UnsafePointer<Float>
    let inputs: UnsafePointer<Float>
    let labels: UnsafePointer<UInt8>
    let batch: Int
    /// Lane 0 writes here; the others into their own buffer, added afterwards.
    let gradient: UnsafeMutablePointer<Float>
    let inputSize: Int
    let classes: Int
}

// @unchecked Sendable: lanes touch disjoint state (their own layers, buffers and result slot) and
// shared inputs are only read while `run` waits for every lane.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// One copy of the layers with its activation buffers: what one thread runs.
final class NetworkLane {
    private let layers: [any Layer]
    private let parameterOffsets: [Int]
    /// activations[i] is layer i's input (activations[0] unused: the caller's batch); the last is the logits.
    private let activations: [UnsafeMutablePointer<Float>]
    private let activationGradients: [UnsafeMutablePointer<Float>]
    /// Lanes after the first accumulate their gradient here.
    private let ownGradient: UnsafeMutablePointer<Float>?
    private let parameterCount: Int

    init(_ named: [(name: String?, layer: any Layer)], inputSize: Int, capacity: Int, ownGradient: Bool) {
        layers = named.map(\.layer)
        var offsets: [Int] = [], offset = 0
        for layer in layers {
            offsets.append(offset)
            offset += layer.parameterCount
        }
        parameterOffsets = offsets
        parameterCount = offset
        activations = [.allocate(capacity: 1)] + layers.map { .allocate(capacity: capacity * $0.outputSize) }
        activationGradients = [.allocate(capacity: 1)] + layers.map { .allocate(capacity: capacity * $0.outputSize) }
        self.ownGradient = ownGradient ? .allocate(capacity: offset) : nil
    }

    deinit {
        activations.forEach { $0.deallocate() }
        activationGradients.forEach { $0.deallocate() }
        ownGradient?.deallocate()
    }

    func forward(_ w: UnsafePointer<Float>, _ inputs: UnsafePointer<Float>, batch: Int) {
        for (i, layer) in layers.enumerated() {
            layer.forward(i == 0 ? inputs : UnsafePointer(activations[i]), activations[i + 1], batch: batch,
                          parameters: w + parameterOffsets[i])
        }
    }

    /// Forward and backward on `slice` of the job's batch; returns the slice's summed loss.
    func train(_ job: SliceJob, _ slice: Range<Int>) -> Double {
        let inputs = job.inputs + slice.lowerBound * job.inputSize, batch = slice.count
        let dw = ownGradient ?? job.gradient
        forward(job.parameters, inputs, batch: batch)
        let sum = CrossEntropy.lossSum(logits: activations[layers.count], labels: job.labels + slice.lowerBound, batch: batch,
                                       of: job.batch, classes: job.classes, gradient: activationGradients[layers.count])
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let x = i == 0 ? inputs : UnsafePointer(activations[i])
            layers[i].backward(x: x, y: activations[i + 1], dy: activationGradients[i + 1],
                               dx: i == 0 ? nil : activationGradients[i], batch: batch,
                               parameters: job.parameters + parameterOffsets[i], gradient: dw + parameterOffsets[i])
        }
        return sum
    }

    func addGradient(to gradient: UnsafeMutablePointer<Float>, range: Range<Int>) {
        guard let ownGradient else { return }
        for i in range { gradient[i] += ownGradient[i] }
    }

    func predictions(batch: Int, classes: Int) -> [Int] {
        CrossEntropy.predictions(logits: activations[layers.count], batch: batch, classes: classes)
    }

    /// Correct predictions and summed loss of a slice of labelled samples.
    func score(_ w: UnsafePointer<Float>, _ inputs: UnsafePointer<Float>, _ labels: UnsafePointer<UInt8>, batch: Int,
               classes: Int) -> (correct: Int, loss: Double) {
        forward(w, inputs, batch: batch)
        let logits = activations[layers.count]
        // The loss's gradient is not needed; the last gradient buffer is free scratch here.
        let loss = CrossEntropy.lossSum(logits: logits, labels: labels, batch: batch, of: batch, classes: classes,
                                        gradient: activationGradients[layers.count])
        var correct = 0
        for (n, guess) in CrossEntropy.predictions(logits: logits, batch: batch, classes: classes).enumerated()
        where guess == Int(labels[n]) { correct += 1 }
        return (correct, loss)
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
