import Gossip
import Learning

/// Everything that defines a simulated training run; the same config and seed give the same run.
public struct SimulationConfig: Sendable {
    public var workers = 8
    public var architecture: Architecture = .mlp
    public var partition: PartitionScheme = .iid
    public var algorithm: Algorithm = .saps
    /// ρ: the fraction of each tensor's coordinates exchanged by the sparse algorithms.
    public var keepFraction = 0.01
    public var epochs = 10.0
    public var batchSize = 50
    public var learningRate: Float = 0.05
    /// Multiplies the learning rate once per epoch.
    public var learningRateDecay: Float = 0.992
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-4
    /// Local SGD steps after each exchange (H).
    public var localSteps = 1
    /// FedAvg averages every this many rounds.
    public var fedavgPeriod = 10
    /// Rank of the power-gossip exchange; nil picks the rank whose bytes match the sparse
    /// algorithms' at `keepFraction`.
    public var powerRank: Int?
    /// Link bandwidths in MB/s between workers; nil draws the original's U(0, 5) matrix from `seed`.
    public var bandwidth: BandwidthMatrix?
    /// SAPS's B_thres and T_thres.
    public var bandwidthThreshold = 3.0
    public var roundThreshold = 3
    public var seed: UInt64 = 1
    /// Evaluations per epoch (each worker's model on the test set).
    public var evaluationsPerEpoch = 1
    /// Test samples each evaluation uses (nil: all).
    public var evaluationSamples: Int?
    /// Threads running workers side by side (each with single-threaded GEMM); results do not
    /// depend on it.
    public var threads = 1

    public init() {}

    /// Activations are sized for a batch; beyond this a CNN's would need gigabytes.
    public static let maxBatchSize = 10_000

    /// Worker count actually training: centralised SGD is one worker with all the data.
    var trainingWorkers: Int { algorithm == .centralised ? 1 : workers }

    /// Checks what can be checked without the data (Simulation checks the rest).
    public func validate() throws(SimulationError) {
        guard workers >= 1 else { throw SimulationError("need at least one worker") }
        guard workers >= 2 || !algorithm.pairs && algorithm != .dpsgd else { throw SimulationError("\(algorithm) needs at least two workers") }
        guard keepFraction > 0 && keepFraction <= 1 else { throw SimulationError("--keep must be in (0, 1], got \(keepFraction)") }
        guard epochs > 0 && epochs.isFinite else { throw SimulationError("--epochs must be positive") }
        guard batchSize > 0 && batchSize <= Self.maxBatchSize else {
            throw SimulationError("--batch must be in 1...\(Self.maxBatchSize), got \(batchSize)")
        }
        guard learningRate > 0 && learningRate.isFinite else { throw SimulationError("--lr must be positive") }
        guard learningRateDecay > 0 && learningRateDecay.isFinite else { throw SimulationError("--lr-decay must be positive") }
        guard momentum >= 0 && momentum < 1 else { throw SimulationError("--momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 && weightDecay.isFinite else { throw SimulationError("--weight-decay must be a non-negative number") }
        if let evaluationSamples, evaluationSamples < 1 { throw SimulationError("--eval-samples must be at least 1") }
        guard localSteps >= 1 && fedavgPeriod >= 1 && evaluationsPerEpoch >= 1 && threads >= 1 else {
            throw SimulationError("--local-steps, --fedavg-period, --evaluations-per-epoch and --threads must be at least 1")
        }
        if let powerRank, powerRank < 1 { throw SimulationError("--rank must be at least 1") }
        if let bandwidth, bandwidth.workers != workers {
            throw SimulationError("the bandwidth matrix is for \(bandwidth.workers) workers, not \(workers)")
        }
    }
}

public struct SimulationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
