import ArgumentParser
import Foundation
import Learning
import Training
import TrainingNode

/// `gossipfl peer --train`: the run this peer proposes when the cluster has none (the first one
/// committed wins, so only the founder's matter), and how this peer trains.
struct PeerTrainingOptions: ParsableArguments {
    @Flag(help: "Train: serve gossip.v1 and take part in the run committed in the log.") var train = false
    @Flag(name: .customLong("log-only"), help: """
        With --train: keep the training log and serve gossip.v1 (FollowTraining for nodes that follow \
        the log, such as Python nodes) without training here.
        """) var logOnly = false
    @Option(name: .customLong("dataset-dir"), help: "Directory of MNIST-format IDX files (.gz or plain).")
    var datasetDir = DatasetDirectory.fashionMNIST
    @Option(name: .customLong("checkpoint-dir"), help: "Where checkpoints go (default: <data-dir>/checkpoints).")
    var checkpointDir: String?

    @Option(name: .customLong("run-id"), help: "The run to propose.") var runId = "fashion-mnist"
    @Option(help: "Model: logreg, mlp or cnn.") var model: Architecture = .mlp
    @Option(help: "Data split: iid, dirichlet:ALPHA or shards:K.") var partition = "iid"
    @Option(help: "Data slots (the training set is split into this many parts, one per peer).") var slots = 4
    @Option(name: .customLong("min-peers"), help: "Training starts once this many peers are admitted.") var minPeers = 1
    @Option(help: "saps, random (matching) or dpsgd (dense ring: whole models with both neighbours).") var algorithm: Algorithm = .saps
    @Option(help: "ρ: fraction of each tensor's coordinates exchanged (saps, random).") var keep = 0.01
    @Option(help: "Epochs to train (fractions allowed; 0: until stopped).") var epochs = 5.0
    @Option(help: "Samples per batch.") var batch = 50
    @Option(help: "Learning rate (default: 0.05, 0.01 for logreg).") var lr: Float?
    @Option(name: .customLong("lr-decay"), help: "Learning-rate factor per epoch.") var lrDecay: Float = 0.992
    @Option(help: "Seed of everything random in the run.") var seed: UInt64 = 1
    @Option(name: .customLong("horizon-rounds"), help: "How far ahead rounds are released at a time.")
    var horizonRounds = RunConfiguration.defaultHorizonRounds

    @Option(name: .customLong("exchange-timeout-ms"), help: "Wait this long for a partner before training on alone.")
    var exchangeTimeoutMs = 1000
    @Option(name: .customLong("retire-after"), help: "Propose retiring a partner after this many missed exchanges in a row.")
    var retireAfter = 3
    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint every this many rounds.") var checkpointEvery = 100
    @Option(name: .customLong("eval-samples"), help: "Test images per evaluation (default: all 10,000).") var evalSamples: Int?
    @Option(name: .customLong("evals-per-epoch"), help: "Test-set evaluations per epoch.") var evalsPerEpoch = 1
    @Option(name: .customLong("train-threads"), help: "Threads per SGD step.") var trainThreads = 1
    @Option(name: .customLong("probe-interval-ms"), help: "Probe one other peer's throughput this often (0: never).")
    var probeIntervalMs = 1000

    func validate() throws {
        guard slots >= 1, minPeers >= 1, minPeers <= slots else { throw ValidationError("need 1 <= --min-peers <= --slots") }
        guard keep > 0, keep <= 1, epochs >= 0, batch >= 1, batch <= SimulationConfig.maxBatchSize else {
            throw ValidationError("need 0 < --keep <= 1, --epochs >= 0 and 1 <= --batch <= \(SimulationConfig.maxBatchSize)")
        }
        guard Algorithm.onTheNetwork.contains(algorithm) else {
            throw ValidationError("peers train --algorithm " + Algorithm.onTheNetwork.map(\.rawValue).joined(separator: ", "))
        }
        guard exchangeTimeoutMs > 0, retireAfter >= 1, evalsPerEpoch >= 1, probeIntervalMs >= 0, checkpointEvery >= 1, trainThreads >= 1, horizonRounds >= 2 else {
            throw ValidationError("--exchange-timeout-ms, --retire-after, --checkpoint-every, --evals-per-epoch, --train-threads must be positive, --horizon-rounds >= 2")
        }
        _ = try partitionScheme()
    }

    private func partitionScheme() throws -> PartitionScheme {
        do { return try PartitionScheme(parsing: partition) } catch { throw ValidationError("--partition: \(error)") }
    }

    /// The run to propose. Rounds per epoch: as many as a peer needs to see its slot once.
    func proposal(trainingSamples: Int) throws -> RunConfiguration {
        let roundsPerEpoch = max(1, Int((Double(trainingSamples) / Double(slots) / Double(batch)).rounded(.up)))
        let rounds = epochs == 0 ? nil : max(1, Int((epochs * Double(roundsPerEpoch)).rounded()))
        return RunConfiguration(runId: runId, architecture: model, partition: try partitionScheme(), slots: slots, seed: seed,
                                algorithm: algorithm, keepFraction: keep, learningRate: lr ?? model.defaultLearningRate,
                                learningRateDecay: lrDecay, batchSize: batch, roundsPerEpoch: roundsPerEpoch, rounds: rounds,
                                minParticipants: minPeers, horizonRounds: horizonRounds)
    }

    func peerOptions(dataDir: String, trainingSamples: Int) throws -> TrainingPeerOptions {
        var options = TrainingPeerOptions(dataDirectory: datasetDir, checkpointDirectory: checkpointDir ?? dataDir + "/checkpoints",
                                          proposal: try proposal(trainingSamples: trainingSamples))
        options.exchangeTimeout = .milliseconds(exchangeTimeoutMs)
        options.missesToRetire = retireAfter
        options.checkpointEvery = checkpointEvery
        options.evaluationSamples = evalSamples
        options.evaluationsPerEpoch = evalsPerEpoch
        options.threads = trainThreads
        options.probeInterval = probeIntervalMs == 0 ? nil : .milliseconds(probeIntervalMs)
        return options
    }
}
