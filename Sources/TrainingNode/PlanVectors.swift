import Gossip
import GossipWire
import Training

/// Tests/vectors/plans.json: committed training entries (the gossip.v1 `TrainingCommand` bytes a
/// FollowTraining stream carries, hex) and the round plans every peer must derive from them, for
/// implementations that follow the log without running Raft (see ReferenceVectors).
public enum PlanVectors {
    public struct Plan: Codable, Equatable, Sendable {
        public let round: Int
        /// [node, slot] in node-id order.
        public let participants: [[String]]
        public let pairs: [[String]]
        public let resting: String?
    }

    public struct Case: Codable, Equatable, Sendable {
        public let name: String
        /// Each entry's TrainingCommand encoding, hex, in log order.
        public let commands_hex: [String]
        /// Rounds 0..<plans.count, planned after every entry was applied.
        public let plans: [Plan]
        /// The ledger after the entries: its horizon and each node's current admission.
        public let horizon: Int
        public let admissions: [String: [Int]]
        public let external_addresses: [String: String]
    }

    public struct File: Codable, Equatable, Sendable {
        public let cases: [Case]
    }

    public static func make(name: String, events: [TrainingEvent], rounds: Int) -> Case {
        var ledger = TrainingLedger()
        for event in events { ledger.apply(event) }
        var planner = RoundPlanner(configuration: ledger.configuration!)
        let plans = (0..<rounds).map { _ in
            let plan = planner.planNext(ledger: ledger)
            return Plan(round: plan.round, participants: plan.participants.map { [$0.node, String($0.slot)] },
                        pairs: plan.pairs.map { [$0.0, $0.1] }, resting: plan.resting)
        }
        var admissions: [String: [Int]] = [:]
        for participant in Set(events.compactMap { if case .admit(let node, _, _, _) = $0 { node } else { nil } }) {
            if let admission = ledger.admission(of: participant) { admissions[participant] = [admission.slot, admission.from] }
        }
        return Case(name: name, commands_hex: events.map { hex(GossipV1.TrainingCommand($0).encode()) }, plans: plans,
                    horizon: ledger.horizon, admissions: admissions, external_addresses: ledger.externalAddresses)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// A run's life: four peers, a horizon, a matrix, a retirement clamped to the horizon, a
    /// Python node admitted with its address, an admission that is refused (its slot is taken).
    public static func standard() throws -> File {
        func run(_ algorithm: Algorithm) -> RunConfiguration {
            RunConfiguration(runId: "vectors-" + algorithm.rawValue, architecture: .mlp, partition: .iid, slots: 5, seed: 1, algorithm: algorithm,
                             roundsPerEpoch: 300, rounds: 600, minParticipants: 4, horizonRounds: 16)
        }
        func life(_ algorithm: Algorithm) throws -> [TrainingEvent] {
            [.configure(run(algorithm)),
             .admit(node: "n1", fromRound: 0, slot: 0), .admit(node: "n2", fromRound: 0, slot: 1),
             .admit(node: "n3", fromRound: 0, slot: 2), .admit(node: "n4", fromRound: 0, slot: 3),
             .horizon(untilRound: 16),
             .bandwidth(workers: ["n1", "n2", "n3", "n4"], matrix: .clustered(workers: 4, clusters: 2, seed: 3), fromRound: 8),
             .report(node: "n1", mbps: ["n2": 40, "n3": 1.5]),
             .horizon(untilRound: 32),
             .retire(node: "n2", fromRound: 20, reason: "missed 3 exchanges with n1"),
             .progress(node: "n3", round: 30, accuracy: 0.71),
             .admit(node: "py1", fromRound: 40, slot: 4, address: "127.0.0.1:7300"),
             .admit(node: "n5", fromRound: 40, slot: 4),
             .horizon(untilRound: 48),
             .admit(node: "n2", fromRound: 50, slot: 1),
             .horizon(untilRound: 80)]
        }
        return File(cases: [
            make(name: "saps", events: try life(.saps), rounds: 80),
            make(name: "random", events: try life(.random), rounds: 80),
            make(name: "dpsgd", events: try life(.dpsgd), rounds: 80),
        ])
    }
}
