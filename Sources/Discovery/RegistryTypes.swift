/// Where peers reach a node.
public struct NodeAddress: Codable, Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One node as the gateway knows it.
public struct NodeRecord: Codable, Equatable, Sendable {
    public var nodeID: String
    public var address: NodeAddress
    public var capabilities: [String]
    public var metadata: [String: String]
    /// When the gateway first learned of the node (unix seconds).
    public var joinedAt: Double
    /// When the gateway last heard from the node itself, or from a report naming it.
    public var lastSeen: Double
    public var leaseExpiresAt: Double
    /// Heard from the node itself since this gateway process started; false for
    /// entries restored from a snapshot or learned from another node's report.
    public var confirmed: Bool
    /// Listed by the last accepted membership report: a current member of the cluster,
    /// which may report in turn (nil in records written before the flag existed).
    public var reportedMember: Bool? = nil
}

/// What a node sends to register.
public struct Registration: Equatable, Sendable {
    public var nodeID: String
    public var address: NodeAddress
    public var capabilities: [String]
    public var metadata: [String: String]
    /// Non-nil for a node that already belongs to a cluster: never bootstraps.
    public var clusterID: String?

    public init(nodeID: String, address: NodeAddress, capabilities: [String] = [], metadata: [String: String] = [:],
                clusterID: String? = nil) {
        self.nodeID = nodeID
        self.address = address
        self.capabilities = capabilities
        self.metadata = metadata
        self.clusterID = clusterID
    }
}

/// Orders membership reports: a higher term wins; within a term the later
/// report; then the reporter ID breaks ties deterministically.
public struct ReportKey: Codable, Comparable, Hashable, Sendable, CustomStringConvertible {
    public var term: UInt64
    public var reportedAt: Double
    public var reporterID: String

    public init(term: UInt64, reportedAt: Double, reporterID: String) {
        self.term = term
        self.reportedAt = reportedAt
        self.reporterID = reporterID
    }

    public static func < (a: ReportKey, b: ReportKey) -> Bool {
        (a.term, a.reportedAt, a.reporterID) < (b.term, b.reportedAt, b.reporterID)
    }

    public var description: String { "term \(term) at \(reportedAt) from \(reporterID)" }
}

/// The last known Raft leader.
public struct LeaderRecord: Codable, Equatable, Sendable {
    public var nodeID: String
    public var term: UInt64
    /// When the gateway learned it.
    public var learnedAt: Double
}

/// A membership report from a cluster node.
public struct MembershipReport: Equatable, Sendable {
    public struct Member: Equatable, Sendable {
        public var nodeID: String
        public var address: NodeAddress?

        public init(nodeID: String, address: NodeAddress?) {
            self.nodeID = nodeID
            self.address = address
        }
    }

    public var reporterID: String
    public var leaderID: String
    public var term: UInt64
    public var reportedAt: Double
    public var members: [Member]
    public var clusterID: String?

    public init(reporterID: String, leaderID: String, term: UInt64, reportedAt: Double, members: [Member],
                clusterID: String? = nil) {
        self.reporterID = reporterID
        self.leaderID = leaderID
        self.term = term
        self.reportedAt = reportedAt
        self.members = members
        self.clusterID = clusterID
    }

    var key: ReportKey { ReportKey(term: term, reportedAt: reportedAt, reporterID: reporterID) }
}

/// A node as the gateway answers about it: how old and how trustworthy.
public struct NodeView: Equatable, Sendable {
    public var record: NodeRecord
    public var ageSeconds: Double
    public var stale: Bool

    public init(record: NodeRecord, ageSeconds: Double, stale: Bool) {
        self.record = record
        self.ageSeconds = ageSeconds
        self.stale = stale
    }
}

public struct LeaderView: Equatable, Sendable {
    public var nodeID: String
    public var term: UInt64
    public var address: NodeAddress?
    public var ageSeconds: Double
    /// True unless the leader is a node the gateway heard from directly.
    public var stale: Bool
}

/// The answer to a registration.
public struct RegisterOutcome: Equatable, Sendable {
    public enum Status: String, Sendable { case registered, updated }
    public var status: Status
    /// This node must start a new single-node cluster.
    public var bootstrap: Bool
    public var clusterID: String?
    /// The other nodes, sorted by ID.
    public var peers: [NodeView]
    public var leader: LeaderView?
    public var version: UInt64
}

public enum ReportOutcome: Equatable, Sendable {
    case accepted
    case rejected(reason: String)
}

/// Why the registry refused a request (the edge maps these to gRPC statuses).
public enum RegistryError: Error, Equatable, CustomStringConvertible {
    case clusterMismatch(node: String, nodeCluster: String, gatewayCluster: String)
    case full(limit: Int)

    public var description: String {
        switch self {
        case .clusterMismatch(let node, let nodeCluster, let gatewayCluster):
            "node \(node) belongs to cluster \(nodeCluster), but this gateway serves cluster \(gatewayCluster)"
        case .full(let limit):
            "registry is full (\(limit) nodes)"
        }
    }
}

public struct RegistryConfig: Equatable, Sendable {
    /// A node that neither registers nor heartbeats for this long drops out.
    public var leaseSeconds: Double
    /// With no node alive for this long, the cluster is forgotten and the next
    /// newcomer bootstraps a new one.
    public var forgetClusterAfterSeconds: Double
    public var maxNodes: Int
    /// How many peers a registration answer carries at most (ListPeers has all).
    public var peerSampleLimit: Int

    public init(leaseSeconds: Double = 30, forgetClusterAfterSeconds: Double? = nil, maxNodes: Int = 100_000,
                peerSampleLimit: Int = 64) {
        self.leaseSeconds = leaseSeconds
        self.forgetClusterAfterSeconds = forgetClusterAfterSeconds ?? leaseSeconds * 3
        self.maxNodes = maxNodes
        self.peerSampleLimit = peerSampleLimit
    }
}
