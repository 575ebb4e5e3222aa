/// SplitMix64: a small deterministic generator. The Raft core draws every random
/// choice from one of these, and so do the learning and gossip cores, so a run is
/// reproducible from its seeds.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound; the modulo bias is negligible for small bounds.
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        return next() % bound
    }
}

extension SplitMix64 {
    /// Uniform in [0, 1) from the top 53 bits: the same sequence everywhere (the standard
    /// library's `Double.random(using:)` may change its method between Swift releases).
    public mutating func unitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A Fisher-Yates shuffle driven by this generator only.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, Int(next(below: UInt64(i + 1))))
        }
    }
}
