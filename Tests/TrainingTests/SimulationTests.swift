import Foundation
import Gossip
import Learning
import Testing
@testable import Training

/// Runs a long synchronous computation on a thread of its own, so it does not hold one of the
/// few cooperative threads every async test shares (the gRPC tests' timers would starve).
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Whole runs on the real Fashion-MNIST (Debian's dataset-fashion-mnist, installed by `make deps`).
@Suite(.serialized) struct SimulationTests {
    static let data = Result { try DatasetDirectory(path: DatasetDirectory.fashionMNIST) }

    static func config(_ algorithm: Algorithm, _ architecture: Architecture = .mlp, epochs: Double) -> SimulationConfig {
        var config = SimulationConfig()
        config.algorithm = algorithm
        config.architecture = architecture
        config.epochs = epochs
        config.learningRate = architecture.defaultLearningRate
        config.threads = 2
        return config
    }

    /// A whole run off the cooperative pool: its records and every worker's final model.
    static func run(_ config: SimulationConfig) async throws -> (records: [EvaluationRecord], models: [[Float]], layout: [ParameterTensor]) {
        try await offThePool {
            let simulation = try Simulation(config: config, data: data.get())
            let records = try simulation.run()
            return (records, (0..<simulation.workerCount).map { simulation.parameters(ofWorker: $0) }, simulation.layout)
        }
    }

    @Test func sameSeedSameWeightsWhateverTheThreads() async throws {
        var runs: [[[Float]]] = []
        for threads in [1, 1, 2] {
            var config = Self.config(.saps, epochs: 0.1)
            config.threads = threads
            runs.append(try await Self.run(config).models)
        }
        #expect(runs[0] == runs[1], "two single-threaded runs differ")
        #expect(runs[0] == runs[2], "two lanes changed the result")
        var other = Self.config(.saps, epochs: 0.1)
        other.seed = 2
        #expect(try await Self.run(other).models[0] != runs[0][0])
    }

    @Test func logisticRegressionReachesEightyPercentInOneEpoch() async throws {
        let last = try #require(try await Self.run(Self.config(.centralised, .logreg, epochs: 1)).records.last)
        #expect(last.meanAccuracy >= 0.80, "logreg after one epoch: \(last.meanAccuracy)")
        #expect(last.megabytesPerWorker == 0)
    }

    @Test func sapsWithEightWorkersLearnsTheMLP() async throws {
        let (records, _, layout) = try await Self.run(Self.config(.saps, epochs: 2))
        let last = try #require(records.last)
        #expect(last.epoch == 2 && last.round == 300)
        #expect(last.meanAccuracy >= 0.78, "SAPS, 8 workers, mlp, iid, 2 epochs: \(last.meanAccuracy)")
        // 1 % of each tensor (at least one value), 4 bytes each, every round.
        let perRound = layout.reduce(0) { $0 + max(1, $1.count / 100) } * 4
        #expect(abs(last.megabytesPerWorker - Double(perRound * 300) / 1e6) < 1e-9)
        #expect(records.first?.round == 0 && records.first!.meanAccuracy < 0.3)
    }

    @Test func divergenceIsAnErrorNotNaNWeights() async throws {
        var config = Self.config(.saps, epochs: 0.2)
        config.learningRate = 1e6
        await #expect(throws: SimulationError.self) { _ = try await Self.run(config) }
    }

    @Test func configurationErrorsAreClear() async throws {
        var config = Self.config(.saps, epochs: 1)
        config.keepFraction = 0
        #expect(throws: SimulationError.self) { try config.validate() }
        config = Self.config(.saps, epochs: 1)
        config.bandwidth = .uniformRandom(workers: 3, seed: 1)
        #expect(throws: SimulationError.self) { try config.validate() }
        config = Self.config(.saps, epochs: 1)
        config.workers = 10_000
        await #expect(throws: SimulationError.self) { _ = try await Self.run(config) }
    }
}
