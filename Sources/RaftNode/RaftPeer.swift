import Consensus
import Foundation
import GossipRPC
import Logging
import RaftStorage

/// One training peer's Raft side: storage, core, driver, transport and the
/// raft.v1 server, composed. Start it with `start`, then `join` when it is a
/// newcomer to an existing cluster.
public final class RaftPeer<Machine: StateMachine>: Sendable {
    public enum Start: Sendable, Equatable {
        /// Found a new single-node cluster (only for a node without state).
        case bootstrap
        /// Join through these members (leader hint first), for a node without state.
        case join([String])
        /// Resume from storage, or wait for a leader to add this node.
        case resume
    }

    public let node: RaftNode<Machine>
    public let server: Server
    public let address: String
    /// True when the data directory held earlier state: such a node never bootstraps or joins again.
    public let restored: Bool
    let tls: ClusterTLS?

    /// Opens `dataDirectory`, listens on `host:port` (0 picks a port), then asks `decide` how to
    /// start, given the advertised address and whether storage held state (a node with state
    /// resumes whatever `decide` says: it never bootstraps or joins again). `services` are served
    /// beside raft.v1 on the same port (a training peer's gossip.v1), whose messages may be up to
    /// `servicesReceiveLimit` bytes (each method keeps its own limit). Returns once the node
    /// runs and, for `.join`, once a leader accepted it.
    public static func start(id: NodeID, host: String, port: Int, advertiseHost: String? = nil, dataDirectory: String,
                             machine: Machine, options: RaftNodeOptions = RaftNodeOptions(),
                             tls: ClusterTLS? = nil, joinDeadline: Duration = .seconds(60), services: [Service] = [],
                             servicesReceiveLimit: Int = 0,
                             logger: Logger = Logger(label: "gossipfl.raft"),
                             decide: (_ address: String, _ restored: Bool) async throws -> Start) async throws -> RaftPeer {
        let (storage, state) = try RaftStorage.open(directory: dataDirectory)
        let ref = NodeRef<Machine>()
        let receiveLimit = max(options.maxMessageBytes, servicesReceiveLimit)
        let server = try Server(config: ServerConfig(host: host, port: port, tls: tls?.server, maxReceiveMessageSize: receiveLimit),
                                services: [raftService(ref, maxMessageBytes: options.maxMessageBytes), clusterService(ref, maxRequestBytes: options.maxRequestBytes),
                                           HealthService().service] + services)
        try server.start()
        let address = PeerAddress(host: advertiseHost ?? host, port: server.port).description
        let decided: Start
        do {
            decided = try await decide(address, !state.isEmpty)
        } catch {
            await server.shutdown(grace: .zero)
            throw error
        }
        let mode = state.isEmpty ? decided : .resume
        let seed = UInt64.random(in: 0 ... .max)
        let config = RaftNode<Machine>.coreConfig(id: id, options: options, seed: seed)
        let node: RaftNode<Machine>
        do {
            let core: RaftCore
            if !state.isEmpty {
                core = try RaftCore(config: config, state: state)
            } else if mode == .bootstrap {
                core = try RaftCore.bootstrap(config: config, address: address, state: state, initialData: machine.snapshot())
            } else {
                core = try RaftCore(config: config, state: PersistentState())
            }
            node = try RaftNode(core: core, address: address, storage: storage, machine: machine, options: options, logger: logger)
        } catch {
            // What storage holds cannot start a node (inconsistent or poisoned state, unreadable snapshot data).
            await server.shutdown(grace: .zero)
            throw UnusableState(directory: dataDirectory, reason: "\(error)")
        }
        ref.set(node)
        let transport = PeerTransport(selfID: id, options: options, tls: tls,
                                      onUnreachable: { [node] peer in await node.reportUnreachable(peer) },
                                      onResponse: { [node] reply in await node.receive(reply) })
        await node.start(transport: transport)
        let peer = RaftPeer(node: node, server: server, address: address, restored: !state.isEmpty, tls: tls)
        if case .join(let candidates) = mode {
            do {
                _ = try await peer.join(candidates: candidates, deadline: joinDeadline)
            } catch {
                await peer.shutdown()
                throw error
            }
        }
        return peer
    }

    private init(node: RaftNode<Machine>, server: Server, address: String, restored: Bool, tls: ClusterTLS?) {
        self.node = node
        self.server = server
        self.address = address
        self.restored = restored
        self.tls = tls
    }

    /// Asks the cluster (through `candidates`, leader hint first) to add this node as a learner,
    /// then waits until this node has heard from the leader and holds a config that includes it.
    public func join(candidates: [String], deadline: Duration = .seconds(60)) async throws -> ClusterJoin.Joined {
        let end = ContinuousClock.now + deadline
        var join = ClusterJoin(nodeID: node.id, address: address, tls: tls)
        join.deadline = deadline
        let joined = try await join.run(candidates: candidates)
        while ContinuousClock.now < end {
            if await node.leaderHint != nil, await node.clusterConfig.contains(node.id) { return joined }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ClusterJoin.Failure.gaveUp(lastError: "accepted by \(joined.leaderID), but its log never reached this node")
    }

    public func shutdown() async {
        await node.stop()
        await server.shutdown(grace: .milliseconds(500))
        node.shutdownLoop()
    }
}

/// The data directory holds state no node can start from. Restarting cannot help:
/// the operator removes the node from the cluster and starts it on an empty directory.
public struct UnusableState: Error, CustomStringConvertible {
    public let directory: String
    public let reason: String

    public var description: String {
        "the Raft state in \(directory) cannot start a node: \(reason). Restarting will not help: remove this node "
            + "from the cluster (raft.v1.Cluster/Leave on the leader) and start it with an empty --data-dir"
    }
}
