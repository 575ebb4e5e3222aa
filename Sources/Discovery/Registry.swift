/// The gateway's registry as a pure state machine: every operation takes the
/// current time, nothing here reads a clock, a socket or a file. The edge
/// holds it behind one lock, which is what makes the bootstrap decision
/// atomic: of N concurrent first registrations exactly one sees an empty,
/// clusterless registry.
public struct Registry: Sendable {
    public let config: RegistryConfig
    public private(set) var nodes: [String: NodeRecord] = [:]
    public private(set) var leader: LeaderRecord?
    public private(set) var clusterID: String?
    /// Bumped on every membership change.
    public private(set) var version: UInt64 = 0
    public private(set) var bootstrapInitiated = false
    /// The node told to bootstrap, while no report shows its cluster formed:
    /// if it registers again (say its first answer was lost) it is told again.
    private var pendingBootstrapNode: String?
    private var lastReport: ReportKey?
    /// The last time any node was known alive (for forgetting a dead cluster).
    private var lastAliveAt: Double?
    /// No lease ends before this, so sweeps between now and then are skipped.
    private var nextExpiryAt = Double.infinity
    /// Node IDs in an array (and each one's index) so a newcomer's peer sample
    /// is O(limit), not a sort of the whole registry.
    private var ids: [String] = []
    private var idIndex: [String: Int] = [:]
    /// Nodes added, changed or removed since `takeChanges()`; lease renewals
    /// alone are not changes (a restart restores leases conservatively).
    private var changedNodes: Set<String> = []
    private var takenHeader: RegistryHeader?

    public init(config: RegistryConfig = RegistryConfig()) {
        self.config = config
    }

    // MARK: registration and leases

    /// Registers or refreshes a node. `newClusterID` names a cluster when this
    /// node must bootstrap one.
    public mutating func register(_ registration: Registration, now: Double,
                                  newClusterID: () -> String) throws(RegistryError) -> RegisterOutcome {
        expireLeases(now: now)
        if let requested = registration.clusterID, let known = clusterID, requested != known {
            throw .clusterMismatch(node: registration.nodeID, nodeCluster: requested, gatewayCluster: known)
        }
        let status: RegisterOutcome.Status
        var bootstrap = false
        if var existing = nodes[registration.nodeID] {
            if existing.address != registration.address { version += 1 }
            existing.address = registration.address
            existing.capabilities = registration.capabilities
            existing.metadata = registration.metadata
            touch(&existing, now: now)
            nodes[registration.nodeID] = existing
            changedNodes.insert(registration.nodeID)
            status = .updated
            bootstrap = pendingBootstrapNode == registration.nodeID
        } else {
            guard nodes.count < config.maxNodes else { throw .full(limit: config.maxNodes) }
            if clusterID == nil {
                if let adopted = registration.clusterID {
                    // A member of an existing cluster rebuilds an empty gateway's view.
                    clusterID = adopted
                } else if nodes.isEmpty {
                    bootstrap = true
                    clusterID = newClusterID()
                    bootstrapInitiated = true
                    pendingBootstrapNode = registration.nodeID
                    leader = LeaderRecord(nodeID: registration.nodeID, term: 0, learnedAt: now)
                }
            }
            insert(NodeRecord(
                nodeID: registration.nodeID, address: registration.address, capabilities: registration.capabilities,
                metadata: registration.metadata, joinedAt: now, lastSeen: now,
                leaseExpiresAt: now + config.leaseSeconds, confirmed: true))
            version += 1
            status = .registered
        }
        lastAliveAt = now
        return RegisterOutcome(status: status, bootstrap: bootstrap, clusterID: clusterID,
                               peers: peerSample(for: registration.nodeID, now: now),
                               leader: leaderView(now: now), version: version)
    }

    /// Refreshes a node's lease; false when the node is unknown (it should register).
    public mutating func heartbeat(nodeID: String, now: Double) -> Bool {
        expireLeases(now: now)
        guard var record = nodes[nodeID] else { return false }
        touch(&record, now: now)
        nodes[nodeID] = record
        lastAliveAt = now
        return true
    }

    /// Removes a node; false when it was not registered.
    public mutating func deregister(nodeID: String, now: Double) -> Bool {
        expireLeases(now: now)
        guard remove(nodeID) else { return false }
        version += 1
        if pendingBootstrapNode == nodeID { pendingBootstrapNode = nil }
        if leader?.nodeID == nodeID { leader = nil }
        return true
    }

    /// Drops nodes whose lease ran out, and forgets a cluster nobody is left in.
    /// Scans only when some lease may have ended (`nextExpiryAt`).
    public mutating func expireLeases(now: Double) {
        if now >= nextExpiryAt {
            let expired = nodes.values.filter { $0.leaseExpiresAt <= now }.map(\.nodeID)
            if !expired.isEmpty {
                for id in expired { remove(id) }
                version += 1
                if let pending = pendingBootstrapNode, expired.contains(pending) { pendingBootstrapNode = nil }
            }
            nextExpiryAt = nodes.values.lazy.map(\.leaseExpiresAt).min() ?? .infinity
        }
        if nodes.isEmpty, clusterID != nil, let lastAliveAt,
           now - lastAliveAt >= config.forgetClusterAfterSeconds {
            clusterID = nil
            leader = nil
            lastReport = nil
            self.lastAliveAt = nil
        }
    }

    private func touch(_ record: inout NodeRecord, now: Double) {
        record.lastSeen = now
        record.leaseExpiresAt = now + config.leaseSeconds
        record.confirmed = true
    }

    private mutating func insert(_ record: NodeRecord) {
        changedNodes.insert(record.nodeID)
        if nodes.updateValue(record, forKey: record.nodeID) == nil {
            idIndex[record.nodeID] = ids.count
            ids.append(record.nodeID)
        }
        nextExpiryAt = min(nextExpiryAt, record.leaseExpiresAt)
    }

    @discardableResult
    private mutating func remove(_ id: String) -> Bool {
        guard nodes.removeValue(forKey: id) != nil, let index = idIndex.removeValue(forKey: id) else { return false }
        changedNodes.insert(id)
        let last = ids.removeLast()
        if index < ids.count {
            ids[index] = last
            idIndex[last] = index
        }
        return true
    }

    // MARK: leader and membership reports

    /// Applies a cluster node's membership report if it is newer than the last
    /// accepted one. Members the gateway has not heard from directly become
    /// stale entries; stale entries the report no longer lists are dropped.
    public mutating func applyReport(_ report: MembershipReport, now: Double) -> ReportOutcome {
        expireLeases(now: now)
        if let last = lastReport, report.key <= last {
            return .rejected(reason: "report (\(report.key)) is not newer than the accepted one (\(last))")
        }
        if let reported = report.clusterID, let known = clusterID, reported != known {
            return .rejected(reason: "report is for cluster \(reported), this gateway serves cluster \(known)")
        }
        if clusterID == nil { clusterID = report.clusterID }
        lastReport = report.key
        pendingBootstrapNode = nil
        if !report.leaderID.isEmpty {
            leader = LeaderRecord(nodeID: report.leaderID, term: report.term, learnedAt: now)
        }
        if var reporter = nodes[report.reporterID] {
            touch(&reporter, now: now)
            nodes[report.reporterID] = reporter
        }
        var changed = false
        let listed = Set(report.members.map(\.nodeID))
        for member in report.members {
            if var record = nodes[member.nodeID] {
                if !record.confirmed || record.reportedMember != true {
                    if !record.confirmed {
                        record.lastSeen = now
                        record.leaseExpiresAt = now + config.leaseSeconds
                        if let address = member.address { record.address = address }
                    }
                    record.reportedMember = true
                    nodes[member.nodeID] = record
                    changedNodes.insert(member.nodeID)
                }
            } else if let address = member.address, nodes.count < config.maxNodes {
                insert(NodeRecord(
                    nodeID: member.nodeID, address: address, capabilities: [], metadata: [:], joinedAt: now,
                    lastSeen: now, leaseExpiresAt: now + config.leaseSeconds, confirmed: false, reportedMember: true))
                changed = true
            }
        }
        for var record in nodes.values where record.confirmed && record.reportedMember == true && !listed.contains(record.nodeID) {
            record.reportedMember = false
            nodes[record.nodeID] = record
            changedNodes.insert(record.nodeID)
        }
        for record in nodes.values where !record.confirmed && !listed.contains(record.nodeID) {
            remove(record.nodeID)
            changed = true
        }
        if changed { version += 1 }
        lastAliveAt = now
        return .accepted
    }

    /// Who may report membership (with mutual TLS, where the caller is known to be `nodeID`):
    /// a member listed by the last accepted report; while a bootstrap is pending, only the node
    /// told to bootstrap; with neither (a gateway that lost its state), any node that registered.
    /// Once the last reporter's lease has run out, any registered node may report too: a leader
    /// that died before its report listed its successor must not freeze the hint forever.
    public func mayReport(_ nodeID: String) -> Bool {
        guard let record = nodes[nodeID] else { return false }
        if record.reportedMember == true { return true }
        if let pending = pendingBootstrapNode { return pending == nodeID }
        guard let last = lastReport else { return true }
        return nodes[last.reporterID] == nil
    }

    /// Sets the leader hint directly (the compat `UpdateLeader`); the term is
    /// kept since that protocol carries none. A leader means the cluster has
    /// formed, so no node is still owed a bootstrap. False for an unknown node.
    public mutating func setLeader(nodeID: String, now: Double) -> Bool {
        expireLeases(now: now)
        guard nodes[nodeID] != nil else { return false }
        pendingBootstrapNode = nil
        leader = LeaderRecord(nodeID: nodeID, term: leader?.term ?? 0, learnedAt: now)
        return true
    }

    // MARK: views

    /// Registered nodes except `excluding`, sorted by ID, with their age.
    /// Nodes whose lease ran out are left out even before a sweep removes them.
    public func peers(excluding: String? = nil, now: Double) -> [NodeView] {
        nodes.values
            .filter { $0.nodeID != excluding && $0.leaseExpiresAt > now }
            .sorted { $0.nodeID < $1.nodeID }
            .map { NodeView(record: $0, ageSeconds: max(0, now - $0.lastSeen), stale: !$0.confirmed) }
    }

    /// The peers a newcomer is told about: all of them (sorted) while there are
    /// at most `peerSampleLimit`; beyond that a window of the registry that
    /// starts at a place derived from the newcomer's ID, so newcomers spread
    /// over the cluster. The leader is always included. O(limit).
    public func peerSample(for nodeID: String, now: Double) -> [NodeView] {
        let limit = config.peerSampleLimit
        guard ids.count > limit + 1 else { return peers(excluding: nodeID, now: now) }
        var chosen: [NodeRecord] = []
        chosen.reserveCapacity(limit)
        if let leader, leader.nodeID != nodeID, let record = nodes[leader.nodeID], record.leaseExpiresAt > now {
            chosen.append(record)
        }
        var index = Int(StableHash.of(nodeID) % UInt64(ids.count))
        var visited = 0
        while chosen.count < limit && visited < ids.count {
            let id = ids[index]
            if id != nodeID, id != leader?.nodeID, let record = nodes[id], record.leaseExpiresAt > now {
                chosen.append(record)
            }
            index = (index + 1) % ids.count
            visited += 1
        }
        return chosen.sorted { $0.nodeID < $1.nodeID }
            .map { NodeView(record: $0, ageSeconds: max(0, now - $0.lastSeen), stale: !$0.confirmed) }
    }

    public func leaderView(now: Double) -> LeaderView? {
        guard let leader else { return nil }
        let record = nodes[leader.nodeID]
        return LeaderView(nodeID: leader.nodeID, term: leader.term, address: record?.address,
                          ageSeconds: max(0, now - leader.learnedAt), stale: record?.confirmed != true)
    }

    // MARK: changes and snapshots

    public var header: RegistryHeader {
        RegistryHeader(clusterID: clusterID, version: version, bootstrapInitiated: bootstrapInitiated, leader: leader,
                       lastReport: lastReport, pendingBootstrapNode: pendingBootstrapNode)
    }

    /// What changed since the last call (nil if nothing did): what the edge
    /// must make durable before it answers the request that changed it.
    public mutating func takeChanges() -> RegistryDelta? {
        let header = self.header
        guard !changedNodes.isEmpty || header != takenHeader else { return nil }
        var upserted: [NodeRecord] = []
        var removed: [String] = []
        for id in changedNodes.sorted() {
            if let record = nodes[id] { upserted.append(record) } else { removed.append(id) }
        }
        changedNodes.removeAll(keepingCapacity: true)
        takenHeader = header
        return RegistryDelta(header: header, upserted: upserted, removed: removed)
    }

    public var snapshot: RegistrySnapshot {
        RegistrySnapshot(clusterID: clusterID, version: version, bootstrapInitiated: bootstrapInitiated,
                         leader: leader, lastReport: lastReport, pendingBootstrapNode: pendingBootstrapNode,
                         nodes: nodes.values.sorted { $0.nodeID < $1.nodeID })
    }

    /// Restores a saved registry. Every node comes back unconfirmed (stale)
    /// with a fresh lease, so nodes have one lease period to re-report.
    public init(restoring snapshot: RegistrySnapshot, config: RegistryConfig, now: Double) {
        self.config = config
        clusterID = snapshot.clusterID
        version = min(snapshot.version, .max - 1) + 1
        bootstrapInitiated = snapshot.bootstrapInitiated
        leader = snapshot.leader
        lastReport = snapshot.lastReport
        pendingBootstrapNode = snapshot.pendingBootstrapNode
        lastAliveAt = now
        for var record in snapshot.nodes.prefix(config.maxNodes) {
            record.confirmed = false
            record.leaseExpiresAt = now + config.leaseSeconds
            insert(record)
        }
        changedNodes = []
        takenHeader = header
    }
}

/// FNV-1a: a hash that is the same in every process (Swift's `Hasher` is seeded per run).
enum StableHash {
    static func of(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}

/// The registry as saved on disk.
public struct RegistrySnapshot: Codable, Equatable, Sendable {
    public static let currentFormat = 1
    public var format = RegistrySnapshot.currentFormat
    public var clusterID: String?
    public var version: UInt64
    public var bootstrapInitiated: Bool
    public var leader: LeaderRecord?
    public var lastReport: ReportKey?
    public var pendingBootstrapNode: String?
    public var nodes: [NodeRecord]
    /// The first journal generation not folded into this snapshot (nil in
    /// snapshots written before the journal): replay starts there.
    public var journalGeneration: UInt64? = nil

    public static let empty = RegistrySnapshot(
        clusterID: nil, version: 0, bootstrapInitiated: false, leader: nil, lastReport: nil, pendingBootstrapNode: nil,
        nodes: [])
}
