/// A registry read back from disk passes the rules requests pass
/// (`RegistrationValidation`): a hostile or damaged file must not plant what
/// the API would refuse. Entries that fail are dropped, each with a reason.
public enum SnapshotValidation {
    public static func clean(_ snapshot: RegistrySnapshot) -> (snapshot: RegistrySnapshot, dropped: [String]) {
        var result = snapshot
        var dropped: [String] = []
        func keep(_ what: String, _ check: () throws(RegistrationValidation.Failure) -> Void) -> Bool {
            do {
                try check()
                return true
            } catch {
                dropped.append("\(what): \(error)")
                return false
            }
        }
        var seen = Set<String>()
        result.nodes = snapshot.nodes.filter { node in
            keep("node \(node.nodeID.debugDescription)") { () throws(RegistrationValidation.Failure) in
                try checkNode(node)
                guard seen.insert(node.nodeID).inserted else { throw .init("listed twice") }
            }
        }
        if let cluster = snapshot.clusterID,
           !keep("cluster_id", { () throws(RegistrationValidation.Failure) in
               try RegistrationValidation.checkNodeID(cluster, field: "cluster_id") }) {
            result.clusterID = nil
        }
        if let leader = snapshot.leader,
           !keep("leader \(leader.nodeID.debugDescription)", { () throws(RegistrationValidation.Failure) in
               try RegistrationValidation.checkNodeID(leader.nodeID, field: "leader.node_id")
               try RegistrationValidation.checkTerm(leader.term, field: "leader.term")
               try checkTime(leader.learnedAt, field: "leader.learned_at")
           }) {
            result.leader = nil
        }
        if let report = snapshot.lastReport,
           !keep("last report", { () throws(RegistrationValidation.Failure) in
               try RegistrationValidation.checkNodeID(report.reporterID, field: "last_report.reporter_id")
               try RegistrationValidation.checkTerm(report.term, field: "last_report.term")
               try checkTime(report.reportedAt, field: "last_report.reported_at")
           }) {
            result.lastReport = nil
        }
        if let pending = snapshot.pendingBootstrapNode,
           !keep("pending bootstrap node", { () throws(RegistrationValidation.Failure) in
               try RegistrationValidation.checkNodeID(pending, field: "pending_bootstrap_node") }) {
            result.pendingBootstrapNode = nil
        }
        if !keep("version", { () throws(RegistrationValidation.Failure) in
            guard snapshot.version <= RegistrationValidation.maxTerm else {
                throw .init("version \(snapshot.version) is beyond 2^62")
            }
        }) {
            result.version = 0
        }
        return (result, dropped)
    }

    static func checkNode(_ node: NodeRecord) throws(RegistrationValidation.Failure) {
        try RegistrationValidation.checkNodeID(node.nodeID)
        try RegistrationValidation.checkAddress(host: node.address.host, port: node.address.port)
        try RegistrationValidation.checkCapabilities(node.capabilities)
        try RegistrationValidation.checkMetadata(node.metadata)
        try checkTime(node.joinedAt, field: "joined_at")
        try checkTime(node.lastSeen, field: "last_seen")
    }

    /// Unix seconds, and finite (ages are computed from them).
    static func checkTime(_ time: Double, field: String) throws(RegistrationValidation.Failure) {
        guard time.isFinite, time >= 0, time < 1e11 else { throw .init("\(field) \(time) is not a plausible time") }
    }
}
