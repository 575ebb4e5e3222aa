import Gossip
import Learning

/// Tests/vectors/data.json: how a run's training set is split into data slots and batched, for
/// other implementations of a training node (see Gossip's ReferenceVectors). Labels are synthetic
/// (sample i has label (7i + i/13) mod 10) so the file stands alone.
public enum DataVectors {
    public struct Split: Codable, Equatable, Sendable {
        public let scheme: String
        public let workers: Int
        public let seed: UInt64
        public let parts: [[Int]]
    }

    public struct Batches: Codable, Equatable, Sendable {
        public let samples: [Int]
        public let batch_size: Int
        public let seed: UInt64
        /// The first batches, crossing a pass (reshuffled) boundary.
        public let batches: [[Int]]
    }

    public struct File: Codable, Equatable, Sendable {
        public let labels: [UInt8]
        public let classes: Int
        public let splits: [Split]
        public let batches: [Batches]
    }

    public static let sampleCount = 1000

    public static func standard() throws -> File {
        let labels = (0..<sampleCount).map { UInt8((7 * $0 + $0 / 13) % 10) }
        // The peers' seeds for run seed 1: SeedDerivation.derive(1, 2) splits, derive(1, 4, slot) batches.
        let splitSeed = SeedDerivation.derive(1, 2)
        var splits: [Split] = []
        for (scheme, workers) in [("iid", 4), ("iid", 5), ("dirichlet:0.5", 4), ("dirichlet:2", 3), ("shards:2", 5), ("shards:3", 4)] {
            let parts = try Partitioner.split(labels: labels, classes: 10, workers: workers, scheme: try PartitionScheme(parsing: scheme), seed: splitSeed)
            splits.append(Split(scheme: scheme, workers: workers, seed: splitSeed, parts: parts))
        }
        let slot = splits[0].parts[1]
        var batches: [Batches] = []
        for (size, seed) in [(50, SeedDerivation.derive(1, 4, 1)), (64, SeedDerivation.derive(9, 4, 0))] {
            var sampler = BatchSampler(samples: slot, batchSize: size, seed: seed)
            let count = slot.count / size + 3
            batches.append(Batches(samples: slot, batch_size: size, seed: seed, batches: (0..<count).map { _ in Array(sampler.next()) }))
        }
        return File(labels: labels, classes: 10, splits: splits, batches: batches)
    }

}
