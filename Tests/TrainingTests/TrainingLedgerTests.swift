import Gossip
import Learning
import Testing
@testable import Training

@Suite struct TrainingLedgerTests {
    static let run = RunConfiguration(runId: "run-1", architecture: .mlp, partition: .iid, slots: 5, seed: 9, roundsPerEpoch: 150,
                                      rounds: 600)

    static func ledger() -> TrainingLedger {
        var ledger = TrainingLedger()
        #expect(ledger.apply(.configure(run)) == .applied)
        for (i, node) in ["n1", "n2", "n3", "n4"].enumerated() { #expect(ledger.apply(.admit(node: node, fromRound: 0, slot: i)) == .applied) }
        return ledger
    }

    @Test func admissionsRetirementsAndSlots() {
        var ledger = Self.ledger()
        #expect(ledger.participants(at: 0).map(\.node) == ["n1", "n2", "n3", "n4"])
        #expect(ledger.apply(.admit(node: "n5", fromRound: 100, slot: 4)) == .applied)
        #expect(ledger.participants(at: 99).count == 4 && ledger.participants(at: 100).count == 5)
        #expect(ledger.apply(.retire(node: "n2", fromRound: 200, reason: "missed 5 rounds")) == .applied)
        #expect(ledger.participants(at: 200).map(\.node) == ["n1", "n3", "n4", "n5"])
        // n2's slot is free from round 200 on, not before; n2 may come back on a free slot.
        if case .ignored = ledger.apply(.admit(node: "n6", fromRound: 150, slot: 1)) {} else { Issue.record("slot 1 is n2's until 200") }
        #expect(ledger.apply(.admit(node: "n6", fromRound: 250, slot: 1)) == .applied)
        #expect(ledger.participants(at: 260).first { $0.node == "n6" }?.slot == 1)
        if case .ignored = ledger.apply(.admit(node: "n3", fromRound: 300, slot: 3)) {} else { Issue.record("n3 is already admitted") }
        if case .ignored = ledger.apply(.admit(node: "n9", fromRound: 300, slot: 5)) {} else { Issue.record("slot 5 is out of range") }
        if case .ignored = ledger.apply(.retire(node: "n9", fromRound: 1, reason: "")) {} else { Issue.record("n9 never trained") }
        if case .ignored = ledger.apply(.configure(Self.run)) {} else { Issue.record("a second configuration") }
    }

    @Test func entriesBeforeTheConfigurationAndBadProgressAreIgnored() {
        var ledger = TrainingLedger()
        if case .ignored = ledger.apply(.admit(node: "n1", fromRound: 0, slot: 0)) {} else { Issue.record("not configured yet") }
        ledger = Self.ledger()
        #expect(ledger.apply(.progress(node: "n1", round: 150, accuracy: 0.8)) == .applied)
        for bad in [TrainingEvent.progress(node: "n1", round: 100, accuracy: 0.9), .progress(node: "n1", round: 300, accuracy: .nan),
                    .progress(node: "zz", round: 300, accuracy: 0.5)] {
            if case .ignored = ledger.apply(bad) {} else { Issue.record("\(bad) applied") }
        }
        #expect(ledger.progress["n1"]?.accuracy == 0.8)
    }

    @Test func theNewestMatrixInForceFillsUnmeasuredPairs() throws {
        var ledger = Self.ledger()
        let first = try BandwidthMatrix(rows: [[0, 10, 2], [10, 0, 5], [2, 5, 0]])
        #expect(ledger.apply(.bandwidth(workers: ["n1", "n2", "n3"], matrix: first, fromRound: 10)) == .applied)
        let before = ledger.bandwidth(among: ["n1", "n2", "n3", "n4"], at: 9, unmeasured: 1)
        #expect(before[0, 1] == 1 && before[1, 2] == 1)
        let during = ledger.bandwidth(among: ["n1", "n2", "n3", "n4"], at: 10, unmeasured: 1)
        #expect(during[0, 1] == 10 && during[0, 2] == 2 && during[1, 2] == 5 && during[0, 3] == 1)
        if case .ignored = ledger.apply(.bandwidth(workers: ["n1", "n1", "n2"], matrix: first, fromRound: 20)) {} else {
            Issue.record("repeated worker names")
        }
    }

    /// Two peers planning from the same ledger agree on every round, joins and retirements included;
    /// every pair is of participants, odd rounds rest exactly one.
    @Test func plannersAgreeRoundByRound() throws {
        var ledger = Self.ledger()
        ledger.apply(.admit(node: "n5", fromRound: 20, slot: 4))
        ledger.apply(.retire(node: "n1", fromRound: 40, reason: "dead"))
        ledger.apply(.bandwidth(workers: ["n1", "n2", "n3", "n4", "n5"], matrix: .clustered(workers: 5, clusters: 2, seed: 3), fromRound: 30))
        var a = RoundPlanner(configuration: Self.run), b = RoundPlanner(configuration: Self.run)
        var restedInOddRounds = 0
        for round in 0..<60 {
            let planA = a.planNext(ledger: ledger), planB = b.planNext(ledger: ledger)
            #expect(planA == planB && planA.round == round)
            let nodes = Set(planA.participants.map(\.node))
            let paired = planA.pairs.flatMap { [$0.0, $0.1] }
            #expect(Set(paired).count == paired.count && Set(paired).isSubset(of: nodes))
            #expect(paired.count + (planA.resting == nil ? 0 : 1) == nodes.count)
            if nodes.count % 2 == 1 { restedInOddRounds += 1 }
            #expect(nodes.contains("n5") == (round >= 20) && nodes.contains("n1") == (round < 40))
        }
        #expect(restedInOddRounds == 20)
        // A peer that restarts replays from round 0 and lands on the same plans.
        var replay = RoundPlanner(configuration: Self.run)
        for _ in 0..<45 { _ = replay.planNext(ledger: ledger) }
        var live = RoundPlanner(configuration: Self.run)
        for _ in 0..<45 { _ = live.planNext(ledger: ledger) }
        #expect(replay.planNext(ledger: ledger) == live.planNext(ledger: ledger))
    }

    /// D-PSGD's plan is the ring of the participants in slot order, every node with two
    /// neighbours (one when two are left), and follows joins and retirements.
    @Test func dpsgdPlansTheRingInSlotOrder() {
        var run = Self.run
        run.algorithm = .dpsgd
        var ledger = TrainingLedger()
        #expect(ledger.apply(.configure(run)) == .applied)
        for (node, slot) in [("n1", 2), ("n2", 0), ("n3", 3), ("n4", 1)] { #expect(ledger.apply(.admit(node: node, fromRound: 0, slot: slot)) == .applied) }
        ledger.apply(.retire(node: "n1", fromRound: 10, reason: "dead"))
        ledger.apply(.retire(node: "n3", fromRound: 20, reason: "dead"))
        var planner = RoundPlanner(configuration: run)
        let first = planner.planNext(ledger: ledger)
        // Slots 0, 1, 2, 3 are n2, n4, n1, n3.
        #expect(first.pairs.map { [$0.0, $0.1] } == [["n2", "n4"], ["n4", "n1"], ["n1", "n3"], ["n3", "n2"]] && first.resting == nil)
        #expect(first.partners(of: "n2") == ["n4", "n3"] && first.partners(of: "n1") == ["n4", "n3"])
        for _ in 1..<10 { _ = planner.planNext(ledger: ledger) }
        let three = planner.planNext(ledger: ledger)
        #expect(three.pairs.map { [$0.0, $0.1] } == [["n2", "n4"], ["n4", "n3"], ["n3", "n2"]])
        for _ in 11..<20 { _ = planner.planNext(ledger: ledger) }
        let two = planner.planNext(ledger: ledger)
        #expect(two.pairs.map { [$0.0, $0.1] } == [["n2", "n4"]] && two.partners(of: "n4") == ["n2"])
        // A matching's partners are its one partner.
        var saps = RoundPlanner(configuration: Self.run)
        let plan = saps.planNext(ledger: Self.ledger())
        #expect(plan.partners(of: "n1") == [plan.partner(of: "n1")!])
    }
}

/// The round horizon: changes land no earlier than the rounds already released.
@Suite struct RoundHorizonTests {
    @Test func changesTakeEffectNoEarlierThanTheHorizon() {
        var ledger = TrainingLedgerTests.ledger()
        #expect(ledger.horizon == 0)
        #expect(ledger.apply(.horizon(untilRound: 64)) == .applied)
        if case .ignored = ledger.apply(.horizon(untilRound: 32)) {} else { Issue.record("the horizon only grows") }
        #expect(ledger.horizon == 64)
        // Asked for round 10, released rounds run to 63: n5 trains from 64, n2 stops at 64.
        #expect(ledger.apply(.admit(node: "n5", fromRound: 10, slot: 4)) == .applied)
        #expect(ledger.admission(of: "n5")! == (slot: 4, from: 64))
        #expect(ledger.participants(at: 63).count == 4 && ledger.participants(at: 64).count == 5)
        #expect(ledger.apply(.retire(node: "n2", fromRound: 5, reason: "missed 3 exchanges")) == .applied)
        #expect(ledger.participants(at: 63).contains { $0.node == "n2" })
        #expect(!ledger.participants(at: 64).contains { $0.node == "n2" })
        #expect(ledger.retiredFrom("n2") == 64 && ledger.admission(of: "n2") == nil && ledger.hasTrained("n2"))
        #expect(ledger.admittedCount == 4)
        // n2's slot is free from 64; a request for an earlier round lands there too.
        #expect(ledger.freeSlot(from: 0, preferred: 1) == 1)
        #expect(ledger.freeSlot(from: 0, preferred: 0) == 1)
        #expect(ledger.apply(.admit(node: "n2", fromRound: 0, slot: 1)) == .applied)
        #expect(ledger.admission(of: "n2")! == (slot: 1, from: 64))
        #expect(ledger.freeSlot(from: 100) == nil)
    }

    @Test func aHorizonNeedsARun() {
        var ledger = TrainingLedger()
        if case .ignored = ledger.apply(.horizon(untilRound: 16)) {} else { Issue.record("no run configured") }
        #expect(ledger.horizon == 0)
    }
}

@Suite struct BandwidthReportTests {
    @Test func reportsFromTrainingPeersAreKeptNewestFirst() {
        var ledger = TrainingLedgerTests.ledger()
        #expect(ledger.apply(.report(node: "n1", mbps: ["n2": 10, "n3": 2])) == .applied)
        #expect(ledger.apply(.report(node: "n1", mbps: ["n2": 12])) == .applied)
        #expect(ledger.reports["n1"] == ["n2": 12])
        if case .ignored = ledger.apply(.report(node: "n9", mbps: ["n1": 1])) {} else { Issue.record("n9 never trained") }
        if case .ignored = ledger.apply(.report(node: "n2", mbps: ["n1": .nan])) {} else { Issue.record("NaN is not a bandwidth") }
        if case .ignored = ledger.apply(.report(node: "n2", mbps: ["n1": -1])) {} else { Issue.record("negative bandwidth") }
        #expect(ledger.reports["n2"] == nil && ledger.latestMatrix == nil)
    }
}
