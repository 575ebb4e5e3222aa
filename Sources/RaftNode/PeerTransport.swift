import Consensus
import GossipRPC
import GossipWire
import Logging
import Synchronization

/// Sends a node's requests to its peers over raft.v1 and hands each answer back
/// to the node. One channel (one HTTP/2 connection) per peer address, shared by
/// all calls, so AppendEntries are pipelined as concurrent streams.
/// Delivery is best effort: Raft tolerates loss, duplication and reordering.
/// At most `maxInflightPerPeer` calls are outstanding to one peer (more are
/// dropped, as a lossy network would), and a call that fails because the peer
/// cannot be reached is reported back (`onUnreachable`, etcd's ReportUnreachable),
/// so the leader stops pipelining into a dead connection.
public final class PeerTransport: Sendable {
    public static let maxInflightPerPeer = 64
    private let selfID: NodeID
    private let loop: EventLoop
    private let options: RaftNodeOptions
    private let channelConfig: ChannelConfig
    private let tls: ClusterTLS?
    private let onResponse: @Sendable (Message) async -> Void
    private let onUnreachable: @Sendable (NodeID) async -> Void
    private let inflight = Mutex<[NodeID: Int]>([:])
    private let channels = Mutex<[String: Channel]>([:])
    private let logger: Logger

    public init(selfID: NodeID, options: RaftNodeOptions, tls: ClusterTLS? = nil,
                logger: Logger = Logger(label: "gossipfl.raft.transport"),
                onUnreachable: @escaping @Sendable (NodeID) async -> Void = { _ in },
                onResponse: @escaping @Sendable (Message) async -> Void) {
        self.onUnreachable = onUnreachable
        self.selfID = selfID
        self.options = options
        self.onResponse = onResponse
        self.logger = logger
        self.tls = tls
        loop = EventLoop(name: "raft-net-\(selfID)")
        // Peers come back quickly after a restart: retry connects within a few heartbeats.
        channelConfig = ChannelConfig(maxReceiveMessageSize: options.maxMessageBytes, connectTimeout: .milliseconds(500),
                                      backoff: Backoff(initial: .milliseconds(50), multiplier: 1.6, maximum: .milliseconds(500)),
                                      userAgent: "gossipfl-raft/0.1", logger: logger)
    }

    /// Calls to `peer` not finished yet (for tests).
    func outstandingCalls(to peer: NodeID) -> Int { inflight.withLock { $0[peer, default: 0] } }

    public func close() {
        let open = channels.withLock { all -> [Channel] in
            defer { all = [:] }
            return Array(all.values)
        }
        let loop = loop
        Task {
            for channel in open { await channel.close() }
            loop.shutdown()
        }
    }

    func send(_ message: Message, address: String?) {
        guard let address, let channel = channel(for: address, peer: message.to) else {
            logger.debug("no address for \(message.to); dropping \(message.kind)")
            return
        }
        let peer = message.to
        let admitted = inflight.withLock { counts in
            guard counts[peer, default: 0] < Self.maxInflightPerPeer else { return false }
            counts[peer, default: 0] += 1
            return true
        }
        guard admitted else {
            logger.trace("\(Self.maxInflightPerPeer) calls to \(peer) outstanding; dropping \(message.kind)")
            return
        }
        let options = CallOptions(timeout: self.options.rpcTimeout, maxReceiveMessageSize: self.options.maxMessageBytes)
        let chunkSize = self.options.snapshotChunkBytes
        let onResponse = onResponse
        let onUnreachable = onUnreachable
        let me = selfID
        let logger = logger
        Task { [self] in
            defer { self.inflight.withLock { $0[peer, default: 1] -= 1 } }
            do {
                let reply: Message?
                switch message.body {
                case .requestVote(let r):
                    let response = try await channel.unary(RaftMethods.requestVote, WireMapping.requestVote(message, r), options: options)
                    reply = WireMapping.message(response, from: message.to, to: me)
                case .appendEntries(let r):
                    let response = try await channel.unary(RaftMethods.appendEntries, WireMapping.appendEntries(message, r), options: options)
                    reply = WireMapping.message(response, from: message.to, to: me)
                case .installSnapshot(let r):
                    let call = channel.makeCall(RaftMethods.installSnapshot,
                                                options: CallOptions(timeout: .seconds(30), maxReceiveMessageSize: self.options.maxMessageBytes))
                    for chunk in WireMapping.snapshotChunks(message, r.snapshot, chunkSize: chunkSize) { try await call.send(chunk) }
                    call.closeSend()
                    guard let response = try await call.receive() else {
                        throw RPCError(await call.status().code, "InstallSnapshot returned no response")
                    }
                    reply = WireMapping.message(response, from: message.to, to: me)
                case .timeoutNow:
                    _ = try await channel.unary(RaftMethods.timeoutNow, RaftV1.TimeoutNowRequest(term: message.term, leaderId: me),
                                                options: options)
                    reply = nil
                case .readIndex(let r):
                    let request = RaftV1.ReadIndexRequest(term: message.term, fromId: me, context: r.context)
                    let response = try await channel.unary(RaftMethods.readIndex, request,
                                                           options: CallOptions(timeout: .seconds(5)))
                    reply = WireMapping.message(response, from: message.to, to: me)
                default:
                    reply = nil
                }
                if let reply, let problem = reply.boundsViolation {
                    logger.warning("dropping \(reply.kind) from \(message.to): \(problem)")
                } else if let reply {
                    await onResponse(reply)
                }
            } catch {
                logger.trace("\(message.kind) to \(message.to) failed: \(error)")
                if let error = error as? RPCError, [.unavailable, .deadlineExceeded].contains(error.code) {
                    await onUnreachable(peer)
                }
            }
        }
    }

    /// One channel per (peer, address): with TLS the channel insists on that peer's certificate.
    private func channel(for address: String, peer id: NodeID) -> Channel? {
        let key = "\(id)@\(address)"
        if let existing = channels.withLock({ $0[key] }) { return existing }
        guard let peer = PeerAddress(address) else {
            logger.warning("malformed peer address \(address)")
            return nil
        }
        do {
            var config = channelConfig
            config.tls = tls?.client(expecting: .node(id))
            let created = try Channel(host: peer.host, port: peer.port, config: config, loop: loop)
            let chosen = channels.withLock { all in
                if let raced = all[key] { return raced }
                all[key] = created
                return created
            }
            // Another send opened one first: drop ours (it never connected: channels connect lazily).
            if chosen !== created { Task { await created.close() } }
            return chosen
        } catch {
            logger.warning("cannot open a channel to \(address): \(error)")
            return nil
        }
    }
}
