import GossipRPC
import GossipWire
import Logging

/// Joins a running cluster through any member: a follower answers with where the
/// leader is, which is tried next; stale hints and dead peers fall through to
/// the other candidates, round after round with capped backoff.
public struct ClusterJoin: Sendable {
    public var nodeID: String
    /// The address this node serves raft.v1 on, as other members should dial it.
    public var address: String
    public var attemptTimeout: Duration = .seconds(3)
    public var deadline: Duration = .seconds(60)
    /// Mutual TLS with the cluster: we present our node certificate; whoever answers must hold a node certificate.
    public var tls: ClusterTLS?

    public init(nodeID: String, address: String, tls: ClusterTLS? = nil) {
        self.nodeID = nodeID
        self.address = address
        self.tls = tls
    }

    public struct Joined: Sendable {
        public var leaderID: String
        public var leaderAddress: String
        public var members: [RaftV1.Member]
    }

    public enum Failure: Error, CustomStringConvertible {
        case noCandidates
        case removed(String)
        case gaveUp(lastError: String)

        public var description: String {
            switch self {
            case .noCandidates: "no cluster member to join through (no leader hint, no peers)"
            case .removed(let why): why
            case .gaveUp(let last): "could not join the cluster before the deadline; last error: \(last)"
            }
        }
    }

    /// Tries `candidates` (leader hint first) until one leader accepts.
    public func run(candidates: [String], logger: Logger = Logger(label: "gossipfl.raft.join")) async throws -> Joined {
        let initial = candidates.filter { $0 != address && PeerAddress($0) != nil }
        guard !initial.isEmpty else { throw Failure.noCandidates }
        let clock = ContinuousClock()
        let end = clock.now + deadline
        var lastError = "none"
        var round = 0
        var channels: [String: Channel] = [:]
        defer {
            let open = Array(channels.values)
            Task { for channel in open { await channel.close() } }
        }
        while clock.now < end {
            var queue = initial
            var tried = Set<String>()
            while let target = queue.first, clock.now < end {
                queue.removeFirst()
                guard tried.insert(target).inserted, let peer = PeerAddress(target) else { continue }
                do {
                    let channel: Channel
                    if let existing = channels[target] {
                        channel = existing
                    } else {
                        channel = try Channel(host: peer.host, port: peer.port, config: ChannelConfig(
                            tls: tls?.client(expectingRole: .node), connectTimeout: .seconds(1),
                            backoff: Backoff(initial: .milliseconds(50), maximum: .milliseconds(200))))
                        channels[target] = channel
                    }
                    let response = try await channel.unary(RaftMethods.join, RaftV1.JoinRequest(nodeId: nodeID, address: address),
                                                           options: CallOptions(timeout: attemptTimeout))
                    if response.accepted {
                        return Joined(leaderID: response.leaderId, leaderAddress: response.leaderAddress, members: response.members)
                    }
                    lastError = "\(target) is not the leader (hint: \(response.leaderId.isEmpty ? "none" : response.leaderId))"
                    if !response.leaderAddress.isEmpty { queue.insert(response.leaderAddress, at: 0) }
                    queue.append(contentsOf: response.members.map(\.address).filter { !$0.isEmpty && $0 != address })
                } catch let error as RPCError where error.code == .permissionDenied {
                    throw Failure.removed(error.message)
                } catch {
                    lastError = "\(target): \(error)"
                    logger.debug("join via \(target) failed: \(error)")
                }
            }
            round += 1
            try await Task.sleep(for: .milliseconds(min(1000, 50 << min(round, 5))))
        }
        throw Failure.gaveUp(lastError: lastError)
    }
}
