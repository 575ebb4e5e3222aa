import Consensus
import Testing

/// Thousands of seeded runs under random faults; the five safety properties are
/// checked after every event, and liveness once the faults heal. A failure
/// names its seed: rerun it with `Chaos(...).run(seed:)`.
@Suite struct RandomizedSafetyTests {
    static let chunk: UInt64 = 50

    static func sweep(_ chaos: Chaos, chunk index: UInt64, seedBase: UInt64 = 0) {
        for seed in seedBase + index * chunk..<seedBase + (index + 1) * chunk {
            let outcome = chaos.run(seed: seed)
            #expect(outcome.violations == [], "seed \(seed)")
            #expect(outcome.recoveryTicks != nil, "seed \(seed): no progress after the faults healed")
            if !outcome.violations.isEmpty || outcome.recoveryTicks == nil { return }
        }
    }

    /// 2000 seeds.
    @Test(arguments: 0..<40)
    func threeNodes(chunk index: UInt64) {
        Self.sweep(Chaos(nodeCount: 3, faultTicks: 150, recoveryBound: 150), chunk: index)
    }

    /// 500 seeds.
    @Test(arguments: 0..<10)
    func fiveNodes(chunk index: UInt64) {
        Self.sweep(Chaos(nodeCount: 5, faultTicks: 150, recoveryBound: 200), chunk: index, seedBase: 100_000)
    }

    /// 500 seeds with nodes joining and leaving through the leader while faults go on.
    @Test(arguments: 0..<10)
    func membershipChurn(chunk index: UInt64) {
        var chaos = Chaos(nodeCount: 5, faultTicks: 150, recoveryBound: 200)
        chaos.membershipChurn = true
        Self.sweep(chaos, chunk: index, seedBase: 200_000)
    }
}
