import Consensus

/// Helpers in the spirit of the MIT 6.824 lab 2 harness (`checkOneLeader`, `one`, `nCommitted`).
extension Simulation {
    /// Up and not isolated.
    func isConnected(_ node: Int) -> Bool { nodes[node].isUp && !isIsolated(node) }

    var connectedNodes: [Int] { nodes.indices.filter(isConnected) }

    /// Exactly one leader among connected nodes, and nobody connected is in a later term.
    func settledLeader() -> Int? {
        let connected = connectedNodes
        let leaders = connected.filter { role($0) == .leader }
        guard leaders.count == 1, let leader = leaders.first else { return nil }
        let term = term(leader)!
        return connected.allSatisfy { self.term($0)! <= term } ? leader : nil
    }

    /// Runs until one leader is settled; nil if none within `maxTicks`.
    func checkOneLeader(maxTicks: Int = 150) -> Int? {
        var found: Int?
        run(upToTicks: maxTicks) {
            found = settledLeader()
            return found != nil
        }
        return found
    }

    /// Proposes `value` through the current leader until at least `expectedServers`
    /// nodes applied it; returns its index. Without `retry`, one attempt only.
    func one(_ value: UInt64, expectedServers: Int, retry: Bool = true, maxTicks: Int = 300) -> UInt64? {
        let deadline = now + maxTicks * Self.unitsPerTick
        while now < deadline && !failed {
            if let index = indexOfValue[value], committedCount(at: index).count >= expectedServers { return index }
            guard indexOfValue[value] == nil, let leader = settledLeader(), propose(value, at: leader) != nil else {
                run(ticks: 1)
                continue
            }
            let waited = run(upToTicks: 4 * options.electionTicks) {
                guard let index = indexOfValue[value] else { return false }
                return committedCount(at: index).count >= expectedServers
            }
            if waited != nil { return indexOfValue[value] }
            if !retry { return nil }
        }
        return nil
    }

    /// Runs until every up node has applied `value`.
    @discardableResult
    func waitUntilAllApplied(_ value: UInt64, maxTicks: Int = 200) -> Bool {
        run(upToTicks: maxTicks) { upNodes.allSatisfy { hasApplied(value: value, on: $0) } } != nil
    }

    /// The highest index applied anywhere.
    var highestApplied: UInt64 { UInt64(digestAt.count - 1) }
}
