/// The discovery gateway's messages (gateway/v1/gateway.proto).
public enum GatewayV1 {}

extension GatewayV1 {
    /// `gateway.v1.NodeAddress`
    public struct NodeAddress: WireMessage {
        public var host: String
        public var port: UInt32

        public init(host: String = "", port: UInt32 = 0) {
            self.host = host
            self.port = port
        }
    }

    /// `gateway.v1.NodeEntry`
    public struct NodeEntry: WireMessage {
        public var nodeId: String
        public var address: NodeAddress?
        public var capabilities: [String]
        /// How long ago the gateway last heard from this node.
        public var ageSeconds: Double
        /// True while the entry comes from a snapshot not yet confirmed by the node.
        public var stale: Bool

        public init(
            nodeId: String = "",
            address: NodeAddress? = nil,
            capabilities: [String] = [],
            ageSeconds: Double = 0,
            stale: Bool = false
        ) {
            self.nodeId = nodeId
            self.address = address
            self.capabilities = capabilities
            self.ageSeconds = ageSeconds
            self.stale = stale
        }
    }

    /// `gateway.v1.LeaderHint`
    public struct LeaderHint: WireMessage {
        public var nodeId: String
        public var term: UInt64
        public var address: NodeAddress?
        /// How long ago the gateway learned this leader.
        public var ageSeconds: Double
        /// True when the leader is not a node the gateway has heard from directly.
        public var stale: Bool

        public init(
            nodeId: String = "",
            term: UInt64 = 0,
            address: NodeAddress? = nil,
            ageSeconds: Double = 0,
            stale: Bool = false
        ) {
            self.nodeId = nodeId
            self.term = term
            self.address = address
            self.ageSeconds = ageSeconds
            self.stale = stale
        }
    }

    /// `gateway.v1.RegisterRequest`
    public struct RegisterRequest: WireMessage {
        public var nodeId: String
        public var address: NodeAddress?
        public var capabilities: [String]
        public var clusterId: String

        public init(
            nodeId: String = "",
            address: NodeAddress? = nil,
            capabilities: [String] = [],
            clusterId: String = ""
        ) {
            self.nodeId = nodeId
            self.address = address
            self.capabilities = capabilities
            self.clusterId = clusterId
        }
    }

    /// `gateway.v1.RegisterResponse`
    public struct RegisterResponse: WireMessage {
        /// Exactly one node of an empty registry is told to bootstrap.
        public var bootstrap: Bool
        public var peers: [NodeEntry]
        public var leader: LeaderHint?
        public var leaseSeconds: UInt32
        public var clusterId: String
        /// Bumped on every membership change the gateway sees.
        public var registryVersion: UInt64

        public init(
            bootstrap: Bool = false,
            peers: [NodeEntry] = [],
            leader: LeaderHint? = nil,
            leaseSeconds: UInt32 = 0,
            clusterId: String = "",
            registryVersion: UInt64 = 0
        ) {
            self.bootstrap = bootstrap
            self.peers = peers
            self.leader = leader
            self.leaseSeconds = leaseSeconds
            self.clusterId = clusterId
            self.registryVersion = registryVersion
        }
    }

    /// `gateway.v1.HeartbeatRequest`
    public struct HeartbeatRequest: WireMessage {
        public var nodeId: String

        public init(nodeId: String = "") {
            self.nodeId = nodeId
        }
    }

    /// `gateway.v1.HeartbeatResponse`
    public struct HeartbeatResponse: WireMessage {
        public var leaseSeconds: UInt32
        /// False when the gateway no longer knows the node: it should register again.
        public var known: Bool

        public init(leaseSeconds: UInt32 = 0, known: Bool = false) {
            self.leaseSeconds = leaseSeconds
            self.known = known
        }
    }

    /// `gateway.v1.DeregisterRequest`
    public struct DeregisterRequest: WireMessage {
        public var nodeId: String

        public init(nodeId: String = "") {
            self.nodeId = nodeId
        }
    }

    /// `gateway.v1.DeregisterResponse`
    public struct DeregisterResponse: WireMessage {
        public var removed: Bool

        public init(removed: Bool = false) {
            self.removed = removed
        }
    }

    /// `gateway.v1.ListPeersRequest`
    public struct ListPeersRequest: WireMessage {
        public init() {}
    }

    /// `gateway.v1.ListPeersResponse`
    public struct ListPeersResponse: WireMessage {
        public var peers: [NodeEntry]
        public var registryVersion: UInt64

        public init(peers: [NodeEntry] = [], registryVersion: UInt64 = 0) {
            self.peers = peers
            self.registryVersion = registryVersion
        }
    }

    /// `gateway.v1.GetLeaderRequest`
    public struct GetLeaderRequest: WireMessage {
        public init() {}
    }

    /// `gateway.v1.GetLeaderResponse`
    public struct GetLeaderResponse: WireMessage {
        public var leader: LeaderHint?

        public init(leader: LeaderHint? = nil) {
            self.leader = leader
        }
    }

    /// `gateway.v1.ReportMembershipRequest`: a cluster node's view of the
    /// Raft cluster. Reports are ordered by (term, reportedAtUnix, reporterId).
    public struct ReportMembershipRequest: WireMessage {
        public var reporterId: String
        public var leaderId: String
        public var term: UInt64
        public var members: [NodeEntry]
        /// The reporter's clock when it made the report (unix seconds).
        public var reportedAtUnix: Double
        public var clusterId: String

        public init(
            reporterId: String = "",
            leaderId: String = "",
            term: UInt64 = 0,
            members: [NodeEntry] = [],
            reportedAtUnix: Double = 0,
            clusterId: String = ""
        ) {
            self.reporterId = reporterId
            self.leaderId = leaderId
            self.term = term
            self.members = members
            self.reportedAtUnix = reportedAtUnix
            self.clusterId = clusterId
        }
    }

    /// `gateway.v1.ReportMembershipResponse`
    public struct ReportMembershipResponse: WireMessage {
        public var accepted: Bool
        /// Why a report was not applied (e.g. older than the one the gateway has).
        public var reason: String

        public init(accepted: Bool = false, reason: String = "") {
            self.accepted = accepted
            self.reason = reason
        }
    }
}
