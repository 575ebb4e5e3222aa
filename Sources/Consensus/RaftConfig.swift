@_exported import Seeded

/// Tuning for one node's core. Time is counted in ticks: the driver calls
/// `tick()` at a fixed interval (e.g. 100 ms), the core never reads a clock.
public struct RaftConfig: Equatable, Sendable {
    public var id: NodeID
    /// Seeds the generator behind every random choice (election timeouts);
    /// give each node (and each restart) its own seed.
    public var randomSeed: UInt64
    /// Election timeouts are drawn from [electionTicks, 2 * electionTicks).
    public var electionTicks: Int
    /// A leader sends heartbeats every `heartbeatTicks`.
    public var heartbeatTicks: Int
    /// Campaign first with a pre-vote that does not bump terms (thesis §9.6).
    public var preVote: Bool
    /// A leader that has not heard from a quorum within `electionTicks` steps down,
    /// and followers that heard from a leader within it ignore vote requests.
    public var checkQuorum: Bool
    public var maxEntriesPerMessage: Int
    /// Entry bytes per AppendEntries (etcd's `MaxSizePerMsg`): a message holds entries until
    /// their data reaches this, and always at least one, so large proposals never make one
    /// message so big that replicating it outlasts an election timeout.
    public var maxBytesPerMessage: Int
    /// AppendEntries messages in flight per follower while pipelining.
    public var maxInflightMessages: Int
    /// Entry bytes in flight per follower (etcd's `MaxInflightBytes`); at least one message is always allowed.
    public var maxInflightBytes: Int
    /// The leader proposes `promote` for a learner whose match index is within
    /// this many entries of the leader's last index.
    public var learnerCatchUpMargin: UInt64
    public var autoPromoteLearners: Bool
    /// Learners are promoted only while there are fewer voters than this: a training cluster
    /// keeps a small quorum (fast commits) and the other peers follow the log as learners.
    public var maxVoters: Int

    public init(id: NodeID, randomSeed: UInt64, electionTicks: Int = 10, heartbeatTicks: Int = 1,
                preVote: Bool = true, checkQuorum: Bool = true, maxEntriesPerMessage: Int = 64,
                maxBytesPerMessage: Int = 1 << 20, maxInflightMessages: Int = 8, maxInflightBytes: Int = 4 << 20, learnerCatchUpMargin: UInt64 = 8, autoPromoteLearners: Bool = true,
                maxVoters: Int = .max) {
        self.id = id
        self.randomSeed = randomSeed
        self.electionTicks = electionTicks
        self.heartbeatTicks = heartbeatTicks
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.maxEntriesPerMessage = maxEntriesPerMessage
        self.maxBytesPerMessage = maxBytesPerMessage
        self.maxInflightMessages = maxInflightMessages
        self.maxInflightBytes = maxInflightBytes
        self.learnerCatchUpMargin = learnerCatchUpMargin
        self.autoPromoteLearners = autoPromoteLearners
        self.maxVoters = maxVoters
    }

    func validate() throws(RaftError) {
        guard !id.isEmpty else { throw .invalidConfig("empty node id") }
        guard heartbeatTicks >= 1 else { throw .invalidConfig("heartbeatTicks must be >= 1") }
        guard electionTicks > heartbeatTicks else { throw .invalidConfig("electionTicks must exceed heartbeatTicks") }
        guard maxEntriesPerMessage >= 1 else { throw .invalidConfig("maxEntriesPerMessage must be >= 1") }
        guard maxBytesPerMessage >= 1 else { throw .invalidConfig("maxBytesPerMessage must be >= 1") }
        guard maxInflightMessages >= 1 else { throw .invalidConfig("maxInflightMessages must be >= 1") }
        guard maxInflightBytes >= 1 else { throw .invalidConfig("maxInflightBytes must be >= 1") }
    }

    /// A follower in pipelined replication whose match index has not moved for
    /// this long (while entries are outstanding) is probed again: a lost
    /// AppendEntries is otherwise only noticed when the next one is rejected.
    var replicationStallTicks: Int { max(2 * heartbeatTicks, electionTicks / 2) }
}
