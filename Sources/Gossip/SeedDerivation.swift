import Seeded

/// Seeds derived from replicated values only (a run seed, the round, a tensor index), so every
/// node computes the same random stream without sharing generator state: the original's
/// "seed NumPy identically and make the same calls" broke silently on any extra draw.
///
/// The rule, for reimplementations: h = SplitMix64(seed: seed).next(), then for each part p,
/// h = SplitMix64(seed: h ^ p).next().
public enum SeedDerivation {
    public static func derive(_ seed: UInt64, _ parts: UInt64...) -> UInt64 {
        derive(seed, parts)
    }

    public static func derive(_ seed: UInt64, _ parts: [UInt64]) -> UInt64 {
        var h = first(seed)
        for part in parts { h = first(h ^ part) }
        return h
    }

    /// The first output of SplitMix64 seeded with x: a bijection that spreads every bit.
    private static func first(_ x: UInt64) -> UInt64 {
        var g = SplitMix64(seed: x)
        return g.next()
    }
}
