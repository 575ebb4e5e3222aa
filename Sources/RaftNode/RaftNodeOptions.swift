/// Timing and batching of a node's driver. Ticks drive the core: elections
/// time out after `electionTicks`–2×`electionTicks` ticks without a leader.
public struct RaftNodeOptions: Sendable {
    public var tickInterval: Duration
    public var electionTicks: Int
    public var heartbeatTicks: Int
    /// Entries per AppendEntries and AppendEntries in flight per follower (pipelining).
    public var maxEntriesPerMessage: Int
    public var maxInflightMessages: Int
    /// Compact once this many entries were applied past the last snapshot.
    public var compactionThreshold: UInt64
    /// Deadline of one peer RPC; Raft retries on its own.
    public var rpcTimeout: Duration
    /// A proposal, membership change or read not done within this many ticks fails.
    public var requestTimeoutTicks: Int
    public var snapshotChunkBytes: Int
    /// The largest proposal accepted (etcd's `--max-request-bytes`, 1.5 MiB): bigger ones get
    /// RESOURCE_EXHAUSTED before they reach the log.
    public var maxRequestBytes: Int
    /// Entry bytes per AppendEntries (etcd's `MaxSizePerMsg`, 1 MiB) and in flight per follower.
    public var maxAppendBytes: Int
    public var maxInflightBytes: Int
    /// A streamed InstallSnapshot larger than this is refused.
    public var maxSnapshotBytes: Int
    /// Voters the leader promotes learners up to (further members stay learners).
    public var maxVoters = Int.max

    public init(tickInterval: Duration = .milliseconds(20), electionTicks: Int = 10, heartbeatTicks: Int = 2,
                maxEntriesPerMessage: Int = 256, maxInflightMessages: Int = 16, compactionThreshold: UInt64 = 8192,
                rpcTimeout: Duration = .milliseconds(800), requestTimeoutTicks: Int = 250, snapshotChunkBytes: Int = 1 << 20,
                maxRequestBytes: Int = 3 << 19, maxAppendBytes: Int = 1 << 20, maxInflightBytes: Int = 4 << 20,
                maxSnapshotBytes: Int = 1 << 30) {
        self.tickInterval = tickInterval
        self.electionTicks = electionTicks
        self.heartbeatTicks = heartbeatTicks
        self.maxEntriesPerMessage = maxEntriesPerMessage
        self.maxInflightMessages = maxInflightMessages
        self.compactionThreshold = compactionThreshold
        self.rpcTimeout = rpcTimeout
        self.requestTimeoutTicks = requestTimeoutTicks
        self.snapshotChunkBytes = snapshotChunkBytes
        self.maxRequestBytes = maxRequestBytes
        self.maxAppendBytes = maxAppendBytes
        self.maxInflightBytes = maxInflightBytes
        self.maxSnapshotBytes = maxSnapshotBytes
    }

    /// The receive limit for raft.v1 messages, on the server and on peer channels: the largest
    /// of a proposal, an AppendEntries (one entry may be a whole proposal) and a snapshot chunk,
    /// plus room for the fields around them.
    public var maxMessageBytes: Int { max(maxRequestBytes, maxAppendBytes, snapshotChunkBytes) + (64 << 10) }
}

/// Why a proposal, membership change or read did not complete.
public enum RaftNodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not the leader; the hint says who is (with its address when known).
    case notLeader(leaderID: String?, address: String?)
    /// The entry was overwritten by a new leader's log: it will never commit.
    case lost
    case timedOut
    /// Transient: an earlier membership change or a leadership transfer is under way; retry.
    case busy(String)
    /// The node ID was removed from the cluster and can never rejoin.
    case removed(String)
    /// The core refused for good (invalid change, ...).
    case rejected(String)
    /// The proposal is larger than `maxRequestBytes`.
    case tooLarge(bytes: Int, limit: Int)
    case stopped
    /// Storage failed: the node stopped rather than risk acknowledging lost data.
    case storageFailed(String)

    public var description: String {
        switch self {
        case .notLeader(let id, let address): "not the leader (leader: \(id ?? "unknown")\(address.map { " at \($0)" } ?? ""))"
        case .lost: "the entry was overwritten by a new leader before it committed"
        case .timedOut: "timed out"
        case .busy(let why): "busy: \(why)"
        case .removed(let node): "\(node) was removed from the cluster and cannot rejoin under that ID"
        case .rejected(let why): why
        case .tooLarge(let bytes, let limit):
            "a proposal of \(bytes) bytes exceeds the limit of \(limit) bytes (--max-request-bytes); split it into smaller entries"
        case .stopped: "the node is stopped"
        case .storageFailed(let why): "storage failed: \(why)"
        }
    }
}
