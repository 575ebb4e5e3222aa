import Gossip
import GossipWire
import Learning
import Testing
import Training
@testable import TrainingNode

@Suite struct TrainingCommandCodecTests {
    static let run = RunConfiguration(runId: "run-1", architecture: .cnn, partition: .dirichlet(alpha: 0.5), slots: 6, seed: .max >> 3,
                                      algorithm: .power, roundsPerEpoch: 150, rounds: nil, minParticipants: 4, horizonRounds: 32)

    /// Every event survives the trip through its committed bytes.
    @Test func eventsRoundTripThroughTheWire() throws {
        let events: [TrainingEvent] = [
            .configure(Self.run),
            .admit(node: "n1", fromRound: 0, slot: 5),
            .admit(node: "py1", fromRound: 64, slot: 2, address: "10.0.0.7:7300"),
            .retire(node: "nœud-2", fromRound: 1 << 40, reason: "missed 5 rounds"),
            .bandwidth(workers: ["a", "b"], matrix: try BandwidthMatrix(rows: [[0, 12.5], [12.5, 0]]), fromRound: 30),
            .progress(node: "n3", round: 150, accuracy: 0.8125),
            .horizon(untilRound: 4096),
            .report(node: "n2", mbps: ["n1": 12.5, "n3": 0.75]),
        ]
        for event in events {
            let bytes = GossipV1.TrainingCommand(event).encode()
            #expect(try TrainingEvent(command: GossipV1.TrainingCommand(decoding: bytes)) == event)
        }
    }

    @Test func unusableCommandsAreClearErrors() throws {
        var config = GossipV1.TrainingCommand(.configure(Self.run)).configure!
        let cases: [(GossipV1.TrainingCommand, String)] = [
            (GossipV1.TrainingCommand(), "exactly one field"),
            (GossipV1.TrainingCommand(admit: GossipV1.Admission(), retire: GossipV1.Retirement()), "sets 2"),
            ({ config.model = "resnet"; return GossipV1.TrainingCommand(configure: config) }(), "\"resnet\""),
            ({ config.model = "cnn"; config.algorithm = "fedavg"; return GossipV1.TrainingCommand(configure: config) }(), "\"fedavg\""),
            ({ config.algorithm = "saps"; config.partition = "zipf"; return GossipV1.TrainingCommand(configure: config) }(), "configure:"),
            ({ config.partition = "iid"; config.momentum = 1; return GossipV1.TrainingCommand(configure: config) }(), "out of range"),
            (GossipV1.TrainingCommand(bandwidth: GossipV1.BandwidthMatrix(workers: ["a", "b"], mbps: [0, 1, 1])), "3 values for 2"),
            (GossipV1.TrainingCommand(bandwidth: GossipV1.BandwidthMatrix(workers: ["a", "b"], mbps: [0, 1, 2, 0])), "bandwidth:"),
            (GossipV1.TrainingCommand(admit: GossipV1.Admission(nodeId: "n", fromRound: .max)), "out of range"),
            (GossipV1.TrainingCommand(admit: GossipV1.Admission(nodeId: "py1", address: "no port")), "is not HOST:PORT"),
        ]
        for (command, message) in cases {
            #expect { _ = try TrainingEvent(command: command) } throws: { "\($0)".contains(message) }
        }
    }
}
