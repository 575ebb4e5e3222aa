/// What the gateway last said to this node: whether to bootstrap, the peers,
/// the leader hint. Cached on disk so a restart without a gateway still knows.
public struct DiscoveryResult: Codable, Equatable, Sendable {
    public struct Peer: Codable, Equatable, Sendable {
        public var nodeID: String
        public var host: String
        public var port: Int
        public var stale: Bool
        public var ageSeconds: Double
    }

    public struct Leader: Codable, Equatable, Sendable {
        public var nodeID: String
        public var term: UInt64
        public var host: String?
        public var port: Int?
        public var stale: Bool
    }

    public var bootstrap: Bool
    public var clusterID: String?
    public var peers: [Peer]
    public var leader: Leader?
    public var leaseSeconds: UInt32
    public var registryVersion: UInt64
    /// When the gateway gave this answer (unix seconds).
    public var receivedAt: Double
    /// True when read back from the local cache rather than the gateway.
    public var fromCache: Bool
}

/// What the client tells its owner as it goes.
public enum DiscoveryEvent: Sendable, Equatable {
    /// A cached result from an earlier run, available before any gateway contact.
    case cached(DiscoveryResult)
    case registered(DiscoveryResult)
    case heartbeat(known: Bool)
    case reported(accepted: Bool, reason: String)
    /// A gateway call failed; the next attempt comes after `retryIn`.
    case unreachable(error: String, retryIn: Duration)
}
