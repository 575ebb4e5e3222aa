internal import CProtos

// Field-by-field mapping between the GatewayV1 value types and protoc-c's structs.

extension GatewayV1.NodeAddress: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__NodeAddress>) {
        gateway__v1__node_address__init(c)
    }

    init(c: Gateway__V1__NodeAddress) throws {
        self.init(host: try decodeString(c.host), port: c.port)
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__NodeAddress>, in arena: CArena) {
        c.pointee.host = arena.string(host)
        c.pointee.port = port
    }
}

extension GatewayV1.NodeEntry: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__NodeEntry>) { gateway__v1__node_entry__init(c) }

    init(c: Gateway__V1__NodeEntry) throws {
        self.init(
            nodeId: try decodeString(c.node_id),
            address: try GatewayV1.NodeAddress.decode(c.address),
            capabilities: try decodeStrings(c.capabilities, count: c.n_capabilities),
            ageSeconds: c.age_seconds,
            stale: c.stale != 0
        )
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__NodeEntry>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.address = arena.message(address)
        (c.pointee.n_capabilities, c.pointee.capabilities) = arena.strings(capabilities)
        c.pointee.age_seconds = ageSeconds
        c.pointee.stale = stale ? 1 : 0
    }
}

extension GatewayV1.LeaderHint: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__LeaderHint>) {
        gateway__v1__leader_hint__init(c)
    }

    init(c: Gateway__V1__LeaderHint) throws {
        self.init(
            nodeId: try decodeString(c.node_id),
            term: c.term,
            address: try GatewayV1.NodeAddress.decode(c.address),
            ageSeconds: c.age_seconds,
            stale: c.stale != 0
        )
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__LeaderHint>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.term = term
        c.pointee.address = arena.message(address)
        c.pointee.age_seconds = ageSeconds
        c.pointee.stale = stale ? 1 : 0
    }
}

extension GatewayV1.RegisterRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__RegisterRequest>) {
        gateway__v1__register_request__init(c)
    }

    init(c: Gateway__V1__RegisterRequest) throws {
        self.init(
            nodeId: try decodeString(c.node_id),
            address: try GatewayV1.NodeAddress.decode(c.address),
            capabilities: try decodeStrings(c.capabilities, count: c.n_capabilities),
            clusterId: try decodeString(c.cluster_id)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__RegisterRequest>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.address = arena.message(address)
        (c.pointee.n_capabilities, c.pointee.capabilities) = arena.strings(capabilities)
        c.pointee.cluster_id = arena.string(clusterId)
    }
}

extension GatewayV1.RegisterResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__RegisterResponse>) {
        gateway__v1__register_response__init(c)
    }

    init(c: Gateway__V1__RegisterResponse) throws {
        self.init(
            bootstrap: c.bootstrap != 0,
            peers: try GatewayV1.NodeEntry.decodeAll(c.peers, count: c.n_peers),
            leader: try GatewayV1.LeaderHint.decode(c.leader),
            leaseSeconds: c.lease_seconds,
            clusterId: try decodeString(c.cluster_id),
            registryVersion: c.registry_version
        )
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__RegisterResponse>, in arena: CArena) {
        c.pointee.bootstrap = bootstrap ? 1 : 0
        (c.pointee.n_peers, c.pointee.peers) = arena.messages(peers)
        c.pointee.leader = arena.message(leader)
        c.pointee.lease_seconds = leaseSeconds
        c.pointee.cluster_id = arena.string(clusterId)
        c.pointee.registry_version = registryVersion
    }
}

extension GatewayV1.HeartbeatRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__HeartbeatRequest>) {
        gateway__v1__heartbeat_request__init(c)
    }

    init(c: Gateway__V1__HeartbeatRequest) throws {
        self.init(nodeId: try decodeString(c.node_id))
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__HeartbeatRequest>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
    }
}

extension GatewayV1.HeartbeatResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__HeartbeatResponse>) {
        gateway__v1__heartbeat_response__init(c)
    }

    init(c: Gateway__V1__HeartbeatResponse) throws {
        self.init(leaseSeconds: c.lease_seconds, known: c.known != 0)
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__HeartbeatResponse>, in arena: CArena) {
        c.pointee.lease_seconds = leaseSeconds
        c.pointee.known = known ? 1 : 0
    }
}

extension GatewayV1.DeregisterRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__DeregisterRequest>) {
        gateway__v1__deregister_request__init(c)
    }

    init(c: Gateway__V1__DeregisterRequest) throws {
        self.init(nodeId: try decodeString(c.node_id))
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__DeregisterRequest>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
    }
}

extension GatewayV1.DeregisterResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__DeregisterResponse>) {
        gateway__v1__deregister_response__init(c)
    }

    init(c: Gateway__V1__DeregisterResponse) throws {
        self.init(removed: c.removed != 0)
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__DeregisterResponse>, in arena: CArena) {
        c.pointee.removed = removed ? 1 : 0
    }
}

extension GatewayV1.ListPeersRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__ListPeersRequest>) {
        gateway__v1__list_peers_request__init(c)
    }

    init(c: Gateway__V1__ListPeersRequest) {}

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__ListPeersRequest>, in arena: CArena) {}
}

extension GatewayV1.ListPeersResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__ListPeersResponse>) {
        gateway__v1__list_peers_response__init(c)
    }

    init(c: Gateway__V1__ListPeersResponse) throws {
        self.init(
            peers: try GatewayV1.NodeEntry.decodeAll(c.peers, count: c.n_peers),
            registryVersion: c.registry_version
        )
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__ListPeersResponse>, in arena: CArena) {
        (c.pointee.n_peers, c.pointee.peers) = arena.messages(peers)
        c.pointee.registry_version = registryVersion
    }
}

extension GatewayV1.GetLeaderRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__GetLeaderRequest>) {
        gateway__v1__get_leader_request__init(c)
    }

    init(c: Gateway__V1__GetLeaderRequest) {}

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__GetLeaderRequest>, in arena: CArena) {}
}

extension GatewayV1.GetLeaderResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__GetLeaderResponse>) {
        gateway__v1__get_leader_response__init(c)
    }

    init(c: Gateway__V1__GetLeaderResponse) throws {
        self.init(leader: try GatewayV1.LeaderHint.decode(c.leader))
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__GetLeaderResponse>, in arena: CArena) {
        c.pointee.leader = arena.message(leader)
    }
}

extension GatewayV1.ReportMembershipRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__ReportMembershipRequest>) {
        gateway__v1__report_membership_request__init(c)
    }

    init(c: Gateway__V1__ReportMembershipRequest) throws {
        self.init(
            reporterId: try decodeString(c.reporter_id),
            leaderId: try decodeString(c.leader_id),
            term: c.term,
            members: try GatewayV1.NodeEntry.decodeAll(c.members, count: c.n_members),
            reportedAtUnix: c.reported_at_unix,
            clusterId: try decodeString(c.cluster_id)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__ReportMembershipRequest>, in arena: CArena) {
        c.pointee.reporter_id = arena.string(reporterId)
        c.pointee.leader_id = arena.string(leaderId)
        c.pointee.term = term
        (c.pointee.n_members, c.pointee.members) = arena.messages(members)
        c.pointee.reported_at_unix = reportedAtUnix
        c.pointee.cluster_id = arena.string(clusterId)
    }
}

extension GatewayV1.ReportMembershipResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gateway__V1__ReportMembershipResponse>) {
        gateway__v1__report_membership_response__init(c)
    }

    init(c: Gateway__V1__ReportMembershipResponse) throws {
        self.init(accepted: c.accepted != 0, reason: try decodeString(c.reason))
    }

    func fill(_ c: UnsafeMutablePointer<Gateway__V1__ReportMembershipResponse>, in arena: CArena) {
        c.pointee.accepted = accepted ? 1 : 0
        c.pointee.reason = arena.string(reason)
    }
}
