import GossipRPC
import Training

/// How a training peer trains; the run itself (model, data split, rates) comes from the log.
public struct TrainingPeerOptions: Sendable {
    /// Where the data set's IDX files are.
    public var dataDirectory: String
    /// Where checkpoints go (round-N folders, the newest two kept).
    public var checkpointDirectory: String
    /// Proposed when the cluster has no run yet (the first configuration committed wins).
    public var proposal: RunConfiguration?
    /// How long a peer waits for its partner's half of a round before training on alone.
    public var exchangeTimeout: Duration = .seconds(1)
    /// Consecutive missed exchanges after which a partner is proposed for retirement.
    public var missesToRetire = 3
    /// Checkpoint every this many rounds (and when stopping).
    public var checkpointEvery = 50
    /// Evaluations of the test set per epoch (evenly spread; one is always at the epoch's end).
    public var evaluationsPerEpoch = 1
    /// Test images per evaluation (nil: the whole test set).
    public var evaluationSamples: Int?
    /// How often to probe one other peer's throughput (nil: never; SAPS then sees equal links).
    public var probeInterval: Duration? = .seconds(1)
    /// Threads for one SGD step (a batch is split into slices).
    public var threads = 1
    public var tls: ClusterTLS?

    public init(dataDirectory: String, checkpointDirectory: String, proposal: RunConfiguration? = nil) {
        self.dataDirectory = dataDirectory
        self.checkpointDirectory = checkpointDirectory
        self.proposal = proposal
    }
}

/// A training peer cannot go on: the message says why and what to do.
public struct TrainingPeerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
