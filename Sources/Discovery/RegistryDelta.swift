/// Everything about the registry but its nodes. Small, so every journal
/// record carries all of it and the last record read wins.
public struct RegistryHeader: Equatable, Sendable {
    public var clusterID: String?
    public var version: UInt64
    public var bootstrapInitiated: Bool
    public var leader: LeaderRecord?
    public var lastReport: ReportKey?
    public var pendingBootstrapNode: String?

    public init(clusterID: String?, version: UInt64, bootstrapInitiated: Bool, leader: LeaderRecord?,
                lastReport: ReportKey?, pendingBootstrapNode: String?) {
        self.clusterID = clusterID
        self.version = version
        self.bootstrapInitiated = bootstrapInitiated
        self.leader = leader
        self.lastReport = lastReport
        self.pendingBootstrapNode = pendingBootstrapNode
    }
}

/// What registry operations changed since the last delta was taken: the
/// header, and each changed node in full (or its removal). Deltas hold
/// resulting state, not operations, so replaying them needs no clock and
/// reproduces decisions (a bootstrap, a forgotten cluster) exactly.
public struct RegistryDelta: Equatable, Sendable {
    public var header: RegistryHeader
    public var upserted: [NodeRecord]
    public var removed: [String]

    public init(header: RegistryHeader, upserted: [NodeRecord] = [], removed: [String] = []) {
        self.header = header
        self.upserted = upserted
        self.removed = removed
    }
}

/// Rebuilds a snapshot from the last saved one and the deltas journaled after it.
public struct RegistryReplay: Sendable {
    private var base: RegistrySnapshot
    private var nodes: [String: NodeRecord]

    public init(_ snapshot: RegistrySnapshot) {
        base = snapshot
        nodes = Dictionary(snapshot.nodes.map { ($0.nodeID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public mutating func apply(_ delta: RegistryDelta) {
        base.clusterID = delta.header.clusterID
        base.version = delta.header.version
        base.bootstrapInitiated = delta.header.bootstrapInitiated
        base.leader = delta.header.leader
        base.lastReport = delta.header.lastReport
        base.pendingBootstrapNode = delta.header.pendingBootstrapNode
        for id in delta.removed { nodes[id] = nil }
        for record in delta.upserted { nodes[record.nodeID] = record }
    }

    public var snapshot: RegistrySnapshot {
        var result = base
        result.nodes = nodes.values.sorted { $0.nodeID < $1.nodeID }
        return result
    }
}
