@testable import Gossip
import Seeded
import Testing

@Suite struct DenseMixingTests {
    static func bytes(_ values: [Float]) -> [UInt8] { DenseMixing.bytes(of: values) }

    @Test func aRingNodeTakesAThirdOfItselfAndEachNeighbour() {
        var params: [Float] = [3, 6, -9]
        DenseMixing.mix(params: &params, neighbours: [[0, 3, 0], [0, 0, 3]])
        #expect(params == [1, 3, -2])
    }

    /// The network's path (wire bytes) and the simulation's (arrays) give the same bits.
    @Test func wireBytesMixExactlyAsArraysDo() throws {
        var generator = SplitMix64(seed: 11)
        let own = (0..<1000).map { _ in Float.random(in: -2...2, using: &generator) }
        let left = (0..<1000).map { _ in Float.random(in: -2...2, using: &generator) }
        let right = (0..<1000).map { _ in Float.random(in: -2...2, using: &generator) }
        var fromArrays = own, fromBytes = own
        DenseMixing.mix(params: &fromArrays, neighbours: [left, right])
        let (l, r) = (Self.bytes(left), Self.bytes(right))
        try l.withUnsafeBytes { lb in try r.withUnsafeBytes { rb in try DenseMixing.mix(params: &fromBytes, neighbourBytes: [lb, rb]) } }
        #expect(fromArrays.map(\.bitPattern) == fromBytes.map(\.bitPattern))
        #expect(zip(fromArrays, own.indices).allSatisfy { abs($0 - (own[$1] + left[$1] + right[$1]) / 3) < 1e-6 })
    }

    /// A neighbour that did not answer drops out: the other and we weigh half each.
    @Test func oneNeighbourGivesThePairwiseAverageAndNoneChangesNothing() throws {
        var params: [Float] = [2, 4]
        try Self.bytes([4, 0]).withUnsafeBytes { try DenseMixing.mix(params: &params, neighbourBytes: [$0]) }
        #expect(params == [3, 2])
        try DenseMixing.mix(params: &params, neighbourBytes: [])
        #expect(params == [3, 2])
    }

    @Test func badNeighboursAreRefusedBeforeAnythingIsWritten() {
        var params: [Float] = [1, 2, 3]
        let good = Self.bytes([1, 1, 1])
        for (bad, error) in [(Self.bytes([1, .nan, 1]), MaskedExchangeError.nonFiniteValue(position: 1, index: 1)),
                             (Self.bytes([1, 1, .infinity]), .nonFiniteValue(position: 2, index: 2)),
                             (Self.bytes([1, 1]), .valueCountMismatch(expected: 3, received: 2)),
                             (Array(Self.bytes([1, 1, 1]).dropLast()), .byteCountNotAMultipleOfFour(11))] {
            #expect(throws: error) {
                try good.withUnsafeBytes { g in try bad.withUnsafeBytes { b in try DenseMixing.mix(params: &params, neighbourBytes: [g, b]) } }
            }
        }
        #expect(params == [1, 2, 3])
    }
}
