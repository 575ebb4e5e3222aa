import Consensus
import Discovery
import GossipRPC
import GossipWire
import Synchronization

/// `raft.v1.Raft`: peers' consensus messages, stepped into the node's core.
/// A request that is not a well-formed Raft message gets INVALID_ARGUMENT and changes nothing.
/// With mutual TLS, a message's claimed sender must be the node whose certificate the caller holds.
public func raftService<Machine: StateMachine>(_ ref: NodeRef<Machine>, maxMessageBytes: Int? = nil) -> Service {
    var service = Service(name: RaftMethods.raftService)
    service.unary("RequestVote") { (request: RaftV1.RequestVoteRequest, context) in
        try context.authorize("send RequestVote as \(request.candidateId)", asNode: request.candidateId)
        let node = try ref.get(), me = node.id
        return WireMapping.voteResponse(await node.deliver(try validated { () throws(RaftWireError) in try WireMapping.message(request, to: me) }))
    }
    service.unary("AppendEntries") { (request: RaftV1.AppendEntriesRequest, context) in
        try context.authorize("send AppendEntries as \(request.leaderId)", asNode: request.leaderId)
        let node = try ref.get(), me = node.id
        return WireMapping.appendResponse(await node.deliver(try validated { () throws(RaftWireError) in try WireMapping.message(request, to: me) }))
    }
    service.clientStreaming("InstallSnapshot") { (chunks: RequestStream<RaftV1.InstallSnapshotRequest>, context) in
        let node = try ref.get(), me = node.id
        var received: [RaftV1.InstallSnapshotRequest] = []
        var bytes = 0
        let limit = node.options.maxSnapshotBytes
        for try await chunk in chunks {
            if received.isEmpty {
                try context.authorize("send InstallSnapshot as \(chunk.leaderId)", asNode: chunk.leaderId)
            } else if chunk.leaderId != received[0].leaderId {
                throw RPCError(.invalidArgument, "InstallSnapshot chunks from different leaders")
            }
            bytes += chunk.data.count
            guard bytes <= limit else {
                throw RPCError(.resourceExhausted, "InstallSnapshot exceeds the limit of \(limit) bytes")
            }
            received.append(chunk)
        }
        let message = try validated { () throws(RaftWireError) in try WireMapping.snapshotMessage(received, to: me) }
        return WireMapping.snapshotResponse(await node.deliver(message))
    }
    service.unary("TimeoutNow") { (request: RaftV1.TimeoutNowRequest, context) in
        try context.authorize("send TimeoutNow as \(request.leaderId)", asNode: request.leaderId)
        let node = try ref.get(), me = node.id
        _ = await node.deliver(try validated { () throws(RaftWireError) in try WireMapping.message(request, to: me) })
        return RaftV1.TimeoutNowResponse(term: await node.softState.term)
    }
    service.unary("ReadIndex") { (request: RaftV1.ReadIndexRequest, context) in
        try context.authorize("send ReadIndex as \(request.fromId)", asNode: request.fromId)
        let node = try ref.get(), me = node.id
        return WireMapping.readIndexResponse(await node.deliver(try validated { () throws(RaftWireError) in try WireMapping.message(request, to: me) }))
    }
    // Its own bound, not only the server's: a training peer's server takes larger gossip messages.
    if let maxMessageBytes { service.limitRequests(to: maxMessageBytes) }
    return service
}

/// `raft.v1.Cluster`: membership, proposals and status for nodes and operators.
/// Followers answer Join/Leave/Propose with where the leader is instead of forwarding.
/// With mutual TLS: a node joins or leaves only as itself (an admin certificate may do either
/// for anyone), proposals need a node or admin certificate, Status is open.
public func clusterService<Machine: StateMachine>(_ ref: NodeRef<Machine>, maxRequestBytes: Int = RaftNodeOptions().maxRequestBytes) -> Service {
    var service = Service(name: RaftMethods.clusterService)
    service.unary("Join") { (request: RaftV1.JoinRequest, context) in
        try context.authorize("join as \(request.nodeId)", asNode: request.nodeId, orAdmin: true)
        let node = try ref.get()
        try checkMember(request.nodeId, address: request.address)
        switch await node.addMember(request.nodeId, address: request.address) {
        case .success:
            return RaftV1.JoinResponse(accepted: true, leaderId: node.id, leaderAddress: node.address,
                                       members: members(await node.clusterConfig))
        case .failure(.notLeader(let id, let address)):
            return RaftV1.JoinResponse(accepted: false, leaderId: id ?? "", leaderAddress: address ?? "",
                                       members: members(await node.clusterConfig))
        case .failure(let error):
            throw rpcError(error)
        }
    }
    service.unary("Leave") { (request: RaftV1.LeaveRequest, context) in
        try context.authorize("remove \(request.nodeId)", asNode: request.nodeId, orAdmin: true)
        let node = try ref.get()
        try checkMember(request.nodeId)
        switch await node.removeMember(request.nodeId) {
        case .success:
            return RaftV1.LeaveResponse(accepted: true, leaderId: node.id, leaderAddress: node.address)
        case .failure(.notLeader(let id, let address)):
            return RaftV1.LeaveResponse(accepted: false, leaderId: id ?? "", leaderAddress: address ?? "")
        case .failure(let error):
            throw rpcError(error)
        }
    }
    service.unary("Propose") { (request: RaftV1.ProposeRequest, context) in
        try context.authorize("propose") { $0.role == .node || $0.role == .admin }
        let node = try ref.get()
        switch await node.propose(request.data) {
        case .success(let position):
            return RaftV1.ProposeResponse(committed: true, index: position.index, term: position.term,
                                          leaderId: node.id, leaderAddress: node.address)
        case .failure(.notLeader(let id, let address)):
            return RaftV1.ProposeResponse(committed: false, leaderId: id ?? "", leaderAddress: address ?? "")
        case .failure(let error):
            throw rpcError(error)
        }
    }
    service.unary("Status") { (request: RaftV1.StatusRequest, _) in
        let node = try ref.get()
        if request.linearizable, case .failure(let error) = await node.linearizableRead() { throw rpcError(error) }
        let status = await node.status
        let leader = await node.leaderHint
        return RaftV1.StatusResponse(
            nodeId: status.id, term: status.term, leaderId: status.leader ?? "", commitIndex: status.commit,
            appliedIndex: status.applied, members: members(status.config), role: status.role.rawValue,
            lastIndex: status.lastIndex, leaderAddress: leader?.address ?? "", snapshotIndex: status.snapshotIndex)
    }
    service.unary("ReadEntries") { (request: RaftV1.ReadEntriesRequest, context) in
        try context.authorize("read the log") { $0.role == .node || $0.role == .admin }
        let node = try ref.get()
        let maxEntries = request.maxEntries == 0 ? 256 : Int(min(request.maxEntries, 4096))
        let maxBytes = request.maxBytes == 0 ? 1 << 20 : Int(min(request.maxBytes, 1 << 20))
        let page = await node.readCommitted(from: request.fromIndex, maxCount: maxEntries, maxBytes: maxBytes)
        guard let entries = page.entries else {
            throw RPCError(.failedPrecondition, "entries below \(page.first) are compacted into the snapshot")
        }
        let next = (entries.last?.index).map { $0 + 1 } ?? page.from
        return RaftV1.ReadEntriesResponse(entries: entries.map(WireMapping.entry), nextIndex: next,
                                          commitIndex: page.commit, firstIndex: page.first)
    }
    // Membership and status requests are a few hundred bytes; only Propose carries data.
    for method in ["Join", "Leave", "Status", "ReadEntries"] { service.limitRequests(of: method, to: 16 << 10) }
    service.limitRequests(of: "Propose", to: maxRequestBytes + (1 << 10))
    return service
}

func members(_ config: ClusterConfig) -> [RaftV1.Member] { WireMapping.config(config).members }

func rpcError(_ error: RaftNodeError) -> RPCError {
    switch error {
    case .notLeader: RPCError(.unavailable, "\(error)")
    case .lost: RPCError(.aborted, "\(error)")
    case .timedOut: RPCError(.deadlineExceeded, "\(error)")
    case .busy: RPCError(.unavailable, "\(error)")
    case .removed: RPCError(.permissionDenied, "\(error)")
    case .rejected: RPCError(.failedPrecondition, "\(error)")
    case .tooLarge: RPCError(.resourceExhausted, "\(error)")
    case .stopped, .storageFailed: RPCError(.unavailable, "\(error)")
    }
}

/// The gateway's rules for node IDs and addresses; a failure is INVALID_ARGUMENT naming the field.
private func checkMember(_ nodeID: String, address: String? = nil) throws {
    do {
        try RegistrationValidation.checkNodeID(nodeID)
        if let address {
            guard let parsed = PeerAddress(address) else {
                throw RPCError(.invalidArgument, "address \(address.debugDescription) is not host:port")
            }
            try RegistrationValidation.checkAddress(host: parsed.host, port: parsed.port)
        }
    } catch let failure as RegistrationValidation.Failure {
        throw RPCError(.invalidArgument, failure.description)
    }
}

/// A request that is not a Raft message a correct peer could send gets INVALID_ARGUMENT before it reaches the core.
private func validated(_ body: () throws(RaftWireError) -> Message) throws -> Message {
    let message: Message
    do {
        message = try body()
    } catch {
        throw RPCError(.invalidArgument, error.description)
    }
    if let problem = message.boundsViolation { throw RPCError(.invalidArgument, problem) }
    return message
}

/// The node behind the services, set once the node exists (the server starts
/// first, so a listen port of 0 is known before the node's address is).
public final class NodeRef<Machine: StateMachine>: Sendable {
    private let node = Mutex<RaftNode<Machine>?>(nil)

    public init() {}

    public func set(_ value: RaftNode<Machine>) { node.withLock { $0 = value } }

    func get() throws -> RaftNode<Machine> {
        guard let value = node.withLock({ $0 }) else { throw RPCError(.unavailable, "the Raft node is starting") }
        return value
    }
}
