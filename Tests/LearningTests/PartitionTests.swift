@testable import Learning
import Seeded
import Testing

@Suite struct PartitionTests {
    /// 10 classes, 100 samples each, label = index % 10.
    static let labels = (0..<1000).map { UInt8($0 % 10) }

    static func check(_ parts: [[Int]], covering total: Int) {
        let all = parts.flatMap { $0 }
        #expect(Set(all).count == all.count, "an index given twice")
        #expect(all.count == total)
        #expect(parts.allSatisfy { $0.count >= Partitioner.minimumPerWorker })
    }

    @Test func schemesParseAndPrint() throws {
        for text in ["iid", "dirichlet:0.5", "shards:2"] {
            #expect(try PartitionScheme(parsing: text).description == text)
        }
        for bad in ["", "iid:1", "dirichlet", "dirichlet:0", "dirichlet:-1", "dirichlet:nan", "shards:0", "shards:x", "zipf:2"] {
            #expect(throws: PartitionError.self) { _ = try PartitionScheme(parsing: bad) }
        }
    }

    @Test func iidIsEvenAndTheSameForTheSameSeed() throws {
        let a = try Partitioner.split(labels: Self.labels, classes: 10, workers: 7, scheme: .iid, seed: 1)
        Self.check(a, covering: 1000)
        #expect(Set(a.map(\.count)) == [142, 143])
        #expect(try Partitioner.split(labels: Self.labels, classes: 10, workers: 7, scheme: .iid, seed: 1) == a)
        #expect(try Partitioner.split(labels: Self.labels, classes: 10, workers: 7, scheme: .iid, seed: 2) != a)
    }

    @Test func shardsGiveEachWorkerExactlyKLabels() throws {
        let parts = try Partitioner.split(labels: Self.labels, classes: 10, workers: 5, scheme: .shards(labelsPerWorker: 2), seed: 3)
        Self.check(parts, covering: 1000)
        for part in parts { #expect(Set(part.map { Self.labels[$0] }).count == 2) }
        #expect(throws: PartitionError.self) {
            _ = try Partitioner.split(labels: Self.labels, classes: 10, workers: 5, scheme: .shards(labelsPerWorker: 11), seed: 3)
        }
    }

    @Test func dirichletSkewsWithSmallAlphaAndKeepsTheMinimum() throws {
        func skew(_ alpha: Double) throws -> Double {
            let parts = try Partitioner.split(labels: Self.labels, classes: 10, workers: 8, scheme: .dirichlet(alpha: alpha), seed: 4)
            Self.check(parts, covering: 1000)
            // Mean over workers of the largest class's share: 0.1 is perfectly balanced.
            return parts.map { part in
                var counts = [Int](repeating: 0, count: 10)
                for i in part { counts[Int(Self.labels[i])] += 1 }
                return Double(counts.max()!) / Double(part.count)
            }.reduce(0, +) / 8
        }
        let skewed = try skew(0.1), balanced = try skew(100)
        #expect(skewed > 0.5 && balanced < 0.2, "skew at alpha 0.1: \(skewed), at 100: \(balanced)")
        #expect(try Partitioner.split(labels: Self.labels, classes: 10, workers: 8, scheme: .dirichlet(alpha: 0.1), seed: 4)
                == Partitioner.split(labels: Self.labels, classes: 10, workers: 8, scheme: .dirichlet(alpha: 0.1), seed: 4))
    }

    @Test func tooFewSamplesIsAClearError() {
        #expect(throws: PartitionError.self) {
            _ = try Partitioner.split(labels: Array(Self.labels.prefix(50)), classes: 10, workers: 6, scheme: .iid, seed: 1)
        }
    }

    @Test func gammaDrawsHaveTheirMean() {
        var rng = SplitMix64(seed: 9)
        for shape in [0.3, 1.0, 4.5] {
            let n = 20_000
            let mean = (0..<n).map { _ in Partitioner.gamma(shape, rng: &rng) }.reduce(0, +) / Double(n)
            #expect(abs(mean - shape) < 0.05 * max(shape, 1), "Gamma(\(shape)) mean \(mean)")
        }
    }
}
