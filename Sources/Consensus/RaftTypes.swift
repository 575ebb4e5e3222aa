/// Value types shared by the Raft core, its storage and its driver.
/// The core is deterministic: no clocks, threads, sockets or files.

public typealias NodeID = String

/// One log entry.
public struct Entry: Equatable, Hashable, Sendable, Codable {
    public enum Kind: UInt8, Sendable, Codable {
        /// Application data (e.g. a training-round decision).
        case normal = 0
        /// `data` is an encoded `ConfigChange`.
        case configChange = 1
        /// Appended by a new leader to commit entries of earlier terms.
        case noop = 2
    }

    public var term: UInt64
    public var index: UInt64
    public var kind: Kind
    public var data: [UInt8]

    public init(term: UInt64, index: UInt64, kind: Kind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }
}

/// What must be on disk before a node answers: current term, vote, commit index.
public struct HardState: Equatable, Hashable, Sendable, Codable {
    public var term: UInt64
    public var votedFor: NodeID?
    public var commit: UInt64

    public init(term: UInt64 = 0, votedFor: NodeID? = nil, commit: UInt64 = 0) {
        self.term = term
        self.votedFor = votedFor
        self.commit = commit
    }
}

/// Cluster membership: voters decide; learners only replicate.
public struct ClusterConfig: Equatable, Hashable, Sendable, Codable {
    public var voters: Set<NodeID>
    public var learners: Set<NodeID>
    /// Addresses of members, so any node can redirect clients and dial peers.
    public var addresses: [NodeID: String]
    /// IDs removed from the cluster. Their messages are ignored and they can
    /// never rejoin under the same ID (a restarted removed node must take a new ID).
    public var removed: Set<NodeID>

    public init(voters: Set<NodeID> = [], learners: Set<NodeID> = [], addresses: [NodeID: String] = [:],
                removed: Set<NodeID> = []) {
        self.voters = voters
        self.learners = learners
        self.addresses = addresses
        self.removed = removed
    }

    private enum CodingKeys: String, CodingKey { case voters, learners, addresses, removed }

    /// `removed` is optional on decode so encodings made before it existed still load.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        voters = try container.decode(Set<NodeID>.self, forKey: .voters)
        learners = try container.decode(Set<NodeID>.self, forKey: .learners)
        addresses = try container.decode([NodeID: String].self, forKey: .addresses)
        removed = try container.decodeIfPresent(Set<NodeID>.self, forKey: .removed) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(voters, forKey: .voters)
        try container.encode(learners, forKey: .learners)
        try container.encode(addresses, forKey: .addresses)
        try container.encode(removed, forKey: .removed)
    }
}

/// A membership change; one at a time, through the leader's log.
public enum ConfigChange: Equatable, Hashable, Sendable, Codable {
    /// A joiner enters as a learner and is promoted once caught up.
    case addLearner(NodeID, address: String)
    case promote(NodeID)
    case remove(NodeID)
}

public struct SnapshotMetadata: Equatable, Hashable, Sendable, Codable {
    public var lastIncludedIndex: UInt64
    public var lastIncludedTerm: UInt64
    public var config: ClusterConfig

    public init(lastIncludedIndex: UInt64, lastIncludedTerm: UInt64, config: ClusterConfig) {
        self.lastIncludedIndex = lastIncludedIndex
        self.lastIncludedTerm = lastIncludedTerm
        self.config = config
    }
}

/// The application state machine's state up to `metadata.lastIncludedIndex`.
public struct Snapshot: Equatable, Hashable, Sendable, Codable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }
}

/// What a node finds on disk at start: the input to the core after a restart.
public struct PersistentState: Equatable, Sendable {
    public var hardState: HardState
    public var snapshot: Snapshot?
    /// Entries after the snapshot, contiguous, in index order.
    public var entries: [Entry]

    public init(hardState: HardState = HardState(), snapshot: Snapshot? = nil, entries: [Entry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }

    /// True for a node that has never been part of a cluster.
    public var isEmpty: Bool { hardState == HardState() && snapshot == nil && entries.isEmpty }
}
