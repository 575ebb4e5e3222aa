import Seeded

/// The shared random-k mask: per tensor, k = max(1, floor(numel · ρ)) distinct coordinates,
/// drawn only from (seed, round, tensor index), so both partners compute the same mask alone
/// and only values travel.
///
/// The draw, for reimplementations: tensor t of size N uses
/// SplitMix64(seed: SeedDerivation.derive(seed, round, t)) and Floyd's algorithm — for j in
/// N-k ..< N: x = next() % (j + 1); take x unless already taken, else take j. Cost O(k) time
/// and memory, whatever N.
public struct RandomKMask: Hashable, Sendable {
    /// ρ: the fraction kept (the original's compress_ratio 0.99 is the fraction dropped).
    public static let defaultKeepFraction = 0.01

    public let layout: MaskLayout
    public let keepFraction: Double
    /// k for each tensor (0 only for an empty tensor).
    public let keptPerTensor: [Int]

    public init(layout: MaskLayout, keepFraction: Double = defaultKeepFraction) throws(MaskLayoutError) {
        guard keepFraction > 0, keepFraction <= 1 else {
            throw MaskLayoutError("keep fraction must be in (0, 1], got \(keepFraction)")
        }
        self.layout = layout
        self.keepFraction = keepFraction
        keptPerTensor = layout.segments.map { segment in
            segment.isEmpty ? 0 : min(segment.count, max(1, Int((Double(segment.count) * keepFraction).rounded(.down))))
        }
    }

    /// Values exchanged per round.
    public var keptCount: Int { keptPerTensor.reduce(0, +) }

    /// The round's mask over the whole vector: sorted global indices (sorted for cache-friendly
    /// gathers), exactly `keptPerTensor[t]` inside each tensor's segment.
    public func indices(seed: UInt64, round: UInt64) -> [Int32] {
        var all: [Int32] = []
        all.reserveCapacity(keptCount)
        for t in layout.segments.indices { appendIndices(seed: seed, round: round, tensor: t, to: &all) }
        return all
    }

    /// One tensor's part of the mask: sorted global indices.
    public func indices(seed: UInt64, round: UInt64, tensor t: Int) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(keptPerTensor[t])
        appendIndices(seed: seed, round: round, tensor: t, to: &out)
        return out
    }

    private func appendIndices(seed: UInt64, round: UInt64, tensor t: Int, to out: inout [Int32]) {
        let segment = layout.segments[t]
        let n = segment.count, k = keptPerTensor[t]
        guard k > 0 else { return }
        var rng = SplitMix64(seed: SeedDerivation.derive(seed, round, UInt64(t)))
        var taken = Set<Int>(minimumCapacity: k)
        var picks: [Int] = []
        picks.reserveCapacity(k)
        for j in (n - k)..<n {
            let x = Int(rng.next(below: UInt64(j + 1)))
            let pick = taken.contains(x) ? j : x
            taken.insert(pick)
            picks.append(pick)
        }
        picks.sort()
        for p in picks { out.append(Int32(segment.lowerBound + p)) }
    }
}
