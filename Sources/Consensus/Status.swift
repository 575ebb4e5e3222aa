/// A cheap snapshot of a node's state, for `Status` RPCs, metrics and tests.
public struct Status: Equatable, Sendable {
    public var id: NodeID
    public var role: Role
    public var term: UInt64
    public var leader: NodeID?
    public var commit: UInt64
    public var applied: UInt64
    public var lastIndex: UInt64
    /// The log's last compacted index (0 without a snapshot).
    public var snapshotIndex: UInt64
    /// The latest config in the log (in effect, possibly not yet committed).
    public var config: ClusterConfig
    /// True while the latest config change is not committed.
    public var configChangePending: Bool
    /// Replication state of every other member; only on the leader.
    public var progress: [NodeID: FollowerProgress]
    public var leadershipTransferTarget: NodeID?

    /// This node was removed from the cluster: the driver should stop it.
    public var isRemoved: Bool { config.removed.contains(id) }
}

public struct FollowerProgress: Equatable, Sendable {
    public enum State: String, Equatable, Sendable { case probe, replicate, snapshot }

    public var match: UInt64
    public var next: UInt64
    public var state: State
    public var isLearner: Bool
    /// Heard from within the current check-quorum window.
    public var recentActive: Bool
}
