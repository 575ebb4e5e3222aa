import Discovery
import GossipRPC
import GossipWire

/// The `GatewayService` the existing Python GossipFL nodes call (no proto
/// package; int32 node IDs), served from the same registry as gateway.v1.
/// Its answers follow the Python reference gateway: "registered"/"updated",
/// "acknowledged"/"not_found", "updated"/"failed", "removed"/"not_found".
/// Nodes registered through gateway.v1 with non-numeric IDs have no int32
/// form and are left out of this service's answers.
enum CompatGatewayService {
    typealias C = CompatGateway
    static let name = "GatewayService"
    static let version = "1.0.0"

    static func make(_ state: GatewayState) -> Service {
        var service = Service(name: name)
        service.checkedUnary("RegisterNode") { (request: C.RegisterNodeRequest) in
            let registration = try registration(from: request)
            let outcome = try await state.change { registry, now in
                try mapRegistryError { () throws(RegistryError) in
                    try registry.register(registration, now: now) { ClusterName.make() }
                }
            }
            // As the Python reference: only a new registration can be told to bootstrap.
            // (Python nodes send no membership reports, so a repeat could split the cluster.)
            // All other nodes, as the reference does: Python nodes build their peer table
            // from this list (gateway.v1 answers a bounded sample instead).
            let (nodes, leader) = state.read { registry, now in
                (registry.peers(excluding: registration.nodeID, now: now).compactMap(nodeInfo), leaderInfo(registry, now: now))
            }
            return C.RegisterNodeResponse(
                status: outcome.status.rawValue, nodeId: request.nodeId,
                isBootstrap: outcome.bootstrap && outcome.status == .registered,
                registryVersion: clamp(outcome.version), nodes: nodes, leader: leader,
                message: "Registration successful")
        }
        service.unary("GetNodes") { (request: C.GetNodesRequest, _) in
            state.read { registry, now in
                let excluded = request.requestingNodeId != 0 ? String(request.requestingNodeId) : nil
                return C.GetNodesResponse(nodes: registry.peers(excluding: excluded, now: now).compactMap(nodeInfo),
                                          registryVersion: clamp(registry.version))
            }
        }
        service.unary("GetLeader") { (_: C.GetLeaderRequest, _) in
            state.read { registry, now in
                let leader = leaderInfo(registry, now: now)
                return C.GetLeaderResponse(leader: leader, registryVersion: clamp(registry.version),
                                           message: leader == nil ? "No leader registered" : "Leader found")
            }
        }
        service.checkedUnary("UpdateLeader") { (request: C.UpdateLeaderRequest) in
            let updated = try await state.change { registry, now in
                registry.setLeader(nodeID: String(request.leaderId), now: now)
            }
            return C.UpdateLeaderResponse(status: updated ? "updated" : "failed", leaderId: request.leaderId,
                                          message: updated ? "Leader updated successfully" : "Leader not found in registry")
        }
        service.checkedUnary("Heartbeat") { (request: C.HeartbeatRequest) in
            let known = try await state.change { registry, now in registry.heartbeat(nodeID: String(request.nodeId), now: now) }
            let version = state.read { registry, _ in registry.version }
            return known ? C.HeartbeatResponse(status: "acknowledged", registryVersion: clamp(version))
                         : C.HeartbeatResponse(status: "not_found")
        }
        service.unary("HealthCheck") { (_: C.HealthCheckRequest, _) in
            C.HealthCheckResponse(status: "healthy", timestamp: state.clock(), version: version)
        }
        service.checkedUnary("RemoveNode") { (request: C.RemoveNodeRequest) in
            let removed = try await state.change { registry, now in registry.deregister(nodeID: String(request.nodeId), now: now) }
            return C.RemoveNodeResponse(status: removed ? "removed" : "not_found", nodeId: request.nodeId,
                                        message: removed ? "Node removed successfully" : "Node not found")
        }
        service.unary("GetStats") { (_: C.GetStatsRequest, _) in
            state.read { registry, now in
                C.GetStatsResponse(
                    totalNodes: clamp(UInt64(registry.nodes.count)),
                    activeNodes: clamp(UInt64(registry.nodes.values.filter(\.confirmed).count)),
                    leaderId: registry.leader.flatMap { Int32($0.nodeID) } ?? 0,
                    registryVersion: clamp(registry.version), bootstrapInitiated: registry.bootstrapInitiated,
                    uptime: max(0, now - state.startedAt))
            }
        }
        return service
    }

    static func registration(from request: C.RegisterNodeRequest) throws -> Registration {
        guard request.nodeId > 0 else { throw RPCError(.invalidArgument, "node_id must be positive, got \(request.nodeId)") }
        let registration = Registration(
            nodeID: String(request.nodeId), address: NodeAddress(host: request.ipAddress, port: Int(request.port)),
            capabilities: request.capabilities, metadata: request.metadata)
        try check { () throws(RegistrationValidation.Failure) in
            try RegistrationValidation.checkAddress(host: request.ipAddress, port: Int(request.port), field: "ip_address/port")
            try RegistrationValidation.checkCapabilities(request.capabilities)
            try RegistrationValidation.checkMetadata(request.metadata)
        }
        return registration
    }

    /// The compat form of a node; nil when its ID is not an int32.
    static func nodeInfo(_ view: NodeView) -> C.NodeInfo? {
        guard let id = Int32(view.record.nodeID) else { return nil }
        return C.NodeInfo(
            nodeId: id, ipAddress: view.record.address.host, port: Int32(view.record.address.port),
            capabilities: view.record.capabilities, status: view.stale ? "suspected" : "active",
            lastSeen: view.record.lastSeen, joinTimestamp: view.record.joinedAt, metadata: view.record.metadata)
    }

    /// The leader as a registered node, as the Python reference answers it.
    static func leaderInfo(_ registry: Registry, now: Double) -> C.NodeInfo? {
        guard let leader = registry.leader, let record = registry.nodes[leader.nodeID] else { return nil }
        return nodeInfo(NodeView(record: record, ageSeconds: max(0, now - record.lastSeen), stale: !record.confirmed))
    }

    static func clamp(_ value: UInt64) -> Int32 { Int32(clamping: value) }
}
