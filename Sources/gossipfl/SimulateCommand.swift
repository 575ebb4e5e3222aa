import ArgumentParser
import Foundation
import Gossip
import Learning
import Training

extension Algorithm: ExpressibleByArgument {}

/// `gossipfl simulate`: N workers training in one process over simulated links.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Train N workers in one process with SAPS (or a baseline) over simulated links.",
        discussion: """
        Algorithms: saps (bandwidth-aware matching, random-k values at a shared mask), random (the same on a \
        random matching), random-dense, dpsgd (dense ring), fedavg, centralised (one worker, all data), and \
        power (ours: low-rank gossip of the partners' model difference, same bytes as saps at --keep).
        Bandwidth: random (the original's U(0,5) MB/s), loguniform, clustered:K (K fast sites, slow links \
        between them), or a file of n rows of n numbers (MB/s, '#' comments).
        """)

    @Option(help: "Model: logreg, mlp or cnn.") var model: Architecture = .mlp
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Workers.") var workers = 8
    @Option(help: "Data split among workers: iid, dirichlet:ALPHA or shards:K.") var partition = "iid"
    @Option(help: "Exchange algorithm.") var algorithm: Algorithm = .saps
    @Option(help: "ρ: fraction of each tensor's coordinates exchanged by saps and random.") var keep = 0.01
    @Option(help: "Epochs (fractions allowed).") var epochs = 10.0
    @Option(help: "Samples per batch.") var batch = 50
    @Option(help: "Learning rate (default: 0.05, 0.01 for logreg).") var lr: Float?
    @Option(help: "Learning-rate factor per epoch.") var lrDecay: Float = 0.992
    @Option(help: "Momentum.") var momentum: Float = 0.9
    @Option(help: "Weight decay.") var weightDecay: Float = 1e-4
    @Option(help: "Local SGD steps per round (H).") var localSteps = 1
    @Option(help: "FedAvg: rounds between averages.") var fedavgPeriod = 10
    @Option(help: "power: rank (default: the rank that sends no more than saps at --keep).") var rank: Int?
    @Option(help: "Link bandwidths: random, loguniform, clustered:K or a FILE.") var bandwidth = "random"
    @Option(name: .customLong("b-thres"), help: "SAPS: a link is fast above this many MB/s.") var bandwidthThreshold = 3.0
    @Option(name: .customLong("t-thres"), help: "SAPS: rounds a pair counts as recently matched.") var roundThreshold = 3
    @Option(help: "Seed of everything random in the run.") var seed: UInt64 = 1
    @Option(help: "Threads running workers side by side (results do not depend on it).") var threads = 2
    @Option(help: "Evaluations per epoch.") var evaluationsPerEpoch = 1
    @Option(help: "Test samples per evaluation (default: the whole test set).") var evalSamples: Int?
    @Option(help: "CSV file of every evaluation.") var metrics = "out/simulate.csv"
    @Option(help: "PNG plot of accuracy against epochs and MB sent (matplotlib, from the project venv).") var plot = "out/simulate.png"
    @Option(help: "Write worker 0's final model here (safetensors, PyTorch state_dict names).") var saveModel: String?
    @Flag(help: "Neither CSV nor plot.") var noOutput = false

    func run() throws {
        var config = SimulationConfig()
        config.workers = workers
        config.architecture = model
        do { config.partition = try PartitionScheme(parsing: partition) } catch { throw ValidationError("--partition: \(error)") }
        config.algorithm = algorithm
        config.keepFraction = keep
        config.epochs = epochs
        config.batchSize = batch
        config.learningRate = lr ?? model.defaultLearningRate
        config.learningRateDecay = lrDecay
        config.momentum = momentum
        config.weightDecay = weightDecay
        config.localSteps = localSteps
        config.fedavgPeriod = fedavgPeriod
        config.powerRank = rank
        config.bandwidth = try BandwidthOption.matrix(bandwidth, workers: workers, seed: seed)
        config.bandwidthThreshold = bandwidthThreshold
        config.roundThreshold = roundThreshold
        config.seed = seed
        config.threads = threads
        config.evaluationsPerEpoch = evaluationsPerEpoch
        config.evaluationSamples = evalSamples
        GEMMThreads.set(1)
        // Arguments first: a typo should not wait for the data set to load.
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        let data = try dataOptions.loadData()

        let simulation: Simulation
        do { simulation = try Simulation(config: config, data: data) } catch { throw ValidationError("\(error)") }
        let csv = noOutput ? nil : try MetricsFile(path: metrics, run: runName)
        let progress = ProgressLine()
        progress.note("\(algorithm) · \(model) (\(simulation.parameterCount) parameters) · \(workers) workers · "
                      + "\(partition) · \(simulation.totalRounds) rounds (\(simulation.roundsPerEpoch) per epoch)")
        let records: [EvaluationRecord]
        do {
            records = try simulation.run(
                onRound: { progress.update($0) },
                onEvaluation: { record in
                    progress.report(record)
                    csv?.append(record)
                })
        } catch {
            throw ValidationError("\(error)")
        }
        if let csv { print("metrics: \(csv.path)") }
        if let saveModel {
            let network = Network(model, rows: data.train.rows, columns: data.train.columns, classes: data.train.classes)
            try network.save(simulation.parameters(ofWorker: 0), to: saveModel, metadata: ["algorithm": algorithm.rawValue])
            print("model of worker 0: \(saveModel)")
        }
        if let csv {
            try Plotter.plot(csvFiles: [csv.path], to: plot)
            print("plot: \(plot)")
        }
        if let last = records.last(where: { $0.round > 0 }) {
            print(String(format: "final: mean accuracy %.2f %% (lowest worker %.2f %%), %.2f MB sent per worker, %.1f s simulated communication",
                         last.meanAccuracy * 100, last.minAccuracy * 100, last.megabytesPerWorker, last.communicationSeconds))
        }
    }

    private var runName: String {
        switch algorithm {
        case .centralised: "centralised \(model)"
        case .saps, .random: "\(algorithm) \(model) \(partition) ρ=\(keep)"
        default: "\(algorithm) \(model) \(partition)"
        }
    }
}

/// `--bandwidth`: a named generator or a file.
enum BandwidthOption {
    static func matrix(_ text: String, workers: Int, seed: UInt64) throws -> BandwidthMatrix {
        switch text {
        case "random": return BandwidthMatrix.uniformRandom(workers: workers, seed: seed)
        // Each generator its own stream: the same seed must not give the same ordering of links.
        case "loguniform": return BandwidthMatrix.logUniform(workers: workers, seed: SeedDerivation.derive(seed, 11))
        case let named where named.hasPrefix("clustered:"):
            guard let clusters = Int(named.dropFirst("clustered:".count)), clusters >= 1, clusters <= workers else {
                throw ValidationError("--bandwidth clustered:K needs 1 ≤ K ≤ workers, got \(named)")
            }
            return BandwidthMatrix.clustered(workers: workers, clusters: clusters, seed: SeedDerivation.derive(seed, 12))
        default:
            guard let contents = try? String(contentsOfFile: text, encoding: .utf8) else {
                throw ValidationError("--bandwidth: \(text) is neither random, loguniform, clustered:K nor a readable file")
            }
            do {
                let matrix = try BandwidthMatrix(parsing: contents)
                guard matrix.workers == workers else {
                    throw ValidationError("--bandwidth: \(text) is for \(matrix.workers) workers, not \(workers)")
                }
                return matrix
            } catch let error as BandwidthMatrixError {
                throw ValidationError("--bandwidth: \(text): \(error)")
            }
        }
    }
}
