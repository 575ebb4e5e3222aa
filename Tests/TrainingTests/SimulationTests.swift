import Gossip
import Learning
import Testing
@testable import Training

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

    @Test func sameSeedSameWeightsWhateverTheThreads() throws {
        let data = try Self.data.get()
        var runs: [[[Float]]] = []
        for threads in [1, 1, 2] {
            var config = Self.config(.saps, epochs: 0.1)
            config.threads = threads
            let simulation = try Simulation(config: config, data: data)
            _ = try simulation.run()
            runs.append((0..<simulation.workerCount).map { simulation.parameters(ofWorker: $0) })
        }
        #expect(runs[0] == runs[1], "two single-threaded runs differ")
        #expect(runs[0] == runs[2], "two lanes changed the result")
        var other = Self.config(.saps, epochs: 0.1)
        other.seed = 2
        let simulation = try Simulation(config: other, data: data)
        _ = try simulation.run()
        #expect(simulation.parameters(ofWorker: 0) != runs[0][0])
    }

    @Test func logisticRegressionReachesEightyPercentInOneEpoch() throws {
        let records = try Simulation(config: Self.config(.centralised, .logreg, epochs: 1), data: Self.data.get()).run()
        let last = try #require(records.last)
        #expect(last.meanAccuracy >= 0.80, "logreg after one epoch: \(last.meanAccuracy)")
        #expect(last.megabytesPerWorker == 0)
    }

    @Test func sapsWithEightWorkersLearnsTheMLP() throws {
        let simulation = try Simulation(config: Self.config(.saps, epochs: 2), data: Self.data.get())
        let records = try simulation.run()
        let last = try #require(records.last)
        #expect(last.epoch == 2 && last.round == 300)
        #expect(last.meanAccuracy >= 0.78, "SAPS, 8 workers, mlp, iid, 2 epochs: \(last.meanAccuracy)")
        // 1 % of each tensor (at least one value), 4 bytes each, every round.
        let perRound = simulation.layout.reduce(0) { $0 + max(1, $1.count / 100) } * 4
        #expect(abs(last.megabytesPerWorker - Double(perRound * 300) / 1e6) < 1e-9)
        #expect(records.first?.round == 0 && records.first!.meanAccuracy < 0.3)
    }

    @Test func divergenceIsAnErrorNotNaNWeights() throws {
        var config = Self.config(.saps, epochs: 0.2)
        config.learningRate = 1e6
        let simulation = try Simulation(config: config, data: Self.data.get())
        #expect(throws: SimulationError.self) { _ = try simulation.run() }
    }

    @Test func configurationErrorsAreClear() throws {
        let data = try Self.data.get()
        var config = Self.config(.saps, epochs: 1)
        config.keepFraction = 0
        #expect(throws: SimulationError.self) { _ = try Simulation(config: config, data: data) }
        config = Self.config(.saps, epochs: 1)
        config.bandwidth = .uniformRandom(workers: 3, seed: 1)
        #expect(throws: SimulationError.self) { _ = try Simulation(config: config, data: data) }
        config = Self.config(.saps, epochs: 1)
        config.workers = 10_000
        #expect(throws: SimulationError.self) { _ = try Simulation(config: config, data: data) }
    }
}
