import Consensus
import Testing

/// Lab 2D: log compaction and InstallSnapshot.
@Suite struct SnapshotTests {
    static let interval: UInt64 = 10

    static func lab(seed: UInt64, nodes: Int = 3) -> Lab {
        Lab(seed: seed, nodes: nodes) { $0.compactionThreshold = interval }
    }

    /// Entries held in memory and on disk stay bounded by the compaction interval.
    static func expectLogsBounded(_ sim: Simulation, sourceLocation: SourceLocation = #_sourceLocation) {
        for node in sim.upNodes {
            let core = sim.core(node)!
            #expect(core.lastIndex - core.snapshotIndex <= 3 * interval, "n\(node + 1) log \(core.snapshotIndex)...\(core.lastIndex)",
                    sourceLocation: sourceLocation)
            #expect(sim.nodes[node].disk.entries.count <= 3 * Int(interval), sourceLocation: sourceLocation)
        }
    }

    /// TestSnapshotBasic2D: everyone compacts and keeps agreeing.
    @Test func snapshotBasic() throws { try Self.snapshotBasic(seed: 30) }

    static func snapshotBasic(seed: UInt64) throws {
        let lab = Self.lab(seed: seed)
        let sim = lab.sim
        for _ in 0..<60 {
            #expect(lab.one(expectedServers: 3) != nil)
            Self.expectLogsBounded(sim)
            if sim.failed { break }
        }
        #expect((0..<3).allSatisfy { sim.core($0)!.snapshotIndex > 40 }, "\(sim.summary)")
        #expect(sim.violations == [])
    }

    /// `snapcommon` of the lab: a follower (every third round the leader) drops
    /// out, the others move on and compact, it comes back and must catch up,
    /// through InstallSnapshot whenever what it lacks was compacted away.
    static func snapcommon(seed: UInt64, disconnect: Bool, reliable: Bool, crash: Bool) throws {
        let lab = Self.lab(seed: seed)
        let sim = lab.sim
        var plan = SplitMix64(seed: seed &* 31)
        if !reliable { sim.faults = .unreliable }

        // InstallSnapshot messages to each node sent while it could receive them.
        var snapshotsTo: [Int] = [0, 0, 0]
        sim.messageObserver = { message in
            guard message.kind == .installSnapshot, let to = sim.index(of: message.to), let from = sim.index(of: message.from),
                  !sim.isBlocked(from: from, to: to), sim.core(to) != nil else { return }
            snapshotsTo[to] += 1
        }

        #expect(lab.one(expectedServers: 3) != nil)
        var leader1 = try #require(sim.checkOneLeader())
        var installs = 0
        for round in 0..<12 {
            var victim = (leader1 + 1) % 3
            var sender = leader1
            if round % 3 == 1 {
                sender = (leader1 + 1) % 3
                victim = leader1
            }
            if disconnect {
                lab.disconnect(victim)
                #expect(lab.one(expectedServers: 2) != nil, "round \(round): \(sim.summary)")
            }
            if crash {
                lab.crash(victim)
                #expect(lab.one(expectedServers: 2) != nil, "round \(round): \(sim.summary)")
            }
            // Enough to (probably) make a snapshot.
            let count = Self.interval / 2 + plan.next(below: Self.interval)
            for _ in 0..<count { sim.propose(lab.nextValue(), at: sender) }
            #expect(lab.one(expectedServers: 2) != nil, "round \(round): \(sim.summary)")
            Self.expectLogsBounded(sim)

            // Does the victim need entries that every live node has compacted away?
            let victimLast = crash ? sim.nodes[victim].disk.state.entries.last?.index ?? sim.nodes[victim].disk.snapshot!.metadata.lastIncludedIndex
                : sim.core(victim)!.lastIndex
            let needsSnapshot = (0..<3).filter { $0 != victim }.allSatisfy { sim.core($0)!.snapshotIndex > victimLast }
            snapshotsTo[victim] = 0
            if crash { lab.start(victim) }
            lab.connect(victim)
            let value = lab.nextValue()
            #expect(sim.one(value, expectedServers: 3) != nil, "round \(round): \(sim.summary)")
            #expect(sim.hasApplied(value: value, on: victim))
            if needsSnapshot {
                installs += 1
                #expect(snapshotsTo[victim] > 0, "round \(round): n\(victim + 1) caught up from \(victimLast) without a snapshot?")
                #expect(sim.core(victim)!.snapshotIndex > victimLast)
            }
            leader1 = try #require(sim.checkOneLeader(), "round \(round): \(sim.summary)")
            if sim.failed { break }
        }
        #expect(installs >= 4, "only \(installs) rounds needed a snapshot")
        #expect(sim.sentCount(.installSnapshot) > 0)
        #expect(sim.sentCount(.installSnapshotResponse) > 0)
        #expect(sim.violations == [])
    }

    /// TestSnapshotInstall2D.
    @Test func snapshotInstall() throws { try Self.snapcommon(seed: 31, disconnect: true, reliable: true, crash: false) }

    /// TestSnapshotInstallUnreliable2D.
    @Test func snapshotInstallUnreliable() throws { try Self.snapcommon(seed: 32, disconnect: true, reliable: false, crash: false) }

    /// TestSnapshotInstallCrash2D.
    @Test func snapshotInstallCrash() throws { try Self.snapcommon(seed: 33, disconnect: false, reliable: true, crash: true) }

    /// TestSnapshotInstallUnCrash2D.
    @Test func snapshotInstallUnreliableCrash() throws { try Self.snapcommon(seed: 34, disconnect: false, reliable: false, crash: true) }

    /// A focused version: one follower misses 30 entries the others compact;
    /// it catches up through exactly this path.
    @Test func laggingFollowerGetsSnapshot() throws { try Self.laggingFollowerGetsSnapshot(seed: 35) }

    static func laggingFollowerGetsSnapshot(seed: UInt64) throws {
        let lab = Self.lab(seed: seed)
        let sim = lab.sim
        #expect(lab.one(expectedServers: 3) != nil)
        let leader = try #require(sim.checkOneLeader())
        let follower = (leader + 1) % 3
        lab.disconnect(follower)
        for _ in 0..<30 { #expect(lab.one(expectedServers: 2) != nil) }
        let behind = sim.core(follower)!.lastIndex
        #expect(sim.core(leader)!.snapshotIndex > behind, "the leader must have compacted what the follower lacks")

        let installsBefore = sim.sentCount(.installSnapshot)
        lab.connect(follower)
        let value = lab.nextValue()
        #expect(sim.one(value, expectedServers: 3) != nil)
        #expect(sim.sentCount(.installSnapshot) > installsBefore)
        #expect(sim.hasApplied(value: value, on: follower))
        #expect(sim.core(follower)!.snapshotIndex > behind)
        #expect(sim.logsConverged([0, 1, 2]), "\(sim.summary)")
        #expect(sim.violations == [])
    }

    /// TestSnapshotAllCrash2D: every node crashes after compacting; progress continues.
    @Test func snapshotAllCrash() throws { try Self.snapshotAllCrash(seed: 36) }

    static func snapshotAllCrash(seed: UInt64) throws {
        let lab = Self.lab(seed: seed)
        let sim = lab.sim
        var plan = SplitMix64(seed: seed &* 0x9E37)
        #expect(lab.one(expectedServers: 3) != nil)
        for round in 0..<5 {
            let count = Self.interval / 2 + plan.next(below: Self.interval)
            for _ in 0..<count { #expect(lab.one(expectedServers: 3) != nil) }
            let index1 = try #require(lab.one(expectedServers: 3))
            for node in 0..<3 { lab.crash(node) }
            for node in 0..<3 { lab.startAndConnect(node) }
            // The restarted state machines start from their snapshots.
            #expect((0..<3).allSatisfy { sim.appliedIndex($0)! >= sim.core($0)!.snapshotIndex })
            let index2 = try #require(lab.one(expectedServers: 3), "round \(round): \(sim.summary)")
            #expect(index2 > index1)
            if sim.failed { break }
        }
        #expect(sim.violations == [])
    }

    /// TestSnapshotInit2D: restarting from a snapshot, twice (the second time with no new snapshot taken).
    @Test func snapshotInit() throws { try Self.snapshotInit(seed: 37) }

    static func snapshotInit(seed: UInt64) throws {
        let lab = Self.lab(seed: seed)
        let sim = lab.sim
        #expect(lab.one(expectedServers: 3) != nil)
        for _ in 0..<(Self.interval + 1) { #expect(lab.one(expectedServers: 1) != nil) }
        #expect((0..<3).contains { sim.core($0)!.snapshotIndex > 1 })
        for node in 0..<3 { lab.crash(node) }
        for node in 0..<3 { lab.startAndConnect(node) }
        #expect(lab.one(expectedServers: 3) != nil, "\(sim.summary)")
        for node in 0..<3 { lab.crash(node) }
        for node in 0..<3 { lab.startAndConnect(node) }
        #expect(lab.one(expectedServers: 3) != nil, "\(sim.summary)")
        #expect(sim.violations == [])
    }
}
