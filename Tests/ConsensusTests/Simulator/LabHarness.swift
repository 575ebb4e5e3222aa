import Consensus

/// Connectivity the way the MIT 6.824 `config.go` models it: every node carries
/// a `connected` flag; `connect(i)` restores the links between `i` and every
/// node whose flag is set. (`Simulation.connect` instead derives "connected"
/// from the links, so it reconnects nothing when every other node happens to be
/// isolated, e.g. after disconnecting two nodes of three.)
final class Lab {
    let sim: Simulation
    private(set) var connected: [Bool]
    /// A fresh client value for every proposal (values must be unique: the
    /// safety checks flag a value applied twice).
    private var lastValue: UInt64

    init(seed: UInt64, nodes: Int, configure: (inout Simulation.Options) -> Void = { _ in }) {
        var options = Simulation.Options()
        options.nodeCount = nodes
        configure(&options)
        sim = Simulation(seed: seed, options: options)
        connected = Array(repeating: true, count: nodes)
        lastValue = seed << 32
    }

    func nextValue() -> UInt64 {
        lastValue += 1
        return lastValue
    }

    func disconnect(_ node: Int) {
        connected[node] = false
        for other in sim.nodes.indices where other != node {
            sim.block(from: node, to: other)
            sim.block(from: other, to: node)
        }
    }

    func connect(_ node: Int) {
        connected[node] = true
        for other in sim.nodes.indices where other != node && connected[other] {
            sim.unblock(from: node, to: other)
            sim.unblock(from: other, to: node)
        }
    }

    /// `crash1`: cut off and lose everything not on disk.
    func crash(_ node: Int) {
        disconnect(node)
        sim.crash(node)
    }

    /// `start1`: rebuild from disk; the node stays disconnected until `connect`.
    func start(_ node: Int) { sim.restart(node) }

    func startAndConnect(_ node: Int) {
        start(node)
        connect(node)
    }

    /// `checkOneLeader` of the lab, which sleeps before it looks: gives a
    /// disconnected leader's followers time to notice and elect another.
    func checkOneLeader() -> Int? {
        sim.run(ticks: 2 * sim.options.electionTicks)
        return sim.checkOneLeader()
    }

    /// `one` with a fresh value; the index it was committed at.
    @discardableResult
    func one(expectedServers: Int, retry: Bool = true, maxTicks: Int = 300) -> UInt64? {
        sim.one(nextValue(), expectedServers: expectedServers, retry: retry, maxTicks: maxTicks)
    }
}

extension Simulation {
    /// Up nodes that believe they lead (connected or not).
    var leaders: [Int] { nodes.indices.filter { role($0) == .leader } }

    /// Runs at most `count` events (or one tick, whichever ends first): sleeps
    /// shorter than a tick, e.g. to crash a leader while its AppendEntries are in flight.
    func runEvents(_ count: Int) {
        var seen = 0
        run(upToTicks: 1) {
            seen += 1
            return seen > count
        }
    }

    /// The nodes hold identical logs (same last entry and commit) and applied all of it.
    func logsConverged(_ group: [Int]) -> Bool {
        let cores = group.compactMap { core($0) }
        guard cores.count == group.count, let first = cores.first else { return false }
        return cores.allSatisfy {
            $0.lastIndex == first.lastIndex && $0.lastTerm == first.lastTerm && $0.commitIndex == first.commitIndex
                && $0.commitIndex == $0.lastIndex
        } && group.allSatisfy { appliedIndex($0) == first.commitIndex }
    }

    /// One-line state of every node, for failure messages.
    var summary: String {
        nodes.indices.map { node in
            "\(nodes[node].id): " + (core(node).map {
                "\($0.role) t\($0.term) c\($0.commitIndex) l\($0.lastIndex)/\($0.lastTerm) s\($0.snapshotIndex)"
            } ?? "down")
        }.joined(separator: ", ")
    }
}
