import Consensus
import GossipRPC
import GossipWire
import RaftNode
import Training

/// One channel per peer address (gossip.v1 and raft.v1.Cluster share it), with the cluster's
/// mutual TLS. Channels reconnect on their own; an address that changes gets a new one.
actor PeerChannels {
    private let tls: ClusterTLS?
    private var channels: [String: Channel] = [:]

    init(tls: ClusterTLS?) { self.tls = tls }

    func channel(to address: String) throws -> Channel {
        if let existing = channels[address] { return existing }
        guard let peer = PeerAddress(address) else { throw RPCError(.invalidArgument, "bad peer address \(address)") }
        let channel = try Channel(host: peer.host, port: peer.port, config: ChannelConfig(
            tls: tls?.client(expectingRole: .node), maxReceiveMessageSize: GossipService.maxExchangeBytes + (64 << 10),
            connectTimeout: .milliseconds(500), backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))))
        channels[address] = channel
        return channel
    }

    func closeAll() async {
        let open = Array(channels.values)
        channels = [:]
        for channel in open { await channel.close() }
    }
}

/// Proposes training commands: through the local node when it leads, else through the leader's
/// raft.v1.Cluster/Propose (followers answer with a hint, never forward). Retries, bounded.
struct TrainingProposer: Sendable {
    let node: RaftNode<TrainingMachine>
    let channels: PeerChannels

    /// True once the command is committed (applied locally when this node leads).
    func propose(_ event: TrainingEvent, within timeout: Duration = .seconds(5)) async -> Bool {
        let data = GossipV1.TrainingCommand(event).encode()
        let end = ContinuousClock.now + timeout
        var delay = Duration.milliseconds(20)
        while ContinuousClock.now < end {
            if await node.softState.role == .leader {
                if case .success = await node.propose(data) { return true }
            } else if let leader = await node.leaderHint, let address = leader.address {
                do {
                    let response = try await channels.channel(to: address).unary(
                        RaftMethods.propose, RaftV1.ProposeRequest(data: data), options: CallOptions(timeout: .seconds(2)))
                    if response.committed { return true }
                } catch {}
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(500))
        }
        return false
    }
}

extension RaftNode where Machine == TrainingMachine {
    /// Where `id` serves gossip.v1: its Raft address, else the one its admission named (a
    /// participant outside the cluster, such as a Python node following the log).
    func gossipAddress(of id: String) -> String? {
        clusterConfig.addresses[id] ?? machine.ledger.externalAddresses[id]
    }
}
