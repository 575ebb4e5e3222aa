internal import CProtos

// Field-by-field mapping between the CompatGateway value types and protoc-c's
// structs. The proto has no package, so the C names are bare and some
// (`NodeInfo`, `HeartbeatRequest`, ...) equal the Swift ones: C types are
// written `CProtos.X` to say which is meant.

extension CompatGateway.NodeInfo: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.NodeInfo>) { node_info__init(c) }

    init(c: CProtos.NodeInfo) throws {
        self.init(
            nodeId: c.node_id,
            ipAddress: try decodeString(c.ip_address),
            port: c.port,
            capabilities: try decodeStrings(c.capabilities, count: c.n_capabilities),
            status: try decodeString(c.status),
            lastSeen: c.last_seen,
            joinTimestamp: c.join_timestamp,
            metadata: try MetadataEntry.decodeMap(c.metadata, count: c.n_metadata)
        )
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.NodeInfo>, in arena: CArena) {
        c.pointee.node_id = nodeId
        c.pointee.ip_address = arena.string(ipAddress)
        c.pointee.port = port
        (c.pointee.n_capabilities, c.pointee.capabilities) = arena.strings(capabilities)
        c.pointee.status = arena.string(status)
        c.pointee.last_seen = lastSeen
        c.pointee.join_timestamp = joinTimestamp
        (c.pointee.n_metadata, c.pointee.metadata) = arena.messages(MetadataEntry.entries(of: metadata))
    }
}

extension CompatGateway.RegisterNodeRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.RegisterNodeRequest>) { register_node_request__init(c) }

    init(c: CProtos.RegisterNodeRequest) throws {
        self.init(
            nodeId: c.node_id,
            ipAddress: try decodeString(c.ip_address),
            port: c.port,
            capabilities: try decodeStrings(c.capabilities, count: c.n_capabilities),
            metadata: try MetadataEntry.decodeMap(c.metadata, count: c.n_metadata)
        )
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.RegisterNodeRequest>, in arena: CArena) {
        c.pointee.node_id = nodeId
        c.pointee.ip_address = arena.string(ipAddress)
        c.pointee.port = port
        (c.pointee.n_capabilities, c.pointee.capabilities) = arena.strings(capabilities)
        (c.pointee.n_metadata, c.pointee.metadata) = arena.messages(MetadataEntry.entries(of: metadata))
    }
}

extension CompatGateway.RegisterNodeResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.RegisterNodeResponse>) { register_node_response__init(c) }

    init(c: CProtos.RegisterNodeResponse) throws {
        self.init(
            status: try decodeString(c.status),
            nodeId: c.node_id,
            isBootstrap: c.is_bootstrap != 0,
            registryVersion: c.registry_version,
            nodes: try CompatGateway.NodeInfo.decodeAll(c.nodes, count: c.n_nodes),
            leader: try CompatGateway.NodeInfo.decode(c.leader),
            message: try decodeString(c.message)
        )
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.RegisterNodeResponse>, in arena: CArena) {
        c.pointee.status = arena.string(status)
        c.pointee.node_id = nodeId
        c.pointee.is_bootstrap = isBootstrap ? 1 : 0
        c.pointee.registry_version = registryVersion
        (c.pointee.n_nodes, c.pointee.nodes) = arena.messages(nodes)
        c.pointee.leader = arena.message(leader)
        c.pointee.message = arena.string(message)
    }
}

extension CompatGateway.GetNodesRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.GetNodesRequest>) { get_nodes_request__init(c) }

    init(c: CProtos.GetNodesRequest) {
        self.init(requestingNodeId: c.requesting_node_id)
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.GetNodesRequest>, in arena: CArena) {
        c.pointee.requesting_node_id = requestingNodeId
    }
}

extension CompatGateway.GetNodesResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.GetNodesResponse>) { get_nodes_response__init(c) }

    init(c: CProtos.GetNodesResponse) throws {
        self.init(
            nodes: try CompatGateway.NodeInfo.decodeAll(c.nodes, count: c.n_nodes),
            registryVersion: c.registry_version
        )
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.GetNodesResponse>, in arena: CArena) {
        (c.pointee.n_nodes, c.pointee.nodes) = arena.messages(nodes)
        c.pointee.registry_version = registryVersion
    }
}

extension CompatGateway.GetLeaderRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.GetLeaderRequest>) { get_leader_request__init(c) }

    init(c: CProtos.GetLeaderRequest) {}

    func fill(_ c: UnsafeMutablePointer<CProtos.GetLeaderRequest>, in arena: CArena) {}
}

extension CompatGateway.GetLeaderResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.GetLeaderResponse>) { get_leader_response__init(c) }

    init(c: CProtos.GetLeaderResponse) throws {
        self.init(
            leader: try CompatGateway.NodeInfo.decode(c.leader),
            registryVersion: c.registry_version,
            message: try decodeString(c.message)
        )
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.GetLeaderResponse>, in arena: CArena) {
        c.pointee.leader = arena.message(leader)
        c.pointee.registry_version = registryVersion
        c.pointee.message = arena.string(message)
    }
}

extension CompatGateway.UpdateLeaderRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.UpdateLeaderRequest>) { update_leader_request__init(c) }

    init(c: CProtos.UpdateLeaderRequest) {
        self.init(leaderId: c.leader_id)
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.UpdateLeaderRequest>, in arena: CArena) {
        c.pointee.leader_id = leaderId
    }
}

extension CompatGateway.UpdateLeaderResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.UpdateLeaderResponse>) { update_leader_response__init(c) }

    init(c: CProtos.UpdateLeaderResponse) throws {
        self.init(status: try decodeString(c.status), leaderId: c.leader_id, message: try decodeString(c.message))
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.UpdateLeaderResponse>, in arena: CArena) {
        c.pointee.status = arena.string(status)
        c.pointee.leader_id = leaderId
        c.pointee.message = arena.string(message)
    }
}

extension CompatGateway.HeartbeatRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.HeartbeatRequest>) { heartbeat_request__init(c) }

    init(c: CProtos.HeartbeatRequest) {
        self.init(nodeId: c.node_id)
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.HeartbeatRequest>, in arena: CArena) {
        c.pointee.node_id = nodeId
    }
}

extension CompatGateway.HeartbeatResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.HeartbeatResponse>) { heartbeat_response__init(c) }

    init(c: CProtos.HeartbeatResponse) throws {
        self.init(status: try decodeString(c.status), registryVersion: c.registry_version)
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.HeartbeatResponse>, in arena: CArena) {
        c.pointee.status = arena.string(status)
        c.pointee.registry_version = registryVersion
    }
}

extension CompatGateway.HealthCheckRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.HealthCheckRequest>) { health_check_request__init(c) }

    init(c: CProtos.HealthCheckRequest) {}

    func fill(_ c: UnsafeMutablePointer<CProtos.HealthCheckRequest>, in arena: CArena) {}
}

extension CompatGateway.HealthCheckResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.HealthCheckResponse>) { health_check_response__init(c) }

    init(c: CProtos.HealthCheckResponse) throws {
        self.init(status: try decodeString(c.status), timestamp: c.timestamp, version: try decodeString(c.version))
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.HealthCheckResponse>, in arena: CArena) {
        c.pointee.status = arena.string(status)
        c.pointee.timestamp = timestamp
        c.pointee.version = arena.string(version)
    }
}

extension CompatGateway.RemoveNodeRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.RemoveNodeRequest>) { remove_node_request__init(c) }

    init(c: CProtos.RemoveNodeRequest) {
        self.init(nodeId: c.node_id)
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.RemoveNodeRequest>, in arena: CArena) {
        c.pointee.node_id = nodeId
    }
}

extension CompatGateway.RemoveNodeResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.RemoveNodeResponse>) { remove_node_response__init(c) }

    init(c: CProtos.RemoveNodeResponse) throws {
        self.init(status: try decodeString(c.status), nodeId: c.node_id, message: try decodeString(c.message))
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.RemoveNodeResponse>, in arena: CArena) {
        c.pointee.status = arena.string(status)
        c.pointee.node_id = nodeId
        c.pointee.message = arena.string(message)
    }
}

extension CompatGateway.GetStatsRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.GetStatsRequest>) { get_stats_request__init(c) }

    init(c: CProtos.GetStatsRequest) {}

    func fill(_ c: UnsafeMutablePointer<CProtos.GetStatsRequest>, in arena: CArena) {}
}

extension CompatGateway.GetStatsResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<CProtos.GetStatsResponse>) { get_stats_response__init(c) }

    init(c: CProtos.GetStatsResponse) {
        self.init(
            totalNodes: c.total_nodes,
            activeNodes: c.active_nodes,
            leaderId: c.leader_id,
            registryVersion: c.registry_version,
            bootstrapInitiated: c.bootstrap_initiated != 0,
            uptime: c.uptime
        )
    }

    func fill(_ c: UnsafeMutablePointer<CProtos.GetStatsResponse>, in arena: CArena) {
        c.pointee.total_nodes = totalNodes
        c.pointee.active_nodes = activeNodes
        c.pointee.leader_id = leaderId
        c.pointee.registry_version = registryVersion
        c.pointee.bootstrap_initiated = bootstrapInitiated ? 1 : 0
        c.pointee.uptime = uptime
    }
}

// MARK: metadata maps

/// One entry of a `map<string, string>` field. To protobuf-c a map is a
/// repeated entry message, and each map field has its own entry C type.
protocol StringMapEntry: ProtobufCBacked {
    var key: String { get }
    var value: String { get }
    init(key: String, value: String)
}

extension StringMapEntry {
    /// Entries sorted by key (UTF-8 bytes) so the encoding is deterministic.
    static func entries(of map: [String: String]) -> [Self] {
        map.map { Self(key: $0.key, value: $0.value) }
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// A key repeated on the wire keeps its last value, as in other runtimes.
    static func decodeMap(
        _ c: UnsafePointer<UnsafeMutablePointer<CMessage>?>?, count: Int
    ) throws -> [String: String] {
        let entries = try decodeAll(c, count: count)
        return Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}

extension CompatGateway.NodeInfo {
    /// One `NodeInfo.metadata` entry.
    struct MetadataEntry: StringMapEntry {
        var key: String
        var value: String

        init(key: String, value: String) {
            self.key = key
            self.value = value
        }

        static func cInit(_ c: UnsafeMutablePointer<NodeInfo__MetadataEntry>) { node_info__metadata_entry__init(c) }

        init(c: NodeInfo__MetadataEntry) throws {
            self.init(key: try decodeString(c.key), value: try decodeString(c.value))
        }

        func fill(_ c: UnsafeMutablePointer<NodeInfo__MetadataEntry>, in arena: CArena) {
            c.pointee.key = arena.string(key)
            c.pointee.value = arena.string(value)
        }
    }
}

extension CompatGateway.RegisterNodeRequest {
    /// One `RegisterNodeRequest.metadata` entry.
    struct MetadataEntry: StringMapEntry {
        var key: String
        var value: String

        init(key: String, value: String) {
            self.key = key
            self.value = value
        }

        static func cInit(_ c: UnsafeMutablePointer<RegisterNodeRequest__MetadataEntry>) {
            register_node_request__metadata_entry__init(c)
        }

        init(c: RegisterNodeRequest__MetadataEntry) throws {
            self.init(key: try decodeString(c.key), value: try decodeString(c.value))
        }

        func fill(_ c: UnsafeMutablePointer<RegisterNodeRequest__MetadataEntry>, in arena: CArena) {
            c.pointee.key = arena.string(key)
            c.pointee.value = arena.string(value)
        }
    }
}
