import Testing
@testable import Discovery

private func registration(_ id: String, port: Int = 9000, cluster: String? = nil) -> Registration {
    Registration(nodeID: id, address: NodeAddress(host: "127.0.0.1", port: port), capabilities: ["train"],
                 clusterID: cluster)
}

private struct ClusterNames {
    var count = 0
    mutating func next() -> String {
        count += 1
        return "cluster-\(count)"
    }
}

@Suite struct BootstrapTests {
    @Test func firstNodeBootstrapsAndBecomesTheLeaderHint() throws {
        var registry = Registry()
        let first = try registry.register(registration("a"), now: 100) { "c1" }
        #expect(first.bootstrap)
        #expect(first.status == .registered)
        #expect(first.clusterID == "c1")
        #expect(first.peers.isEmpty)
        #expect(first.leader?.nodeID == "a")
        #expect(first.leader?.stale == false)

        let second = try registry.register(registration("b", port: 9001), now: 101) { "c2" }
        #expect(!second.bootstrap)
        #expect(second.clusterID == "c1")
        #expect(second.peers.map(\.record.nodeID) == ["a"])
        #expect(second.peers[0].ageSeconds == 1)
        #expect(second.leader?.nodeID == "a")
        #expect(second.leader?.address == NodeAddress(host: "127.0.0.1", port: 9000))
    }

    /// Registrations interleaved in every order a seeded shuffle produces: exactly
    /// one bootstrap, and everyone else is pointed at that node.
    @Test(arguments: 0..<200)
    func exactlyOneBootstrapWhateverTheOrder(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        let ids = (0..<16).map { "node-\($0)" }.shuffled(using: &generator)
        var registry = Registry()
        var names = ClusterNames()
        var outcomes: [RegisterOutcome] = []
        for id in ids { outcomes.append(try registry.register(registration(id), now: 5) { names.next() }) }
        let bootstrappers = outcomes.filter(\.bootstrap)
        #expect(bootstrappers.count == 1)
        #expect(names.count == 1)
        for outcome in outcomes { #expect(outcome.leader?.nodeID == ids[0]) }
        #expect(Set(outcomes.map(\.clusterID)) == ["cluster-1"])
    }

    @Test func nodeWithAClusterIDNeverBootstrapsAndIsAdopted() throws {
        var registry = Registry()
        let outcome = try registry.register(registration("old-member", cluster: "c9"), now: 1) { "fresh" }
        #expect(!outcome.bootstrap)
        #expect(outcome.clusterID == "c9")
        #expect(outcome.leader == nil)
        let next = try registry.register(registration("newcomer"), now: 2) { "fresh" }
        #expect(!next.bootstrap)
        #expect(next.clusterID == "c9")
    }

    @Test func nodeFromAnotherClusterIsRefusedAndChangesNothing() throws {
        var registry = Registry()
        _ = try registry.register(registration("a"), now: 1) { "c1" }
        let before = registry.snapshot
        #expect(throws: RegistryError.clusterMismatch(node: "x", nodeCluster: "other", gatewayCluster: "c1")) {
            _ = try registry.register(registration("x", cluster: "other"), now: 2) { "c2" }
        }
        #expect(registry.snapshot == before)
    }

    @Test func bootstrapAnswerIsRepeatedUntilTheClusterReports() throws {
        var registry = Registry()
        _ = try registry.register(registration("a"), now: 1) { "c1" }
        // The first answer was lost; a retry must still say "bootstrap".
        let retry = try registry.register(registration("a"), now: 2) { "c2" }
        #expect(retry.bootstrap)
        #expect(retry.status == .updated)
        #expect(retry.clusterID == "c1")
        let other = try registry.register(registration("b"), now: 3) { "c2" }
        #expect(!other.bootstrap)
        let report = MembershipReport(reporterID: "a", leaderID: "a", term: 1, reportedAt: 4, members: [], clusterID: "c1")
        #expect(registry.applyReport(report, now: 4) == .accepted)
        let later = try registry.register(registration("a"), now: 5) { "c2" }
        #expect(!later.bootstrap)
    }

    @Test func reRegistrationUpdatesWithoutBootstrapping() throws {
        var registry = Registry()
        _ = try registry.register(registration("z"), now: 0) { "c1" }
        _ = try registry.register(registration("a"), now: 1) { "c1" }
        let again = try registry.register(registration("a", port: 9100), now: 2) { "c2" }
        #expect(again.status == .updated)
        #expect(!again.bootstrap)
        #expect(registry.nodes["a"]?.address.port == 9100)
        #expect(registry.nodes["a"]?.joinedAt == 1)
    }

    @Test func fullRegistryRefusesNewNodes() throws {
        var registry = Registry(config: RegistryConfig(maxNodes: 2))
        _ = try registry.register(registration("a"), now: 1) { "c" }
        _ = try registry.register(registration("b"), now: 1) { "c" }
        #expect(throws: RegistryError.full(limit: 2)) { _ = try registry.register(registration("c"), now: 1) { "c" } }
        let result1 = try registry.register(registration("a"), now: 2) { "c" }.status == .updated
        #expect(result1)
    }
}

@Suite struct LeaseTests {
    @Test func heartbeatsKeepANodeAndSilenceExpiresIt() throws {
        var registry = Registry(config: RegistryConfig(leaseSeconds: 10))
        _ = try registry.register(registration("a"), now: 0) { "c" }
        _ = try registry.register(registration("b"), now: 0) { "c" }
        let result2 = registry.heartbeat(nodeID: "a", now: 8)
        #expect(result2)
        registry.expireLeases(now: 12)
        #expect(registry.nodes.keys.sorted() == ["a"])
        let result3 = !registry.heartbeat(nodeID: "b", now: 12)
        #expect(result3)
        registry.expireLeases(now: 18)
        #expect(registry.nodes.isEmpty)
    }

    @Test func expiryBumpsTheVersionOnce() throws {
        var registry = Registry(config: RegistryConfig(leaseSeconds: 1))
        for id in ["a", "b", "c"] { _ = try registry.register(registration(id), now: 0) { "c" } }
        let version = registry.version
        registry.expireLeases(now: 5)
        #expect(registry.version == version + 1)
    }

    @Test func deadClusterIsForgottenSoANewcomerCanBootstrap() throws {
        var registry = Registry(config: RegistryConfig(leaseSeconds: 10, forgetClusterAfterSeconds: 30))
        _ = try registry.register(registration("a"), now: 0) { "c1" }
        // Expired but not yet forgotten: a newcomer waits for the cluster.
        let early = try registry.register(registration("b"), now: 15) { "c2" }
        #expect(!early.bootstrap)
        #expect(early.clusterID == "c1")
        registry.expireLeases(now: 100)
        #expect(registry.clusterID == nil)
        let late = try registry.register(registration("z"), now: 100) { "c2" }
        #expect(late.bootstrap)
        #expect(late.clusterID == "c2")
    }

    @Test func deregisterRemovesAndClearsTheLeader() throws {
        var registry = Registry()
        _ = try registry.register(registration("a"), now: 0) { "c" }
        let result4 = registry.deregister(nodeID: "a", now: 1)
        #expect(result4)
        let result5 = !registry.deregister(nodeID: "a", now: 1)
        #expect(result5)
        #expect(registry.leader == nil)
    }
}

@Suite struct MembershipReportTests {
    private func report(_ reporter: String, leader: String, term: UInt64, at: Double,
                        members: [String], cluster: String? = nil) -> MembershipReport {
        MembershipReport(reporterID: reporter, leaderID: leader, term: term, reportedAt: at,
                         members: members.map { .init(nodeID: $0, address: NodeAddress(host: "10.0.0.1", port: 7000)) },
                         clusterID: cluster)
    }

    @Test func higherTermWinsAndOlderReportsAreRejected() throws {
        var registry = Registry()
        _ = try registry.register(registration("a"), now: 0) { "c" }
        let result6 = registry.applyReport(report("a", leader: "a", term: 3, at: 10, members: ["a"]), now: 1) == .accepted
        #expect(result6)
        #expect(registry.leader?.term == 3)
        // Arrives late: term 2 must not override term 3.
        guard case .rejected(let reason) = registry.applyReport(report("b", leader: "b", term: 2, at: 50, members: ["b"]), now: 2) else {
            Issue.record("older report accepted")
            return
        }
        #expect(reason.contains("not newer"))
        #expect(registry.leader?.nodeID == "a")
        let result7 = registry.applyReport(report("c", leader: "c", term: 4, at: 5, members: ["a", "c"]), now: 3) == .accepted
        #expect(result7)
        #expect(registry.leader == LeaderRecord(nodeID: "c", term: 4, learnedAt: 3))
    }

    @Test func withinATermTimestampsThenNodeIDsOrderReports() throws {
        var registry = Registry()
        let result8 = registry.applyReport(report("b", leader: "b", term: 5, at: 10, members: []), now: 0) == .accepted
        #expect(result8)
        let result9 = registry.applyReport(report("a", leader: "a", term: 5, at: 10, members: []), now: 0) != .accepted
        #expect(result9)
        let result10 = registry.applyReport(report("c", leader: "c", term: 5, at: 10, members: []), now: 0) == .accepted
        #expect(result10)
        let result11 = registry.applyReport(report("a", leader: "a", term: 5, at: 11, members: []), now: 0) == .accepted
        #expect(result11)
        let result12 = registry.applyReport(report("a", leader: "a", term: 5, at: 11, members: []), now: 0) != .accepted
        #expect(result12)
    }

    @Test func reportsRebuildAnEmptyGatewayAsStaleEntries() throws {
        var registry = Registry()
        let outcome = registry.applyReport(report("m1", leader: "m1", term: 7, at: 1, members: ["m1", "m2", "m3"], cluster: "c7"), now: 10)
        #expect(outcome == .accepted)
        #expect(registry.clusterID == "c7")
        let peers = registry.peers(now: 12)
        #expect(peers.map(\.record.nodeID) == ["m1", "m2", "m3"])
        #expect(peers.allSatisfy { $0.stale && $0.ageSeconds == 2 })
        #expect(registry.leaderView(now: 12)?.stale == true)
        // The leader heartbeats: it is now confirmed, the others still stale.
        let result13 = registry.heartbeat(nodeID: "m1", now: 13)
        #expect(result13)
        #expect(registry.peers(now: 13).map(\.stale) == [false, true, true])
        // A newcomer is not told to bootstrap: the cluster is known.
        let newcomer = try registry.register(registration("n"), now: 14) { "other" }
        #expect(!newcomer.bootstrap)
        #expect(newcomer.leader?.nodeID == "m1")
    }

    @Test func staleEntriesMissingFromANewerReportAreDropped() throws {
        var registry = Registry()
        _ = registry.applyReport(report("m1", leader: "m1", term: 1, at: 1, members: ["m1", "m2", "m3"]), now: 1)
        _ = registry.applyReport(report("m1", leader: "m1", term: 2, at: 2, members: ["m1", "m3"]), now: 2)
        #expect(registry.nodes.keys.sorted() == ["m1", "m3"])
    }

    @Test func confirmedNodesAreNotDroppedByReports() throws {
        var registry = Registry()
        _ = try registry.register(registration("joining"), now: 0) { "c" }
        _ = registry.applyReport(report("m1", leader: "m1", term: 1, at: 1, members: ["m1"], cluster: "c"), now: 1)
        #expect(registry.nodes["joining"] != nil)
    }

    @Test func reportForAnotherClusterIsRejected() throws {
        var registry = Registry()
        _ = try registry.register(registration("a"), now: 0) { "c1" }
        let result14 = registry.applyReport(report("x", leader: "x", term: 9, at: 1, members: [], cluster: "c2"), now: 1) != .accepted
        #expect(result14)
        #expect(registry.leader?.nodeID == "a")
    }

    @Test func setLeaderNeedsARegisteredNodeAndKeepsTheTerm() throws {
        var registry = Registry()
        _ = try registry.register(registration("a"), now: 0) { "c" }
        _ = try registry.register(registration("b"), now: 0) { "c" }
        _ = registry.applyReport(report("a", leader: "a", term: 4, at: 1, members: ["a", "b"]), now: 1)
        let result15 = !registry.setLeader(nodeID: "nope", now: 2)
        #expect(result15)
        let result16 = registry.setLeader(nodeID: "b", now: 2)
        #expect(result16)
        #expect(registry.leader == LeaderRecord(nodeID: "b", term: 4, learnedAt: 2))
    }
}

@Suite struct SnapshotTests {
    @Test func restoredEntriesAreStaleWithFreshLeasesAndTrueAges() throws {
        var registry = Registry(config: RegistryConfig(leaseSeconds: 10))
        _ = try registry.register(registration("a"), now: 100) { "c1" }
        _ = try registry.register(registration("b"), now: 105) { "c1" }
        let snapshot = registry.snapshot
        // The gateway was down for an hour.
        var restored = Registry(restoring: snapshot, config: RegistryConfig(leaseSeconds: 10), now: 3700)
        #expect(restored.clusterID == "c1")
        #expect(restored.version > registry.version)
        let peers = restored.peers(now: 3700)
        #expect(peers.map(\.stale) == [true, true])
        #expect(peers.map(\.ageSeconds) == [3600, 3595])
        #expect(restored.leaderView(now: 3700)?.nodeID == "a")
        let result17 = restored.heartbeat(nodeID: "a", now: 3701)
        #expect(result17)
        restored.expireLeases(now: 3710.5)  // b's lease ended at 3710, a's runs to 3711
        #expect(restored.nodes.keys.sorted() == ["a"])
        let newcomer = try restored.register(registration("n"), now: 3702) { "c2" }
        #expect(!newcomer.bootstrap)
    }
}

/// A small seeded generator so shuffles are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct PeerSampleTests {
    @Test func largeRegistriesAnswerABoundedSampleWithTheLeader() throws {
        var registry = Registry(config: RegistryConfig(peerSampleLimit: 10))
        for i in 0..<1000 { _ = try registry.register(registration("n\(i)"), now: 1) { "c" } }
        let outcome = try registry.register(registration("newcomer"), now: 2) { "c" }
        #expect(outcome.peers.count == 10)
        #expect(outcome.peers.contains { $0.record.nodeID == "n0" }, "the leader (n0) is always offered")
        #expect(!outcome.peers.contains { $0.record.nodeID == "newcomer" })
        #expect(outcome.peers.map(\.record.nodeID) == outcome.peers.map(\.record.nodeID).sorted())
        #expect(registry.peers(now: 2).count == 1001, "ListPeers still has everyone")
    }

    @Test func newcomersAreSpreadOverTheRegistry() throws {
        var registry = Registry(config: RegistryConfig(peerSampleLimit: 8))
        for i in 0..<500 { _ = try registry.register(registration("n\(i)"), now: 1) { "c" } }
        var offered = Set<String>()
        for j in 0..<40 {
            let outcome = try registry.register(registration("new\(j)"), now: 1) { "c" }
            offered.formUnion(outcome.peers.map(\.record.nodeID))
        }
        #expect(offered.count > 100, "40 newcomers were offered only \(offered.count) distinct peers")
    }

    @Test func sampleSkipsExpiredNodes() throws {
        var registry = Registry(config: RegistryConfig(leaseSeconds: 10, peerSampleLimit: 4))
        for i in 0..<20 { _ = try registry.register(registration("old\(i)"), now: 0) { "c" } }
        for i in 0..<20 { _ = try registry.register(registration("new\(i)"), now: 8) { "c" } }
        let outcome = try registry.register(registration("late"), now: 12) { "c" }
        #expect(outcome.peers.allSatisfy { $0.record.nodeID.hasPrefix("new") })
    }

    @Test func sweepsHappenOnlyWhenALeaseCanHaveEnded() throws {
        var registry = Registry(config: RegistryConfig(leaseSeconds: 10))
        _ = try registry.register(registration("a"), now: 0) { "c" }
        _ = try registry.register(registration("b"), now: 5) { "c" }
        let version = registry.version
        registry.expireLeases(now: 9)
        #expect(registry.version == version && registry.nodes.count == 2)
        registry.expireLeases(now: 10)
        #expect(registry.nodes.keys.sorted() == ["b"])
        registry.expireLeases(now: 15)
        #expect(registry.nodes.isEmpty)
    }
}

/// Who may report membership when the gateway knows callers by certificate: current members
/// (listed by the last accepted report), the pending bootstrap node, and, once the last reporter
/// is gone for a lease, any registered node (so a hint cannot freeze).
@Suite struct ReportPermissionTests {
    private func report(_ reporter: String, term: UInt64, at: Double, members: [String]) -> MembershipReport {
        MembershipReport(reporterID: reporter, leaderID: reporter, term: term, reportedAt: at,
                         members: members.map { .init(nodeID: $0, address: NodeAddress(host: "10.0.0.1", port: 7000)) },
                         clusterID: nil)
    }

    @Test func onlyCurrentMembersReportUntilTheLastReporterIsGone() throws {
        var registry = Registry(config: RegistryConfig(leaseSeconds: 10))
        _ = try registry.register(registration("a"), now: 0) { "c" }
        _ = try registry.register(registration("b", port: 9001), now: 1) { "c" }
        _ = try registry.register(registration("x", port: 9009), now: 1) { "c" }
        #expect(registry.mayReport("a"), "the node told to bootstrap")
        #expect(!registry.mayReport("b") && !registry.mayReport("x"), "a pending bootstrap speaks alone")
        #expect(!registry.mayReport("unknown"))

        #expect(registry.applyReport(report("a", term: 2, at: 2, members: ["a", "b"]), now: 2) == .accepted)
        #expect(registry.mayReport("b"), "listed by the last report")
        #expect(!registry.mayReport("x"), "registered, but not a member")

        // b leaves the config: it may no longer speak for the cluster.
        #expect(registry.applyReport(report("a", term: 2, at: 3, members: ["a"]), now: 3) == .accepted)
        #expect(!registry.mayReport("b"))

        // a dies (no more heartbeats); the others keep their leases. After a's lease, anyone registered may report.
        _ = registry.heartbeat(nodeID: "b", now: 9)
        _ = registry.heartbeat(nodeID: "x", now: 9)
        _ = registry.heartbeat(nodeID: "b", now: 14)  // a's lease ran to 13 (its report renewed it)
        _ = registry.heartbeat(nodeID: "x", now: 14)
        #expect(registry.nodes["a"] == nil)
        #expect(registry.mayReport("b") && registry.mayReport("x"))
    }
}
