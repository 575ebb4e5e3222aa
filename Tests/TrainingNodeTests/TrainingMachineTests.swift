import Gossip
import GossipWire
import Testing
import Training
@testable import TrainingNode

@Suite struct TrainingMachineTests {
    static let run = RunConfiguration(runId: "run-1", architecture: .mlp, partition: .iid, slots: 4, seed: 3, roundsPerEpoch: 10, rounds: 100,
                                      minParticipants: 2)

    static func bytes(_ event: TrainingEvent) -> [UInt8] { GossipV1.TrainingCommand(event).encode() }

    @Test func appliesCommittedCommandsAndIgnoresTheRest() {
        var machine = TrainingMachine()
        machine.apply(Self.bytes(.configure(Self.run)), index: 1)
        machine.apply([0xFF, 0x01, 0x02], index: 2)
        machine.apply(Self.bytes(.admit(node: "n1", fromRound: 0, slot: 0)), index: 3)
        machine.apply(Self.bytes(.admit(node: "n2", fromRound: 0, slot: 0)), index: 4)
        machine.apply(Self.bytes(.horizon(untilRound: 16)), index: 5)
        #expect(machine.ledger.configuration == Self.run)
        #expect(machine.ledger.participants(at: 0).map(\.node) == ["n1"])
        #expect(machine.ledger.horizon == 16 && machine.appliedIndex == 5)
        #expect(machine.ignored.map(\.index) == [2, 4])
        #expect(machine.ignored[1].reason.contains("slot 0"))
    }

    /// A snapshot replays to the same ledger; only each peer's newest progress report is kept.
    @Test func snapshotsRestoreTheSameLedger() throws {
        var machine = TrainingMachine()
        var index: UInt64 = 0
        func apply(_ event: TrainingEvent) {
            index += 1
            machine.apply(Self.bytes(event), index: index)
        }
        apply(.configure(Self.run))
        apply(.admit(node: "n1", fromRound: 0, slot: 0))
        apply(.admit(node: "n2", fromRound: 0, slot: 1))
        apply(.horizon(untilRound: 32))
        for round in stride(from: 10, through: 500, by: 10) { apply(.progress(node: "n1", round: round, accuracy: 0.5)) }
        apply(.retire(node: "n2", fromRound: 20, reason: "missed 3 exchanges"))
        apply(.admit(node: "n3", fromRound: 8, slot: 2))
        apply(.bandwidth(workers: ["n1", "n3"], matrix: try BandwidthMatrix(rows: [[0, 5], [5, 0]]), fromRound: 1))
        // A later horizon replaces the one those entries were clamped to: the snapshot must
        // still give them the rounds they took effect from (32), not the ones they asked for.
        apply(.horizon(untilRound: 48))
        #expect(machine.ledger.admission(of: "n3")! == (slot: 2, from: 32) && machine.ledger.latestMatrix!.from == 32)
        let snapshot = machine.snapshot()
        #expect(snapshot.count < 400)
        var restored = TrainingMachine()
        try restored.restore(snapshot)
        #expect(restored.appliedIndex == index && restored.ledger.horizon == 48)
        for round in [0, 20, 31, 32, 40] { #expect(restored.ledger.participants(at: round) == machine.ledger.participants(at: round)) }
        #expect(restored.ledger.admission(of: "n3")! == (slot: 2, from: 32) && restored.ledger.latestMatrix!.from == 32)
        #expect(restored.ledger.progress["n1"]! == (round: 500, accuracy: 0.5))
        #expect(restored.ledger.retiredFrom("n2") == 32)
        #expect(restored.snapshot() == snapshot)
        try restored.restore([])
        #expect(restored.ledger.configuration == nil)
    }

    @Test func corruptSnapshotsAreErrors() {
        var machine = TrainingMachine()
        #expect(throws: (any Error).self) { try machine.restore([1, 2, 3]) }
        var bad = [UInt8](repeating: 0, count: 8)
        bad += [200, 0, 0, 0, 0, 0, 0, 0, 1]
        #expect(throws: (any Error).self) { try machine.restore(bad) }
    }
}
