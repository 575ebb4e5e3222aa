import Foundation
import Seeded

/// Synthetic matrices for simulations and benches (the original never measured bandwidth).
extension BandwidthMatrix {
    /// Each link U(range), independently: the original's U(0, 5).
    public static func uniformRandom(workers: Int, seed: UInt64, range: Range<Double> = 0..<5) -> BandwidthMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound.isFinite, "bandwidths must be finite and non-negative")
        return symmetric(workers: workers, seed: seed) { _, _, rng in
            range.lowerBound + (range.upperBound - range.lowerBound) * rng.unitDouble()
        }
    }

    /// Each link log-uniform in `range`: orders of magnitude apart, like links across a WAN,
    /// where picking partners by bandwidth matters most.
    public static func logUniform(workers: Int, seed: UInt64, range: ClosedRange<Double> = 0.1...100) -> BandwidthMatrix {
        precondition(range.lowerBound > 0 && range.upperBound.isFinite, "log-uniform needs 0 < lower <= upper < inf")
        let lo = log(range.lowerBound), hi = log(range.upperBound)
        return symmetric(workers: workers, seed: seed) { _, _, rng in
            min(range.upperBound, max(range.lowerBound, exp(lo + (hi - lo) * rng.unitDouble())))
        }
    }

    /// Workers at `clusters` sites (worker i at site i % clusters): links within a site U(intra),
    /// between sites U(inter). With the defaults, B_thres = 3 separates the two.
    public static func clustered(workers: Int, clusters: Int, seed: UInt64,
                                 intra: Range<Double> = 10..<100, inter: Range<Double> = 0.1..<2) -> BandwidthMatrix {
        precondition(clusters > 0)
        precondition(intra.lowerBound >= 0 && inter.lowerBound >= 0 && intra.upperBound.isFinite && inter.upperBound.isFinite)
        return symmetric(workers: workers, seed: seed) { i, j, rng in
            let range = i % clusters == j % clusters ? intra : inter
            return range.lowerBound + (range.upperBound - range.lowerBound) * rng.unitDouble()
        }
    }

    /// Draws the upper triangle row by row (i < j) and mirrors it.
    private static func symmetric(workers n: Int, seed: UInt64,
                                  draw: (Int, Int, inout SplitMix64) -> Double) -> BandwidthMatrix {
        precondition(n > 0, "a bandwidth matrix needs at least one worker")
        var rng = SplitMix64(seed: seed)
        var values = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let b = draw(i, j, &rng)
                values[i * n + j] = b
                values[j * n + i] = b
            }
        }
        return BandwidthMatrix(workers: n, unchecked: values)
    }
}
