/// The gateway contract the existing Python GossipFL nodes speak
/// (compat/gateway_service.proto). The proto has no package, so its wire
/// names are bare: `NodeInfo`, `/GatewayService/RegisterNode`, ...
public enum CompatGateway {}

extension CompatGateway {
    /// `NodeInfo`
    public struct NodeInfo: WireMessage {
        public var nodeId: Int32
        public var ipAddress: String
        public var port: Int32
        public var capabilities: [String]
        /// "active" for live nodes.
        public var status: String
        /// Unix seconds.
        public var lastSeen: Double
        public var joinTimestamp: Double
        public var metadata: [String: String]

        public init(
            nodeId: Int32 = 0,
            ipAddress: String = "",
            port: Int32 = 0,
            capabilities: [String] = [],
            status: String = "",
            lastSeen: Double = 0,
            joinTimestamp: Double = 0,
            metadata: [String: String] = [:]
        ) {
            self.nodeId = nodeId
            self.ipAddress = ipAddress
            self.port = port
            self.capabilities = capabilities
            self.status = status
            self.lastSeen = lastSeen
            self.joinTimestamp = joinTimestamp
            self.metadata = metadata
        }
    }

    /// `RegisterNodeRequest`
    public struct RegisterNodeRequest: WireMessage {
        public var nodeId: Int32
        public var ipAddress: String
        public var port: Int32
        public var capabilities: [String]
        public var metadata: [String: String]

        public init(
            nodeId: Int32 = 0,
            ipAddress: String = "",
            port: Int32 = 0,
            capabilities: [String] = [],
            metadata: [String: String] = [:]
        ) {
            self.nodeId = nodeId
            self.ipAddress = ipAddress
            self.port = port
            self.capabilities = capabilities
            self.metadata = metadata
        }
    }

    /// `RegisterNodeResponse`
    public struct RegisterNodeResponse: WireMessage {
        /// "registered" for a new node, "updated" for a known one.
        public var status: String
        public var nodeId: Int32
        public var isBootstrap: Bool
        public var registryVersion: Int32
        /// The other active nodes.
        public var nodes: [NodeInfo]
        public var leader: NodeInfo?
        public var message: String

        public init(
            status: String = "",
            nodeId: Int32 = 0,
            isBootstrap: Bool = false,
            registryVersion: Int32 = 0,
            nodes: [NodeInfo] = [],
            leader: NodeInfo? = nil,
            message: String = ""
        ) {
            self.status = status
            self.nodeId = nodeId
            self.isBootstrap = isBootstrap
            self.registryVersion = registryVersion
            self.nodes = nodes
            self.leader = leader
            self.message = message
        }
    }

    /// `GetNodesRequest`
    public struct GetNodesRequest: WireMessage {
        /// Left out of the answer when non-zero.
        public var requestingNodeId: Int32

        public init(requestingNodeId: Int32 = 0) {
            self.requestingNodeId = requestingNodeId
        }
    }

    /// `GetNodesResponse`
    public struct GetNodesResponse: WireMessage {
        public var nodes: [NodeInfo]
        public var registryVersion: Int32

        public init(nodes: [NodeInfo] = [], registryVersion: Int32 = 0) {
            self.nodes = nodes
            self.registryVersion = registryVersion
        }
    }

    /// `GetLeaderRequest`
    public struct GetLeaderRequest: WireMessage {
        public init() {}
    }

    /// `GetLeaderResponse`
    public struct GetLeaderResponse: WireMessage {
        public var leader: NodeInfo?
        public var registryVersion: Int32
        public var message: String

        public init(leader: NodeInfo? = nil, registryVersion: Int32 = 0, message: String = "") {
            self.leader = leader
            self.registryVersion = registryVersion
            self.message = message
        }
    }

    /// `UpdateLeaderRequest`
    public struct UpdateLeaderRequest: WireMessage {
        public var leaderId: Int32

        public init(leaderId: Int32 = 0) {
            self.leaderId = leaderId
        }
    }

    /// `UpdateLeaderResponse`
    public struct UpdateLeaderResponse: WireMessage {
        /// "updated", or "failed" when the node is not registered.
        public var status: String
        public var leaderId: Int32
        public var message: String

        public init(status: String = "", leaderId: Int32 = 0, message: String = "") {
            self.status = status
            self.leaderId = leaderId
            self.message = message
        }
    }

    /// `HeartbeatRequest`
    public struct HeartbeatRequest: WireMessage {
        public var nodeId: Int32

        public init(nodeId: Int32 = 0) {
            self.nodeId = nodeId
        }
    }

    /// `HeartbeatResponse`
    public struct HeartbeatResponse: WireMessage {
        /// "acknowledged", or "not_found" for an unknown node.
        public var status: String
        public var registryVersion: Int32

        public init(status: String = "", registryVersion: Int32 = 0) {
            self.status = status
            self.registryVersion = registryVersion
        }
    }

    /// `HealthCheckRequest` (the compat service's own, not grpc.health.v1's)
    public struct HealthCheckRequest: WireMessage {
        public init() {}
    }

    /// `HealthCheckResponse` (the compat service's own, not grpc.health.v1's)
    public struct HealthCheckResponse: WireMessage {
        public var status: String
        public var timestamp: Double
        public var version: String

        public init(status: String = "", timestamp: Double = 0, version: String = "") {
            self.status = status
            self.timestamp = timestamp
            self.version = version
        }
    }

    /// `RemoveNodeRequest`
    public struct RemoveNodeRequest: WireMessage {
        public var nodeId: Int32

        public init(nodeId: Int32 = 0) {
            self.nodeId = nodeId
        }
    }

    /// `RemoveNodeResponse`
    public struct RemoveNodeResponse: WireMessage {
        /// "removed", or "not_found".
        public var status: String
        public var nodeId: Int32
        public var message: String

        public init(status: String = "", nodeId: Int32 = 0, message: String = "") {
            self.status = status
            self.nodeId = nodeId
            self.message = message
        }
    }

    /// `GetStatsRequest`
    public struct GetStatsRequest: WireMessage {
        public init() {}
    }

    /// `GetStatsResponse`
    public struct GetStatsResponse: WireMessage {
        public var totalNodes: Int32
        public var activeNodes: Int32
        public var leaderId: Int32
        public var registryVersion: Int32
        public var bootstrapInitiated: Bool
        public var uptime: Double

        public init(
            totalNodes: Int32 = 0,
            activeNodes: Int32 = 0,
            leaderId: Int32 = 0,
            registryVersion: Int32 = 0,
            bootstrapInitiated: Bool = false,
            uptime: Double = 0
        ) {
            self.totalNodes = totalNodes
            self.activeNodes = activeNodes
            self.leaderId = leaderId
            self.registryVersion = registryVersion
            self.bootstrapInitiated = bootstrapInitiated
            self.uptime = uptime
        }
    }
}
