import Foundation
import GossipWire
import Testing
import Training
@testable import TrainingNode

/// Tests/vectors/plans.json, the round plans a node following the log must derive, is what this
/// code computes (regenerate with `gossipfl test-vectors` after a deliberate change).
@Suite struct PlanVectorsTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../vectors/plans.json").standardized

    @Test func plansAreCurrent() throws {
        let committed = try JSONDecoder().decode(PlanVectors.File.self, from: Data(contentsOf: Self.file))
        #expect(committed == (try PlanVectors.standard()))
        let saps = committed.cases[0]
        // The retirement took effect at the horizon (32), the second admission of slot 4 was refused.
        #expect(saps.plans[31].participants.contains(["n2", "1"]) && !saps.plans[32].participants.contains(["n2", "1"]))
        #expect(saps.admissions["py1"] == [4, 40] && saps.admissions["n5"] == nil && saps.external_addresses == ["py1": "127.0.0.1:7300"])
        #expect(committed.cases[2].plans[0].pairs.count == 4)
    }

    @Test func commandsDecodeToTheEventsThatMadeThem() throws {
        for testCase in try PlanVectors.standard().cases {
            for hex in testCase.commands_hex {
                let bytes = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
                    let start = hex.index(hex.startIndex, offsetBy: i)
                    return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
                }
                let event = try TrainingEvent(command: GossipV1.TrainingCommand(decoding: bytes))
                #expect(PlanVectors.hex(GossipV1.TrainingCommand(event).encode()) == hex)
            }
        }
    }
}

/// Tests/vectors/data.json: data slots and batch order, as a training node must compute them.
@Suite struct DataVectorsTests {
    @Test func splitsAndBatchesAreCurrent() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../vectors/data.json").standardized
        let committed = try JSONDecoder().decode(DataVectors.File.self, from: Data(contentsOf: url))
        #expect(committed == (try DataVectors.standard()))
        for split in committed.splits where !split.scheme.hasPrefix("shards") {
            #expect(split.parts.flatMap { $0 }.sorted() == Array(0..<DataVectors.sampleCount), "\(split.scheme) covers every sample once")
        }
        // One pass covers the slot once.
        let b = committed.batches[0]
        #expect(b.batches.prefix((b.samples.count + b.batch_size - 1) / b.batch_size).flatMap { $0 }.sorted() == b.samples.sorted())
    }
}
