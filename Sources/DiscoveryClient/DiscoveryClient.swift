import Foundation
import GossipRPC
import GossipWire
import Logging
import Synchronization

/// Who this node is, as it registers.
public struct DiscoveryIdentity: Sendable {
    public var nodeID: String
    public var host: String
    public var port: Int
    public var capabilities: [String]
    /// Set once the node belongs to a cluster, so it is never told to bootstrap.
    public var clusterID: String?

    public init(nodeID: String, host: String, port: Int, capabilities: [String] = [], clusterID: String? = nil) {
        self.nodeID = nodeID
        self.host = host
        self.port = port
        self.capabilities = capabilities
        self.clusterID = clusterID
    }
}

public struct DiscoveryClientConfig: Sendable {
    public var heartbeatInterval: Duration
    /// Deadline of each gateway call.
    public var callTimeout: Duration
    /// Between failed attempts: capped, exponential, jittered.
    public var retryBackoff: Backoff
    /// Where `discovery.json` is kept; nil disables the cache.
    public var cacheDirectory: String?
    /// Mutual TLS: this node's certificate; the gateway must hold a gateway certificate.
    public var tls: ClusterTLS?

    public init(heartbeatInterval: Duration = .seconds(10), callTimeout: Duration = .seconds(5),
                retryBackoff: Backoff = Backoff(initial: .milliseconds(200), multiplier: 2, maximum: .seconds(30), jitter: 0.2),
                cacheDirectory: String? = nil, tls: ClusterTLS? = nil) {
        self.heartbeatInterval = heartbeatInterval
        self.callTimeout = callTimeout
        self.retryBackoff = retryBackoff
        self.cacheDirectory = cacheDirectory
        self.tls = tls
    }
}

/// A membership report waiting to be sent; only the newest is kept.
public struct PendingReport: Sendable, Equatable {
    public var leaderID: String
    public var term: UInt64
    public var members: [(nodeID: String, host: String, port: Int)]
    public var clusterID: String?

    public init(leaderID: String, term: UInt64, members: [(nodeID: String, host: String, port: Int)], clusterID: String? = nil) {
        self.leaderID = leaderID
        self.term = term
        self.members = members
        self.clusterID = clusterID
    }

    public static func == (a: PendingReport, b: PendingReport) -> Bool {
        a.leaderID == b.leaderID && a.term == b.term && a.clusterID == b.clusterID
            && a.members.map(\.nodeID) == b.members.map(\.nodeID)
    }
}

/// The node side of discovery. It registers, heartbeats and reports membership
/// in a background task, retrying with backoff while the gateway is down.
/// Nothing a node does operationally waits on it: `latest` answers at once
/// from memory (or from the cache of an earlier run).
public final class DiscoveryClient: Sendable {
    typealias G = GatewayV1
    static let register = MethodDescriptor<G.RegisterRequest, G.RegisterResponse>(service: "gateway.v1.Gateway", method: "Register")
    static let heartbeat = MethodDescriptor<G.HeartbeatRequest, G.HeartbeatResponse>(service: "gateway.v1.Gateway", method: "Heartbeat")
    static let report = MethodDescriptor<G.ReportMembershipRequest, G.ReportMembershipResponse>(
        service: "gateway.v1.Gateway", method: "ReportMembership")

    private let channel: Channel
    private let identity: Mutex<DiscoveryIdentity>
    private let config: DiscoveryClientConfig
    private let cache: DiscoveryCache?
    private let onEvent: @Sendable (DiscoveryEvent) -> Void
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var latest: DiscoveryResult?
        /// A registration succeeded in this process (the loop then only heartbeats).
        var registered = false
        var pendingReport: PendingReport?
        var task: Task<Void, Never>?
    }

    public init(gatewayHost: String, gatewayPort: Int, identity: DiscoveryIdentity,
                config: DiscoveryClientConfig = DiscoveryClientConfig(),
                logger: Logger = Logger(label: "gossipfl.discovery"),
                onEvent: @escaping @Sendable (DiscoveryEvent) -> Void = { _ in }) throws {
        // The channel's own reconnect backoff is kept short: this client paces retries itself.
        channel = try Channel(host: gatewayHost, port: gatewayPort,
                              config: ChannelConfig(tls: config.tls?.client(expectingRole: .gateway), connectTimeout: config.callTimeout,
                                                    backoff: Backoff(initial: .milliseconds(50), maximum: .milliseconds(50))))
        self.identity = Mutex(identity)
        self.config = config
        self.cache = config.cacheDirectory.map(DiscoveryCache.init)
        self.onEvent = onEvent
        self.logger = logger
        if let cache {
            switch cache.load() {
            case .success(let cached?):
                state.withLock { $0.latest = cached }
                onEvent(.cached(cached))
            case .success(nil):
                break
            case .failure(let error):
                logger.warning("ignoring unreadable discovery cache \(cache.path): \(error)")
            }
        }
    }

    /// The newest discovery result: from the gateway, else from the cache.
    public var latest: DiscoveryResult? { state.withLock { $0.latest } }

    /// Updates the cluster this node belongs to (sent with later registrations).
    public func setClusterID(_ clusterID: String) {
        identity.withLock { $0.clusterID = clusterID }
    }

    /// Queues a membership report; the background loop sends the newest one.
    public func report(_ report: PendingReport) {
        state.withLock { $0.pendingReport = report }
    }

    /// Starts the background loop (register, then heartbeat and report).
    public func start() {
        let task = Task.detached { [self] in await run() }
        state.withLock { $0.task = task }
    }

    public func stop() async {
        let task = state.withLock { $0.task }
        task?.cancel()
        await task?.value
        await channel.close()
    }

    /// One registration attempt; updates `latest` and the cache on success.
    @discardableResult
    public func registerOnce() async throws -> DiscoveryResult {
        let me = identity.withLock { $0 }
        let request = G.RegisterRequest(nodeId: me.nodeID, address: G.NodeAddress(host: me.host, port: UInt32(me.port)),
                                        capabilities: me.capabilities, clusterId: me.clusterID ?? "")
        let response = try await channel.unary(Self.register, request, options: CallOptions(timeout: config.callTimeout))
        let result = DiscoveryResult(response, receivedAt: Date().timeIntervalSince1970)
        if let clusterID = result.clusterID { setClusterID(clusterID) }
        state.withLock {
            $0.latest = result
            $0.registered = true
        }
        if let cache {
            do { try cache.save(result) } catch { logger.warning("could not write discovery cache \(cache.path): \(error)") }
        }
        onEvent(.registered(result))
        return result
    }

    private func run() async {
        var needsRegistration = !state.withLock { $0.registered }
        var failures = 0
        var random = SystemRandomNumberGenerator()
        while !Task.isCancelled {
            do {
                if needsRegistration {
                    try await registerOnce()
                    needsRegistration = false
                } else {
                    let known = try await heartbeatOnce()
                    onEvent(.heartbeat(known: known))
                    // The gateway lost us (restart without a snapshot, or lease expiry): register again.
                    if !known {
                        needsRegistration = true
                        continue
                    }
                    try await sendPendingReport()
                }
                failures = 0
                try? await Task.sleep(for: config.heartbeatInterval)
            } catch {
                if Task.isCancelled { break }
                let delay = config.retryBackoff.delay(attempt: failures, unit: Double.random(in: 0..<1, using: &random))
                failures += 1
                onEvent(.unreachable(error: "\(error)", retryIn: delay))
                try? await Task.sleep(for: delay)
            }
        }
    }

    private func heartbeatOnce() async throws -> Bool {
        let id = identity.withLock { $0.nodeID }
        let response = try await channel.unary(Self.heartbeat, G.HeartbeatRequest(nodeId: id),
                                               options: CallOptions(timeout: config.callTimeout))
        return response.known
    }

    private func sendPendingReport() async throws {
        guard let pending = state.withLock({ $0.pendingReport }) else { return }
        let id = identity.withLock { $0.nodeID }
        let request = G.ReportMembershipRequest(
            reporterId: id, leaderId: pending.leaderID, term: pending.term,
            members: pending.members.map {
                G.NodeEntry(nodeId: $0.nodeID, address: G.NodeAddress(host: $0.host, port: UInt32($0.port)))
            },
            reportedAtUnix: Date().timeIntervalSince1970, clusterId: pending.clusterID ?? "")
        let response = try await channel.unary(Self.report, request, options: CallOptions(timeout: config.callTimeout))
        // Sent: forget it unless a newer one arrived meanwhile.
        state.withLock { if $0.pendingReport == pending { $0.pendingReport = nil } }
        onEvent(.reported(accepted: response.accepted, reason: response.reason))
    }
}

extension DiscoveryResult {
    init(_ response: GatewayV1.RegisterResponse, receivedAt: Double) {
        bootstrap = response.bootstrap
        clusterID = response.clusterId.isEmpty ? nil : response.clusterId
        peers = response.peers.map { entry in
            Peer(nodeID: entry.nodeId, host: entry.address?.host ?? "", port: Int(entry.address?.port ?? 0),
                 stale: entry.stale, ageSeconds: entry.ageSeconds)
        }
        leader = response.leader.map { hint in
            Leader(nodeID: hint.nodeId, term: hint.term, host: hint.address?.host,
                   port: hint.address.map { Int($0.port) }, stale: hint.stale)
        }
        leaseSeconds = response.leaseSeconds
        registryVersion = response.registryVersion
        self.receivedAt = receivedAt
        fromCache = false
    }
}
