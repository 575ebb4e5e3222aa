import Consensus
import Testing

/// Thousands of seeded runs under random faults; the five safety properties are
/// checked after every event, and liveness once the faults heal. A failure
/// names its seed: rerun it with `Chaos(...).run(seed:)`.
@Suite struct RandomizedSafetyTests {
    static let chunk: UInt64 = 50

    @Test(arguments: 0..<20)
    func threeNodes(chunkIndex: UInt64) {
        let chaos = Chaos(nodeCount: 3, faultTicks: 150, recoveryBound: 150)
        for seed in chunkIndex * Self.chunk..<(chunkIndex + 1) * Self.chunk {
            let outcome = chaos.run(seed: seed)
            #expect(outcome.violations == [], "seed \(seed)")
            if !outcome.violations.isEmpty { return }
        }
    }
}
