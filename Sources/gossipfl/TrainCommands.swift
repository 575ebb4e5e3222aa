import ArgumentParser
import Foundation
import Learning
import Training

/// Where the training data is: every training command takes it.
struct DataOptions: ParsableArguments {
    @Option(help: "Directory of MNIST-format IDX files (.gz or plain).") var dataDir = DatasetDirectory.fashionMNIST

    func loadData() throws -> DatasetDirectory {
        do { return try DatasetDirectory(path: dataDir) } catch { throw ValidationError("\(error)") }
    }
}

extension Architecture: ExpressibleByArgument {}

/// `gossipfl train-trace`: a few plain SGD steps on the first training samples, every step's
/// parameters written as safetensors: the Swift half of the PyTorch parity test.
struct TrainTraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-trace",
        abstract: "Run SGD steps on consecutive training batches and write the parameters after each (safetensors) and a trace.json.")

    @Option(help: "Model: logreg, mlp or cnn.") var model: Architecture = .cnn
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Seed of the initial weights.") var seed: UInt64 = 7
    @Option(name: .customLong("init"), help: "Start from this safetensors file instead of a seeded initialisation.")
    var initFile: String?
    @Option(help: "SGD steps.") var steps = 20
    @Option(help: "Samples per batch.") var batch = 50
    @Option(help: "Learning rate.") var lr: Float = 0.05
    @Option(help: "Momentum.") var momentum: Float = 0.9
    @Option(help: "Weight decay.") var weightDecay: Float = 1e-4
    @Option(help: "Output directory.") var out: String

    func run() throws {
        let data = try dataOptions.loadData()
        guard steps >= 0, batch > 0, batch <= SimulationConfig.maxBatchSize, steps * batch <= data.train.count else {
            throw ValidationError("\(steps) steps of \(batch) need more than the \(data.train.count) training samples")
        }
        GEMMThreads.set(1)
        let network = Network(model, rows: data.train.rows, columns: data.train.columns, classes: data.train.classes,
                              maxBatch: batch)
        var parameters = try initFile.map { try network.load(path: $0) } ?? network.initialParameters(seed: seed)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try network.save(parameters, to: "\(out)/init.safetensors")
        var optimizer = SGD(parameterCount: network.parameterCount, learningRate: lr, momentum: momentum, weightDecay: weightDecay)
        var gradient = [Float](repeating: 0, count: network.parameterCount)
        var samples = Batch(capacity: batch, features: data.train.featureCount)
        var losses: [Double] = [], batches: [[Int]] = []
        for step in 0..<steps {
            let indices = Array((step * batch)..<((step + 1) * batch))
            samples.fill(from: data.train, samples: indices)
            let loss = network.trainStep(on: samples, parameters: &parameters, optimizer: &optimizer, gradient: &gradient)
            losses.append(Double(loss))
            batches.append(indices)
            try network.save(parameters, to: String(format: "%@/step-%03d.safetensors", out, step + 1))
        }
        let trace: [String: Any] = [
            "model": model.rawValue, "mean": Double(data.train.mean), "std": Double(data.train.std), "batch": batch,
            "lr": Double(lr), "momentum": Double(momentum), "weight_decay": Double(weightDecay), "steps": steps,
            "losses": losses, "batches": batches,
        ]
        try JSONSerialization.data(withJSONObject: trace, options: [.sortedKeys]).write(to: URL(fileURLWithPath: "\(out)/trace.json"))
    }
}

/// `gossipfl train-bench`: training throughput (forward, backward and SGD update) on real batches.
struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-bench",
        abstract: "Measure training throughput in samples/s and print one JSON line.")

    @Option(help: "Model: logreg, mlp or cnn.") var model: Architecture = .cnn
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Threads: the batch is split into this many slices trained side by side (GEMM stays single-threaded).")
    var threads = 1
    @Option(help: "Instead of slices, let OpenBLAS use this many threads inside each GEMM.") var gemmThreads: Int?
    @Option(help: "Seconds to measure (after one warm-up second).") var seconds = 3.0
    @Option(help: "Samples per batch.") var batch = 50

    func run() throws {
        guard batch > 0, batch <= SimulationConfig.maxBatchSize, threads > 0, seconds >= 0 else {
            throw ValidationError("--batch must be in 1...\(SimulationConfig.maxBatchSize), --threads positive, --seconds not negative")
        }
        let data = try dataOptions.loadData()
        GEMMThreads.set(gemmThreads ?? 1)
        let network = Network(model, rows: data.train.rows, columns: data.train.columns, classes: data.train.classes,
                              maxBatch: batch, threads: gemmThreads == nil ? threads : 1)
        var parameters = network.initialParameters(seed: 1)
        var optimizer = SGD(parameterCount: network.parameterCount)
        var gradient = [Float](repeating: 0, count: network.parameterCount)
        var sampler = BatchSampler(samples: Array(0..<data.train.count), batchSize: batch, seed: 1)
        var samples = Batch(capacity: batch, features: data.train.featureCount)
        func trainFor(_ duration: Double) -> Int {
            let start = DispatchTime.now().uptimeNanoseconds
            var trained = 0
            while Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < duration {
                samples.fill(from: data.train, samples: sampler.next())
                _ = network.trainStep(on: samples, parameters: &parameters, optimizer: &optimizer, gradient: &gradient)
                trained += samples.count
            }
            return trained
        }
        _ = trainFor(min(1, seconds))
        let start = DispatchTime.now().uptimeNanoseconds
        let trained = trainFor(seconds)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("{\"model\": \"\(model)\", \"threads\": \(threads), \"samples_per_second\": \(Double(trained) / elapsed)}")
    }
}
