import Consensus

/// Random faults for one seed: partitions (symmetric and one-way), crashes and
/// restarts, lossy/duplicating/reordering links, slow disks, client proposals,
/// reads and leadership transfers. Then everything heals and the cluster must
/// make progress again within a bound.
struct Chaos {
    struct Outcome {
        var violations: [String]
        /// Ticks from healing until a fresh proposal was applied everywhere (nil: never).
        var recoveryTicks: Int?
        var committed: UInt64
        var readsServed: Int
        var sent: [Message.Kind: Int] = [:]
        var terms = 0
    }

    var nodeCount: Int
    var faultTicks: Int
    var recoveryBound: Int
    var membershipChurn = false

    func run(seed: UInt64) -> Outcome {
        var plan = SplitMix64(seed: seed ^ 0xC4A0_5000)
        var options = Simulation.Options()
        options.nodeCount = nodeCount
        options.maxInflight = 1 + Int(plan.next(below: 4))
        options.maxEntriesPerMessage = [1, 3, 64][Int(plan.next(below: 3))]
        options.compactionThreshold = [nil, 5, 12][Int(plan.next(below: 3))]
        if membershipChurn { options.start = .bootstrapFirst }
        let sim = Simulation(seed: seed, options: options)
        sim.faults = Self.faults(&plan)
        var nextValue = seed << 24
        var joined = 1

        for _ in 0..<faultTicks {
            if membershipChurn { churnMembership(sim, &plan, &joined) }
            disturb(sim, &plan)
            for _ in 0..<Int(plan.next(below: 3)) {
                nextValue += 1
                let target = plan.next(below: 10) < 7 ? sim.currentLeader() : sim.upNodes.randomElement(using: &plan)
                if let target { sim.propose(nextValue, at: target) }
            }
            if plan.next(below: 10) == 0, let node = sim.upNodes.randomElement(using: &plan) { sim.requestRead(at: node) }
            sim.run(ticks: 1)
            if sim.failed { break }
        }
        guard !sim.failed else { return Outcome(violations: sim.violations, recoveryTicks: nil, committed: sim.highestApplied, readsServed: sim.readsServed) }

        // Heal: reliable network, every node back up.
        sim.healNetwork()
        sim.faults = .reliable
        for node in sim.nodes.indices { sim.restart(node) }
        nextValue += 1
        let probe = nextValue
        let start = sim.now
        var proposedAt: LogPosition?
        let recovered = sim.run(upToTicks: recoveryBound) {
            if let leader = sim.settledLeader(), let core = sim.core(leader), core.term(at: core.commitIndex) == core.term {
                // (Re)propose if our entry never made it (e.g. it was proposed to a leader that then lost office).
                if sim.indexOfValue[probe] == nil && (proposedAt == nil || core.term(at: proposedAt!.index) != proposedAt!.term) {
                    proposedAt = sim.propose(probe, at: leader)
                }
            }
            return sim.activeMembers.allSatisfy { sim.hasApplied(value: probe, on: $0) }
        }
        var violations = sim.violations
        if recovered == nil {
            violations.append("seed \(seed): no progress within \(recoveryBound) ticks after healing; "
                + sim.nodes.indices.map { "\(sim.nodes[$0].id): \(sim.core($0).map { "\($0.role) t\($0.term) c\($0.commitIndex) l\($0.lastIndex)" } ?? "down")" }.joined(separator: ", "))
        }
        return Outcome(violations: violations, recoveryTicks: recovered.map { _ in (sim.now - start) / Simulation.unitsPerTick },
                       committed: sim.highestApplied, readsServed: sim.readsServed, sent: sim.sentCounts,
                       terms: sim.leaderOfTerm.count)
    }

    static func faults(_ plan: inout SplitMix64) -> Simulation.Faults {
        var faults = Simulation.Faults()
        faults.lossPerMille = [0, 20, 100, 250][Int(plan.next(below: 4))]
        faults.duplicatePerMille = [0, 50][Int(plan.next(below: 2))]
        faults.maxDelay = [3, 8, 25][Int(plan.next(below: 3))]
        faults.longDelayPerMille = [0, 30][Int(plan.next(below: 2))]
        faults.maxPersistDelay = [0, 4, 15][Int(plan.next(below: 3))]
        return faults
    }

    private func disturb(_ sim: Simulation, _ plan: inout SplitMix64) {
        let nodes = sim.nodes.indices
        switch plan.next(below: 100) {
        case 0..<4:
            // A random split into two sides.
            var sides: [[Int]] = [[], []]
            for node in nodes { sides[Int(plan.next(below: 2))].append(node) }
            sim.partition(sides)
        case 4..<6:
            let a = Int(plan.next(below: UInt64(sim.nodes.count))), b = Int(plan.next(below: UInt64(sim.nodes.count)))
            if a != b { sim.block(from: a, to: b) }
        case 6..<8:
            if let leader = sim.currentLeader() { sim.disconnect(leader) }
        case 8..<11:
            sim.healNetwork()
        case 11..<13:
            if let node = sim.upNodes.randomElement(using: &plan) { sim.crash(node) }
        case 13..<15:
            if let leader = sim.currentLeader() { sim.crash(leader) }
        case 15..<22:
            if let node = nodes.filter({ !sim.nodes[$0].isUp }).randomElement(using: &plan) { sim.restart(node) }
        case 22:
            if let leader = sim.currentLeader(), let core = sim.core(leader),
               let target = core.clusterConfig.voters.sorted().randomElement(using: &plan) {
                _ = try? sim.input(leader) { core throws(RaftError) in try core.transferLeadership(to: target) }
            }
        default:
            break
        }
    }

    /// Adds fresh nodes as learners and removes members, through the leader.
    private func churnMembership(_ sim: Simulation, _ plan: inout SplitMix64, _ joined: inout Int) {
        guard let leader = sim.currentLeader(), let config = sim.core(leader)?.clusterConfig else { return }
        let roll = plan.next(below: 100)
        if roll < 4 && config.members.count < nodeCount + 1 {
            joined += 1
            let id = "n\(sim.nodes.count + 1)"
            sim.addNode(id)
            _ = try? sim.proposeConfigChange(.addLearner(id, address: "addr-\(id)"), at: leader)
        } else if roll < 6 && config.voters.count > 2 {
            if let victim = config.members.sorted().randomElement(using: &plan) {
                _ = try? sim.proposeConfigChange(.remove(victim), at: leader)
            }
        }
    }
}

extension Simulation {
    /// Nodes that should make progress: up, and members of the latest config
    /// some up node knows of (removed nodes are left out).
    var activeMembers: [Int] {
        guard let leader = settledLeader(), let config = core(leader)?.clusterConfig else { return upNodes }
        return upNodes.filter { config.contains(nodes[$0].id) }
    }
}
