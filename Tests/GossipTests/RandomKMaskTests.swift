@testable import Gossip
import Testing

@Suite struct RandomKMaskTests {
    /// mnistflnet's tensors (1,663,370 parameters).
    static let mnistSizes = [800, 32, 51_200, 64, 1_605_632, 512, 5_120, 10]

    @Test func kPerTensorFollowsTheRule() throws {
        let mask = try RandomKMask(layout: MaskLayout(tensorSizes: Self.mnistSizes))
        #expect(mask.layout.parameterCount == 1_663_370)
        #expect(mask.keptPerTensor == [8, 1, 512, 1, 16_056, 5, 51, 1])
        #expect(try RandomKMask(layout: MaskLayout(tensorSizes: [10, 0, 3]), keepFraction: 1).keptPerTensor == [10, 0, 3])
        #expect(try RandomKMask(layout: MaskLayout(tensorSizes: [10, 0, 3]), keepFraction: 0.5).keptPerTensor == [5, 0, 1])
    }

    @Test func bothPartnersComputeTheSameMask() throws {
        let layout = try MaskLayout(tensorSizes: Self.mnistSizes)
        let mine = try RandomKMask(layout: layout)
        let theirs = try RandomKMask(layout: MaskLayout(tensorSizes: Self.mnistSizes), keepFraction: 0.01)
        for round in [0, 1, 17, 1 << 40] as [UInt64] {
            #expect(mine.indices(seed: 99, round: round) == theirs.indices(seed: 99, round: round))
        }
    }

    @Test func exactlyKDistinctSortedInsideEachTensor() throws {
        let layout = try MaskLayout(tensorSizes: Self.mnistSizes)
        let mask = try RandomKMask(layout: layout)
        let all = mask.indices(seed: 5, round: 3)
        #expect(all.count == mask.keptCount)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0 < $1 }, "sorted and distinct")
        for (t, segment) in layout.segments.enumerated() {
            let inside = all.filter { segment.contains(Int($0)) }
            #expect(inside.count == mask.keptPerTensor[t], "tensor \(t)")
            #expect(mask.indices(seed: 5, round: 3, tensor: t) == inside)
        }
        #expect(all.allSatisfy { $0 >= 0 && Int($0) < layout.parameterCount })
    }

    @Test func differsBetweenRoundsAndSeeds() throws {
        let mask = try RandomKMask(layout: MaskLayout(tensorSizes: Self.mnistSizes))
        let base = mask.indices(seed: 1, round: 1)
        #expect(mask.indices(seed: 1, round: 2) != base)
        #expect(mask.indices(seed: 2, round: 1) != base)
        // Not just different: nearly disjoint, as independent 1 % samples should be.
        let other = Set(mask.indices(seed: 1, round: 2))
        #expect(base.filter(other.contains).count < base.count / 10)
    }

    @Test func fullAndNearFullMasks() throws {
        let mask = try RandomKMask(layout: MaskLayout(tensorSizes: [7, 5]), keepFraction: 1)
        #expect(mask.indices(seed: 3, round: 4) == Array(0..<12))
        let most = try RandomKMask(layout: MaskLayout(tensorSizes: [100]), keepFraction: 0.99)
        let picked = most.indices(seed: 3, round: 4)
        #expect(picked.count == 99 && Set(picked).count == 99)
    }

    /// Every coordinate of a small tensor is picked about equally often over many rounds.
    @Test func coordinatesAreEquallyLikely() throws {
        let mask = try RandomKMask(layout: MaskLayout(tensorSizes: [10]), keepFraction: 0.3)
        var counts = [Int](repeating: 0, count: 10)
        for round in 0..<30_000 as Range<UInt64> {
            for i in mask.indices(seed: 8, round: round) { counts[Int(i)] += 1 }
        }
        #expect(counts.allSatisfy { (8_500...9_500).contains($0) }, "\(counts)")
    }

    @Test func segmentsWithGaps() throws {
        // Tensors at 10..<110 and 200..<300 of 400; the rest (e.g. BatchNorm statistics) never travels.
        let layout = try MaskLayout(parameterCount: 400, segments: [10..<110, 200..<300])
        let picked = try RandomKMask(layout: layout, keepFraction: 0.1).indices(seed: 1, round: 1)
        #expect(picked.count == 20)
        #expect(picked.allSatisfy { (10..<110).contains(Int($0)) || (200..<300).contains(Int($0)) })
    }

    @Test func badLayoutsAreRejected() {
        #expect(throws: MaskLayoutError.self) { try MaskLayout(tensorSizes: [3, -1]) }
        #expect(throws: MaskLayoutError.self) { try MaskLayout(parameterCount: 10, segments: [0..<5, 4..<8]) }
        #expect(throws: MaskLayoutError.self) { try MaskLayout(parameterCount: 10, segments: [5..<8, 0..<2]) }
        #expect(throws: MaskLayoutError.self) { try MaskLayout(parameterCount: 10, segments: [5..<11]) }
        #expect(throws: MaskLayoutError.self) { try MaskLayout(tensorSizes: [Int(Int32.max), 1]) }
        #expect(throws: MaskLayoutError.self) { try RandomKMask(layout: MaskLayout(tensorSizes: [4]), keepFraction: 0) }
        #expect(throws: MaskLayoutError.self) { try RandomKMask(layout: MaskLayout(tensorSizes: [4]), keepFraction: 1.5) }
        #expect(throws: MaskLayoutError.self) { try RandomKMask(layout: MaskLayout(tensorSizes: [4]), keepFraction: .nan) }
    }

    /// The draw costs O(k), not O(P): a 2-billion-parameter tensor at ρ = 1e-5 gives its 21,474
    /// indices at once, where anything touching every parameter would need gigabytes. (No timing
    /// assertion: the size makes an O(P) implementation fail outright.)
    @Test func costIsProportionalToKNotToTheParameterCount() throws {
        let huge = try RandomKMask(layout: MaskLayout(tensorSizes: [Int(Int32.max)]), keepFraction: 1e-5)
        let picked = huge.indices(seed: 1, round: 1)
        #expect(picked.count == 21_474)
        #expect(Set(picked).count == picked.count)

        let mnist = try RandomKMask(layout: MaskLayout(tensorSizes: Self.mnistSizes))
        for round in 0..<20 as Range<UInt64> {
            #expect(mnist.indices(seed: 7, round: round).count == 16_635)
        }
    }
}
