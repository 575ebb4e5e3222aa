/// The training state replicated through Raft (gossip/v1/gossip.proto, `TrainingCommand`).
extension GossipV1 {
    /// `gossip.v1.TrainingConfig`: the run every peer trains.
    public struct TrainingConfig: WireMessage {
        public var runId = ""
        public var model = ""
        public var dataset = ""
        public var partition = ""
        public var slots: UInt32 = 0
        public var seed: UInt64 = 0
        public var algorithm = ""
        public var keepFraction: Double = 0
        public var learningRate: Double = 0
        public var learningRateDecay: Double = 0
        public var momentum: Double = 0
        public var weightDecay: Double = 0
        public var batchSize: UInt32 = 0
        public var roundsPerEpoch: UInt32 = 0
        public var rounds: UInt64 = 0
        public var bandwidthThreshold: Double = 0
        public var roundThreshold: UInt32 = 0
        public var minParticipants: UInt32 = 0
        public var horizonRounds: UInt32 = 0

        public init() {}
    }

    /// `gossip.v1.Admission`
    public struct Admission: WireMessage {
        public var nodeId: String
        public var fromRound: UInt64
        public var slot: UInt32
        /// Where a participant outside the Raft cluster serves gossip.v1; empty for members.
        public var address: String

        public init(nodeId: String = "", fromRound: UInt64 = 0, slot: UInt32 = 0, address: String = "") {
            self.nodeId = nodeId
            self.fromRound = fromRound
            self.slot = slot
            self.address = address
        }
    }

    /// `gossip.v1.FollowTrainingRequest`
    public struct FollowTrainingRequest: WireMessage {
        public var followerId: String

        public init(followerId: String = "") { self.followerId = followerId }
    }

    /// `gossip.v1.CommittedTraining`: one training entry and its log index.
    public struct CommittedTraining: WireMessage {
        public var index: UInt64
        public var command: TrainingCommand?

        public init(index: UInt64 = 0, command: TrainingCommand? = nil) {
            self.index = index
            self.command = command
        }
    }

    /// `gossip.v1.Retirement`
    public struct Retirement: WireMessage {
        public var nodeId: String
        public var fromRound: UInt64
        public var reason: String

        public init(nodeId: String = "", fromRound: UInt64 = 0, reason: String = "") {
            self.nodeId = nodeId
            self.fromRound = fromRound
            self.reason = reason
        }
    }

    /// `gossip.v1.BandwidthMatrix`: row-major MB/s over `workers`.
    public struct BandwidthMatrix: WireMessage {
        public var workers: [String]
        public var mbps: [Double]
        public var fromRound: UInt64

        public init(workers: [String] = [], mbps: [Double] = [], fromRound: UInt64 = 0) {
            self.workers = workers
            self.mbps = mbps
            self.fromRound = fromRound
        }
    }

    /// `gossip.v1.ProgressReport`
    public struct ProgressReport: WireMessage {
        public var nodeId: String
        public var round: UInt64
        public var testAccuracy: Double

        public init(nodeId: String = "", round: UInt64 = 0, testAccuracy: Double = 0) {
            self.nodeId = nodeId
            self.round = round
            self.testAccuracy = testAccuracy
        }
    }

    /// `gossip.v1.RoundHorizon`: peers may run rounds below `untilRound`.
    public struct RoundHorizon: WireMessage {
        public var untilRound: UInt64

        public init(untilRound: UInt64 = 0) { self.untilRound = untilRound }
    }

    /// `gossip.v1.TrainingCommand`: exactly one field set.
    public struct TrainingCommand: WireMessage {
        public var configure: TrainingConfig?
        public var admit: Admission?
        public var retire: Retirement?
        public var bandwidth: BandwidthMatrix?
        public var progress: ProgressReport?
        public var horizon: RoundHorizon?
        public var report: BandwidthReport?

        public init(configure: TrainingConfig? = nil, admit: Admission? = nil, retire: Retirement? = nil,
                    bandwidth: BandwidthMatrix? = nil, progress: ProgressReport? = nil, horizon: RoundHorizon? = nil,
                    report: BandwidthReport? = nil) {
            self.configure = configure
            self.admit = admit
            self.retire = retire
            self.bandwidth = bandwidth
            self.progress = progress
            self.horizon = horizon
            self.report = report
        }
    }
}
