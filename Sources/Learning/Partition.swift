import Foundation
import Seeded

/// How a training set is divided among workers.
public enum PartitionScheme: Equatable, Sendable, CustomStringConvertible {
    /// Shuffled and dealt out evenly.
    case iid
    /// Per class, shares drawn from Dirichlet(alpha) (smaller alpha: more skew); every
    /// worker gets at least `Partitioner.minimumPerWorker` samples.
    case dirichlet(alpha: Double)
    /// Each worker holds exactly K labels (the FedAvg paper's pathological non-iid split).
    case shards(labelsPerWorker: Int)

    /// `iid`, `dirichlet:ALPHA` or `shards:K`.
    public init(parsing text: String) throws(PartitionError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("iid", 1): self = .iid
        case ("dirichlet", 2):
            guard let alpha = Double(parts[1]), alpha > 0, alpha.isFinite else {
                throw PartitionError("dirichlet:ALPHA needs a positive number, got \(parts[1].debugDescription)")
            }
            self = .dirichlet(alpha: alpha)
        case ("shards", 2):
            guard let k = Int(parts[1]), k > 0 else {
                throw PartitionError("shards:K needs a positive integer, got \(parts[1].debugDescription)")
            }
            self = .shards(labelsPerWorker: k)
        default:
            throw PartitionError("unknown partition \(text.debugDescription): use iid, dirichlet:ALPHA or shards:K")
        }
    }

    public var description: String {
        switch self {
        case .iid: "iid"
        case .dirichlet(let alpha): "dirichlet:\(alpha)"
        case .shards(let k): "shards:\(k)"
        }
    }
}

public struct PartitionError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Splits sample indices among workers, deterministically from a seed: every worker
/// computes the same split from the same (labels, scheme, seed).
public enum Partitioner {
    public static let minimumPerWorker = 10

    /// One list of sample indices per worker; each index appears exactly once overall
    /// (`shards` leaves out labels no worker holds when workers × K < classes).
    public static func split(labels: [UInt8], classes: Int, workers: Int, scheme: PartitionScheme,
                             seed: UInt64) throws(PartitionError) -> [[Int]] {
        guard workers > 0 else { throw PartitionError("need at least one worker") }
        guard labels.count >= workers * minimumPerWorker else {
            throw PartitionError("\(labels.count) samples cannot give \(workers) workers \(minimumPerWorker) each")
        }
        var rng = SplitMix64(seed: seed)
        var byClass = [[Int]](repeating: [], count: classes)
        for (index, label) in labels.enumerated() where Int(label) < classes { byClass[Int(label)].append(index) }
        for c in byClass.indices { rng.shuffle(&byClass[c]) }
        switch scheme {
        case .iid:
            var all = Array(labels.indices)
            rng.shuffle(&all)
            return (0..<workers).map { w in stride(from: w, to: all.count, by: workers).map { all[$0] } }
        case .shards(let k):
            guard k <= classes else { throw PartitionError("shards:\(k): there are only \(classes) labels") }
            // Worker w holds labels w*K ..< w*K+K (mod classes); each label's samples are split evenly among its holders.
            var holders = [[Int]](repeating: [], count: classes)
            for w in 0..<workers { for j in 0..<k { holders[(w * k + j) % classes].append(w) } }
            var parts = [[Int]](repeating: [], count: workers)
            for c in 0..<classes where !holders[c].isEmpty {
                for (i, index) in byClass[c].enumerated() { parts[holders[c][i % holders[c].count]].append(index) }
            }
            guard parts.allSatisfy({ $0.count >= minimumPerWorker }) else {
                throw PartitionError("shards:\(k) leaves a worker fewer than \(minimumPerWorker) samples")
            }
            return parts
        case .dirichlet(let alpha):
            for _ in 0..<1000 {
                var parts = [[Int]](repeating: [], count: workers)
                for members in byClass where !members.isEmpty {
                    let shares = dirichlet(alpha: alpha, count: workers, rng: &rng)
                    var start = 0, cumulative = 0.0
                    for w in 0..<workers {
                        cumulative += shares[w]
                        let end = w == workers - 1 ? members.count : min(members.count, Int((cumulative * Double(members.count)).rounded()))
                        parts[w] += members[start..<max(start, end)]
                        start = max(start, end)
                    }
                }
                if parts.allSatisfy({ $0.count >= minimumPerWorker }) { return parts }
            }
            throw PartitionError("dirichlet:\(alpha) did not give every worker \(minimumPerWorker) samples in 1000 draws")
        }
    }

    /// A draw from Dirichlet(alpha, ..., alpha): normalised Gamma(alpha) draws.
    static func dirichlet(alpha: Double, count: Int, rng: inout SplitMix64) -> [Double] {
        let draws = (0..<count).map { _ in gamma(alpha, rng: &rng) }
        let total = draws.reduce(0, +)
        return total > 0 ? draws.map { $0 / total } : [Double](repeating: 1 / Double(count), count: count)
    }

    /// Marsaglia and Tsang's method; for shape < 1, Gamma(shape + 1) · U^(1/shape).
    static func gamma(_ shape: Double, rng: inout SplitMix64) -> Double {
        if shape < 1 {
            let u = max(rng.unitDouble(), .leastNonzeroMagnitude)
            return gamma(shape + 1, rng: &rng) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = normal(rng: &rng)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = rng.unitDouble()
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Box-Muller.
    static func normal(rng: inout SplitMix64) -> Double {
        let u1 = max(rng.unitDouble(), .leastNonzeroMagnitude), u2 = rng.unitDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
