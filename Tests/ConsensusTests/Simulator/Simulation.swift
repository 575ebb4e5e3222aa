import Consensus

/// A deterministic cluster of `RaftCore`s with a simulated network, disks,
/// crashes and a simple replicated state machine. Everything random comes from
/// the seed. Time runs in units; every node ticks once per `unitsPerTick`
/// units, at its own phase. The five safety properties are checked after every
/// event (see SafetyChecks.swift); violations are collected and stop the run.
final class Simulation {
    struct Options {
        var nodeCount = 3
        var electionTicks = 10
        var heartbeatTicks = 1
        var preVote = true
        var checkQuorum = true
        var maxEntriesPerMessage = 64
        var maxBytesPerMessage = 1 << 20
        var maxInflight = 4
        var learnerCatchUpMargin: UInt64 = 8
        var autoPromote = true
        /// Nodes compact once they applied this many entries past their snapshot.
        var compactionThreshold: UInt64?
        var start = Start.staticVoters
    }

    enum Start {
        /// All nodes are voters of a shared initial snapshot (index 1, term 1).
        case staticVoters
        /// Only n1 exists: it bootstraps; others join with `addNode`.
        case bootstrapFirst
    }

    /// Network and disk behaviour; change it at any time.
    struct Faults {
        var lossPerMille = 0
        var duplicatePerMille = 0
        var minDelay = 1
        var maxDelay = 4
        /// A message is held back up to `longDelay` units with this probability (reordering).
        var longDelayPerMille = 0
        var longDelay = 60
        var minPersistDelay = 0
        var maxPersistDelay = 0

        static let reliable = Faults()
        static let unreliable = Faults(lossPerMille: 100, duplicatePerMille: 50, minDelay: 1, maxDelay: 12,
                                       longDelayPerMille: 50, longDelay: 80, minPersistDelay: 0, maxPersistDelay: 6)
    }

    struct LeaderWatch {
        var term: UInt64
        var lastIndex: UInt64
        var lastTerm: UInt64
    }

    struct Node {
        let id: NodeID
        var core: RaftCore?
        var disk = SimDisk()
        var machine = SimStateMachine.empty
        var outstanding: Ready?
        var incarnation = 0
        var watch: LeaderWatch?
        var isUp: Bool { core != nil }
    }

    enum Event {
        case tick(node: Int, incarnation: Int)
        case deliver(Message)
        case persisted(node: Int, incarnation: Int)
    }

    private struct Link: Hashable {
        var from: Int
        var to: Int
    }

    static let unitsPerTick = 10

    let seed: UInt64
    let options: Options
    var faults = Faults.reliable
    private(set) var now = 0
    private(set) var nodes: [Node] = []
    private var indexOf: [NodeID: Int] = [:]
    private var blockedLinks: Set<Link> = []
    private var events = EventQueue<Event>()
    var rng: SplitMix64

    private(set) var violations: [String] = []
    /// Messages handed to the network, by kind (for RPC-count tests).
    private(set) var sentCounts: [Message.Kind: Int] = [:]
    /// Messages a test wants to watch, e.g. AppendEntries responses of one follower.
    var messageObserver: ((Message) -> Void)?

    // Global knowledge used by the safety checks.
    var leaderOfTerm: [UInt64: Int] = [:]
    var entryFingerprints: [EntryKey: EntryFingerprint] = [:]
    /// `digestAt[i]`: the state machine's digest after applying index i (identical on every node).
    var digestAt: [UInt64] = [0, SimStateMachine.initial.digest]
    var committedTermAt: [UInt64] = [0, 1]
    /// `commitTermAt[i]`: the term of the first leader seen whose commit index covered i.
    /// Leader Completeness binds the leaders of later terms only: an entry of term 2 can be
    /// committed in term 4, and a leader of term 3 may lack it.
    var commitTermAt: [UInt64] = [0, 1]
    /// Which index each proposed value was applied at (values are unique).
    var indexOfValue: [UInt64: UInt64] = [:]
    var valueAt: [UInt64: UInt64] = [:]
    /// Outstanding linearizable reads: context → the highest index applied anywhere when the read was issued.
    var readFloors: [[UInt8]: UInt64] = [:]
    private(set) var readsServed = 0
    private var nextReadContext: UInt64 = 0

    init(seed: UInt64, options: Options = Options()) {
        self.seed = seed
        self.options = options
        rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 17)
        switch options.start {
        case .staticVoters:
            let ids = (1...options.nodeCount).map { "n\($0)" }
            let cluster = ClusterConfig(voters: Set(ids), addresses: Dictionary(uniqueKeysWithValues: ids.map { ($0, "addr-\($0)") }))
            let snapshot = Snapshot(metadata: SnapshotMetadata(lastIncludedIndex: 1, lastIncludedTerm: 1, config: cluster),
                                    data: SimStateMachine.initial.encoded)
            for id in ids {
                var node = Node(id: id)
                node.disk = SimDisk(hardState: HardState(term: 1, commit: 1), snapshot: snapshot, entries: [])
                addNodeRecord(node)
                restart(nodes.count - 1)
            }
        case .bootstrapFirst:
            addNodeRecord(Node(id: "n1"))
            let core: RaftCore
            do {
                core = try RaftCore.bootstrap(config: raftConfig(for: 0), address: "addr-n1", state: PersistentState(),
                                              initialData: SimStateMachine.initial.encoded)
            } catch {
                preconditionFailure("bootstrap failed: \(error)")
            }
            start(0, core: core, machine: .empty)
        }
    }

    // MARK: node management

    func raftConfig(for node: Int) -> RaftConfig {
        RaftConfig(id: nodes[node].id,
                   randomSeed: SimStateMachine.mix(seed, UInt64(node), UInt64(nodes[node].incarnation)),
                   electionTicks: options.electionTicks, heartbeatTicks: options.heartbeatTicks,
                   preVote: options.preVote, checkQuorum: options.checkQuorum,
                   maxEntriesPerMessage: options.maxEntriesPerMessage, maxBytesPerMessage: options.maxBytesPerMessage,
                   maxInflightMessages: options.maxInflight,
                   learnerCatchUpMargin: options.learnerCatchUpMargin, autoPromoteLearners: options.autoPromote)
    }

    private func addNodeRecord(_ node: Node) {
        indexOf[node.id] = nodes.count
        nodes.append(node)
    }

    /// Starts a brand-new empty node (a joiner); returns its index. It does nothing until a leader contacts it.
    @discardableResult
    func addNode(_ id: NodeID) -> Int {
        precondition(indexOf[id] == nil, "node \(id) exists")
        addNodeRecord(Node(id: id))
        restart(nodes.count - 1)
        return nodes.count - 1
    }

    func index(of id: NodeID) -> Int? { indexOf[id] }

    func core(_ node: Int) -> RaftCore? { nodes[node].core }

    func updateNode(_ node: Int, _ body: (inout Node) -> Void) { body(&nodes[node]) }

    /// Loses everything not on disk: the core, the un-advanced Ready, the state machine.
    func crash(_ node: Int) {
        guard nodes[node].isUp else { return }
        nodes[node].core = nil
        nodes[node].outstanding = nil
        nodes[node].watch = nil
        nodes[node].incarnation += 1
    }

    /// Rebuilds the node from its disk; the state machine restarts from the stored snapshot.
    func restart(_ node: Int) {
        guard !nodes[node].isUp else { return }
        let disk = nodes[node].disk
        var machine = SimStateMachine.empty
        if let snapshot = disk.snapshot {
            guard let restored = SimStateMachine(decoding: snapshot.data) else {
                return violation("n\(node + 1): undecodable snapshot on disk")
            }
            machine = restored
        }
        do {
            let core = try RaftCore(config: raftConfig(for: node), state: disk.state)
            start(node, core: core, machine: machine)
        } catch {
            violation("\(nodes[node].id) cannot restart from its disk: \(error)")
        }
    }

    private func start(_ node: Int, core: RaftCore, machine: SimStateMachine) {
        nodes[node].core = core
        nodes[node].machine = machine
        let phase = Int(rng.next(below: UInt64(Self.unitsPerTick))) + 1
        events.push(at: now + phase, .tick(node: node, incarnation: nodes[node].incarnation))
        settle(node)
    }

    // MARK: network

    func isBlocked(from: Int, to: Int) -> Bool { blockedLinks.contains(Link(from: from, to: to)) }

    func block(from: Int, to: Int) { blockedLinks.insert(Link(from: from, to: to)) }

    func unblock(from: Int, to: Int) { blockedLinks.remove(Link(from: from, to: to)) }

    /// Cuts every link between the groups (nodes in no group keep their links).
    func partition(_ groups: [[Int]]) {
        healNetwork()
        for (g, group) in groups.enumerated() {
            for (h, other) in groups.enumerated() where g != h {
                for a in group { for b in other { block(from: a, to: b) } }
            }
        }
    }

    func disconnect(_ node: Int) {
        for other in nodes.indices where other != node {
            block(from: node, to: other)
            block(from: other, to: node)
        }
    }

    func connect(_ node: Int) {
        for other in nodes.indices where other != node && !isIsolated(other) {
            unblock(from: node, to: other)
            unblock(from: other, to: node)
        }
    }

    /// Blocked from every other node in both directions.
    /// Cut off from every other node (a node alone in the simulation is not isolated).
    func isIsolated(_ node: Int) -> Bool {
        nodes.count > 1
            && nodes.indices.allSatisfy { $0 == node || (isBlocked(from: node, to: $0) && isBlocked(from: $0, to: node)) }
    }

    func healNetwork() { blockedLinks.removeAll() }

    private func transmit(_ message: Message) {
        sentCounts[message.kind, default: 0] += 1
        messageObserver?(message)
        guard let from = indexOf[message.from], let to = indexOf[message.to], !isBlocked(from: from, to: to) else { return }
        if roll(faults.lossPerMille) { return }
        let copies = roll(faults.duplicatePerMille) ? 2 : 1
        for _ in 0..<copies {
            var delay = faults.minDelay + Int(rng.next(below: UInt64(faults.maxDelay - faults.minDelay + 1)))
            if roll(faults.longDelayPerMille) { delay += Int(rng.next(below: UInt64(faults.longDelay))) }
            events.push(at: now + delay, .deliver(message))
        }
    }

    func roll(_ perMille: Int) -> Bool { perMille > 0 && Int(rng.next(below: 1000)) < perMille }

    // MARK: running

    var failed: Bool { !violations.isEmpty }

    func run(ticks: Int) {
        runUnits(until: now + ticks * Self.unitsPerTick)
    }

    /// Runs until `condition` holds (checked after every event) or `maxTicks` pass;
    /// returns the ticks it took, or nil.
    @discardableResult
    func run(upToTicks maxTicks: Int, until condition: () -> Bool) -> Int? {
        let start = now
        let deadline = now + maxTicks * Self.unitsPerTick
        if condition() { return 0 }
        while !failed, let (time, event) = events.pop(dueBy: deadline) {
            now = time
            handle(event)
            if condition() { return (now - start + Self.unitsPerTick - 1) / Self.unitsPerTick }
        }
        if !failed { now = deadline }
        return nil
    }

    private func runUnits(until deadline: Int) {
        while !failed, let (time, event) = events.pop(dueBy: deadline) {
            now = time
            handle(event)
        }
        if !failed { now = deadline }
    }

    private func handle(_ event: Event) {
        switch event {
        case .tick(let node, let incarnation):
            guard nodes[node].incarnation == incarnation, nodes[node].isUp else { return }
            events.push(at: now + Self.unitsPerTick, .tick(node: node, incarnation: incarnation))
            nodes[node].core!.tick()
            settle(node)
        case .deliver(let message):
            guard let from = indexOf[message.from], let to = indexOf[message.to],
                  nodes[to].isUp, !isBlocked(from: from, to: to) else { return }
            nodes[to].core!.step(message)
            settle(to)
        case .persisted(let node, let incarnation):
            guard nodes[node].incarnation == incarnation, nodes[node].isUp else { return }
            completeReady(node)
            settle(node)
        }
    }

    /// After any input: check the node, then drive its Ready cycle.
    func settle(_ node: Int) {
        observe(node)
        while !failed, nodes[node].isUp, nodes[node].outstanding == nil, nodes[node].core!.hasReady {
            let ready = nodes[node].core!.ready()
            inspect(ready, of: node)
            nodes[node].outstanding = ready
            let delay = ready.mustPersist ? faults.minPersistDelay
                + Int(rng.next(below: UInt64(faults.maxPersistDelay - faults.minPersistDelay + 1))) : 0
            if delay > 0 {
                events.push(at: now + delay, .persisted(node: node, incarnation: nodes[node].incarnation))
                return
            }
            completeReady(node)
        }
    }

    /// The driver contract: persist, send, apply, advance.
    private func completeReady(_ node: Int) {
        guard let ready = nodes[node].outstanding else { return }
        if let complaint = nodes[node].disk.persist(ready) {
            return violation("\(nodes[node].id) Ready breaks the storage contract: \(complaint)")
        }
        for message in ready.messages { transmit(message) }
        apply(ready, on: node)
        for read in ready.readStates { checkRead(read, on: node) }
        nodes[node].core!.advance(ready)
        nodes[node].outstanding = nil
        compactIfDue(node)
        observe(node)
    }

    private func compactIfDue(_ node: Int) {
        guard let threshold = options.compactionThreshold, let core = nodes[node].core else { return }
        let machine = nodes[node].machine
        guard machine.index >= core.snapshotIndex + threshold else { return }
        do {
            let snapshot = try nodes[node].core!.compact(upTo: machine.index, snapshotData: machine.encoded)
            nodes[node].disk.store(compacted: snapshot)
        } catch {
            violation("\(nodes[node].id) compact(upTo: \(machine.index)) failed: \(error)")
        }
    }

    func violation(_ text: String) {
        violations.append("seed \(seed) t=\(now / Self.unitsPerTick): \(text)")
    }

    // MARK: clients

    /// Proposes `value` at `node`; the position if it is the leader.
    @discardableResult
    func propose(_ value: UInt64, at node: Int) -> LogPosition? {
        guard nodes[node].isUp, let position = try? nodes[node].core!.propose(SimStateMachine.bytes(value)) else { return nil }
        settle(node)
        return position
    }

    func proposeConfigChange(_ change: ConfigChange, at node: Int) throws(RaftError) -> LogPosition {
        guard nodes[node].isUp else { throw .notLeader(leaderHint: nil) }
        let position = try nodes[node].core!.proposeConfigChange(change)
        settle(node)
        return position
    }

    /// Runs a mutating input on a node's core, then settles it.
    func input<T>(_ node: Int, _ body: (inout RaftCore) throws(RaftError) -> T) throws(RaftError) -> T {
        guard nodes[node].isUp else { throw .notLeader(leaderHint: nil) }
        let result = try body(&nodes[node].core!)
        settle(node)
        return result
    }

    /// Issues a linearizable read at `node`; false if the node refused (no leader known).
    @discardableResult
    func requestRead(at node: Int) -> Bool {
        nextReadContext += 1
        let context = SimStateMachine.bytes(nextReadContext)
        guard nodes[node].isUp, (try? nodes[node].core!.readIndex(context: context)) != nil else { return false }
        readFloors[context] = UInt64(digestAt.count - 1)
        settle(node)
        return true
    }

    /// Linearizability: the read index covers every write applied anywhere before the read was issued.
    private func checkRead(_ read: ReadState, on node: Int) {
        // A duplicated forward can be answered twice; each answer must still be fresh.
        guard let floor = readFloors[read.context] else {
            return violation("\(nodes[node].id) answers a read nobody asked")
        }
        if read.index < floor {
            violation("stale read on \(nodes[node].id): read index \(read.index) but \(floor) was applied before the read")
        }
        readsServed += 1
    }

    // MARK: queries

    var upNodes: [Int] { nodes.indices.filter { nodes[$0].isUp } }

    func role(_ node: Int) -> Role? { nodes[node].core?.role }

    func term(_ node: Int) -> UInt64? { nodes[node].core?.term }

    /// The leader with the highest term among up nodes that are not isolated.
    func currentLeader() -> Int? {
        nodes.indices.filter { nodes[$0].core?.role == .leader && !isIsolated($0) }
            .max { nodes[$0].core!.term < nodes[$1].core!.term }
    }

    /// Applied index of the state machine on `node` (nil when down).
    func appliedIndex(_ node: Int) -> UInt64? { nodes[node].isUp ? nodes[node].machine.index : nil }

    func machine(_ node: Int) -> SimStateMachine { nodes[node].machine }

    /// How many up nodes have applied index `index`, and the value there (if a normal entry).
    func committedCount(at index: UInt64) -> (count: Int, value: UInt64?) {
        (upNodes.filter { nodes[$0].machine.index >= index }.count, valueAt[index])
    }

    func hasApplied(value: UInt64, on node: Int) -> Bool {
        guard let index = indexOfValue[value] else { return false }
        return nodes[node].isUp && nodes[node].machine.index >= index
    }

    func sentCount(_ kinds: Message.Kind...) -> Int { kinds.reduce(0) { $0 + sentCounts[$1, default: 0] } }

    var totalSent: Int { sentCounts.values.reduce(0, +) }
}
