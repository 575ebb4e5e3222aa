import Discovery
import GossipRPC
import GossipWire

/// `gateway.v1.Gateway` on the shared registry. Requests are validated
/// before they touch the registry, so a bad one changes nothing. With mutual
/// TLS, a node ID is registered, renewed, removed or reported for only by the
/// holder of that node's certificate; reads are open.
enum GatewayV1Service {
    typealias G = GatewayV1
    static let name = "gateway.v1.Gateway"

    static func make(_ state: GatewayState) -> Service {
        var service = Service(name: name)
        let lease = UInt32(state.read { registry, _ in registry.config.leaseSeconds })
        service.checkedUnary("Register", rejectingUnknownFields: true) { (request: G.RegisterRequest, context) in
            try context.authorize("register \(request.nodeId)", asNode: request.nodeId)
            let registration = try registration(from: request)
            let outcome = try await state.change { registry, now in
                try mapRegistryError { () throws(RegistryError) in
                    try registry.register(registration, now: now) { ClusterName.make() }
                }
            }
            return G.RegisterResponse(
                bootstrap: outcome.bootstrap, peers: outcome.peers.map(entry), leader: outcome.leader.map(hint),
                leaseSeconds: lease, clusterId: outcome.clusterID ?? "", registryVersion: outcome.version)
        }
        service.checkedUnary("Heartbeat", rejectingUnknownFields: true) { (request: G.HeartbeatRequest, context) in
            try context.authorize("renew the lease of \(request.nodeId)", asNode: request.nodeId)
            try check { () throws(RegistrationValidation.Failure) in try RegistrationValidation.checkNodeID(request.nodeId) }
            // A lease renewal alone writes nothing (the journal leaves those out), so this rarely waits.
            let known = try await state.change { registry, now in registry.heartbeat(nodeID: request.nodeId, now: now) }
            return G.HeartbeatResponse(leaseSeconds: lease, known: known)
        }
        service.checkedUnary("Deregister", rejectingUnknownFields: true) { (request: G.DeregisterRequest, context) in
            try context.authorize("deregister \(request.nodeId)", asNode: request.nodeId, orAdmin: true)
            try check { () throws(RegistrationValidation.Failure) in try RegistrationValidation.checkNodeID(request.nodeId) }
            let removed = try await state.change { registry, now in registry.deregister(nodeID: request.nodeId, now: now) }
            return G.DeregisterResponse(removed: removed)
        }
        service.unary("ListPeers", rejectingUnknownFields: true) { (_: G.ListPeersRequest, _) in
            state.read { registry, now in
                G.ListPeersResponse(peers: registry.peers(now: now).map(entry), registryVersion: registry.version)
            }
        }
        service.unary("GetLeader", rejectingUnknownFields: true) { (_: G.GetLeaderRequest, _) in
            state.read { registry, now in G.GetLeaderResponse(leader: registry.leaderView(now: now).map(hint)) }
        }
        service.checkedUnary("ReportMembership", rejectingUnknownFields: true) { (request: G.ReportMembershipRequest, context) in
            try context.authorize("report membership as \(request.reporterId)", asNode: request.reporterId)
            if context.verifiesClients {
                // Only the leader reports, about itself, as one of the members it lists, and only a
                // current member (listed by the last accepted report, or the bootstrap node) may
                // speak for the cluster.
                guard request.leaderId.isEmpty || request.leaderId == request.reporterId else {
                    throw RPCError(.permissionDenied, "\(request.reporterId) may report only itself as leader")
                }
                guard request.members.contains(where: { $0.nodeId == request.reporterId }) else {
                    throw RPCError(.permissionDenied, "\(request.reporterId) does not list itself among the members it reports")
                }
                guard state.read({ registry, _ in registry.mayReport(request.reporterId) }) else {
                    throw RPCError(.permissionDenied, "\(request.reporterId) is not a current member of the cluster")
                }
            }
            let report = try membershipReport(from: request)
            let outcome = try await state.change { registry, now in registry.applyReport(report, now: now) }
            switch outcome {
            case .accepted: return G.ReportMembershipResponse(accepted: true)
            case .rejected(let reason): return G.ReportMembershipResponse(accepted: false, reason: reason)
            }
        }
        return service
    }

    static func registration(from request: G.RegisterRequest) throws -> Registration {
        guard let address = request.address else { throw RPCError(.invalidArgument, "address is missing") }
        let registration = Registration(
            nodeID: request.nodeId, address: NodeAddress(host: address.host, port: Int(address.port)),
            capabilities: request.capabilities, clusterID: request.clusterId.isEmpty ? nil : request.clusterId)
        try check { () throws(RegistrationValidation.Failure) in try RegistrationValidation.check(registration) }
        return registration
    }

    static func membershipReport(from request: G.ReportMembershipRequest) throws -> MembershipReport {
        try check { () throws(RegistrationValidation.Failure) in
            try RegistrationValidation.checkNodeID(request.reporterId, field: "reporter_id")
            if !request.leaderId.isEmpty { try RegistrationValidation.checkNodeID(request.leaderId, field: "leader_id") }
            try RegistrationValidation.checkTerm(request.term)
            if !request.clusterId.isEmpty { try RegistrationValidation.checkNodeID(request.clusterId, field: "cluster_id") }
            for member in request.members {
                try RegistrationValidation.checkNodeID(member.nodeId, field: "members.node_id")
                if let address = member.address {
                    try RegistrationValidation.checkAddress(host: address.host, port: Int(address.port), field: "members.address")
                }
            }
        }
        guard request.reportedAtUnix.isFinite, request.reportedAtUnix >= 0 else {
            throw RPCError(.invalidArgument, "reported_at_unix must be a non-negative number of seconds")
        }
        guard request.members.count <= 10_000 else { throw RPCError(.invalidArgument, "more than 10000 members") }
        return MembershipReport(
            reporterID: request.reporterId, leaderID: request.leaderId, term: request.term,
            reportedAt: request.reportedAtUnix,
            members: request.members.map { member in
                MembershipReport.Member(nodeID: member.nodeId,
                                        address: member.address.map { NodeAddress(host: $0.host, port: Int($0.port)) })
            },
            clusterID: request.clusterId.isEmpty ? nil : request.clusterId)
    }

    static func entry(_ view: NodeView) -> G.NodeEntry {
        G.NodeEntry(nodeId: view.record.nodeID, address: address(view.record.address),
                    capabilities: view.record.capabilities, ageSeconds: view.ageSeconds, stale: view.stale)
    }

    static func hint(_ view: LeaderView) -> G.LeaderHint {
        G.LeaderHint(nodeId: view.nodeID, term: view.term, address: view.address.map(address),
                     ageSeconds: view.ageSeconds, stale: view.stale)
    }

    static func address(_ address: NodeAddress) -> G.NodeAddress {
        G.NodeAddress(host: address.host, port: UInt32(address.port))
    }
}

/// Runs validation, turning a failure into INVALID_ARGUMENT.
func check(_ body: () throws(RegistrationValidation.Failure) -> Void) throws(RPCError) {
    do {
        try body()
    } catch {
        throw RPCError(.invalidArgument, error.description)
    }
}

extension GatewayState {
    /// `mutate`, with a change the disk refused answered UNAVAILABLE: the
    /// caller may retry, and must not take the change as done.
    func change<R>(_ body: (inout Registry, Double) throws -> R) async throws -> R {
        do {
            return try await mutate(body)
        } catch let error as NotStored {
            logger.warning("answering UNAVAILABLE: \(error)")
            throw RPCError(.unavailable, error.description)
        }
    }
}

/// Maps registry refusals to gRPC statuses.
func mapRegistryError<R>(_ body: () throws(RegistryError) -> R) throws(RPCError) -> R {
    do {
        return try body()
    } catch {
        switch error {
        case .clusterMismatch: throw RPCError(.failedPrecondition, error.description)
        case .full: throw RPCError(.resourceExhausted, error.description)
        }
    }
}

enum ClusterName {
    /// A new cluster's ID: random, and valid as a node-ID-shaped token.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<4).map { _ in String(generator.next() as UInt32, radix: 16) }.joined()
        return "cluster-\(hex)"
    }
}
