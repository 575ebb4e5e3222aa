/// Why the core refused an input.
public enum RaftError: Error, Equatable, Sendable {
    /// Proposals, config changes, transfers and reads go to the leader; `leaderHint` is who this node thinks it is.
    case notLeader(leaderHint: NodeID?)
    /// The leader is handing over leadership and takes no proposals meanwhile.
    case leadershipTransferInProgress
    /// An earlier membership change is not committed yet (one change at a time).
    case configChangeInProgress
    /// A new leader must commit an entry of its own term before it changes membership.
    case leaderNotReady
    /// The change does not apply to the current config (unknown node, already a member, last voter...).
    case invalidConfigChange(String)
    /// The node was removed; its ID can never rejoin.
    case nodeRemoved(NodeID)
    /// Leadership can only move to a voter of the current config.
    case invalidTransferTarget(NodeID)
    /// `bootstrap` was called on a node that already has state.
    case alreadyInitialized
    /// What storage loaded is inconsistent (gap in entries, commit beyond the log...).
    case invalidPersistentState(String)
    case invalidConfig(String)
    case malformedConfigChange(String)
    /// `compact(upTo:)` at or below the current snapshot.
    case snapshotOutOfDate(requested: UInt64, snapshotIndex: UInt64)
    /// `compact(upTo:)` beyond what the application has applied (and acknowledged with `advance`).
    case compactionBeyondApplied(requested: UInt64, applied: UInt64)
}
