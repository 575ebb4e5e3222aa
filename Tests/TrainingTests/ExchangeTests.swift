import Gossip
import Learning
import Seeded
import Testing
@testable import Training

/// The exchange rules on hand-made workers, without training.
@Suite struct ExchangeTests {
    static let layout = Network(.mlp, maxBatch: 1).layout

    static func workers(_ count: Int, seed: UInt64 = 1) -> Lanes<Worker> {
        var config = SimulationConfig()
        config.batchSize = 1
        return Lanes((0..<count).map { i in
            Worker(parameters: Network(.mlp, maxBatch: 1).initialParameters(seed: seed + UInt64(i)), samples: [i], config: config, features: 784,
                   seed: UInt64(i))
        })
    }

    static func distance(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
    }

    /// Worker 1 is worker 0 plus a rank-1 change of every layer's [W | b]: two meetings (one power
    /// iteration) find it, and the pair ends at its mean. A full-rank difference only shrinks.
    @Test func powerGossipRemovesALowRankDifferenceAndKeepsTheMean() {
        let workers = Self.workers(2)
        var rng = SplitMix64(seed: 9)
        workers[1].parameters = workers[0].parameters
        for block in PowerGossip<SAPSSelector>.blocks(Self.layout) {
            let u = (0..<block.rows).map { _ in Float(rng.unitDouble() - 0.5) }
            let v = (0..<block.columns).map { _ in Float(rng.unitDouble() - 0.5) * 0.1 }
            for row in 0..<block.rows {
                for column in 0..<(block.columns - 1) { workers[1].parameters[block.weightOffset + row * (block.columns - 1) + column] += u[row] * v[column] }
                workers[1].parameters[block.biasOffset + row] += u[row] * v[block.columns - 1]
            }
        }
        let mean = zip(workers[0].parameters, workers[1].parameters).map { ($0 + $1) / 2 }
        let start = Self.distance(workers[0].parameters, workers[1].parameters)
        let bandwidth = BandwidthMatrix.uniformRandom(workers: 2, seed: 1)
        var exchange = PowerGossip(selector: RandomMatchingSelector(seed: 1), layout: Self.layout, rank: 1, seed: 3)
        for round in 0..<2 {
            let traffic = exchange.exchange(round: round, workers: workers, bandwidth: bandwidth)
            #expect(traffic.bytesSent[0] > 0 && traffic.bytesSent[0] == traffic.bytesSent[1])
        }
        let end = Self.distance(workers[0].parameters, workers[1].parameters)
        // Half precision on the wire leaves about 2^-11 of the difference.
        #expect(end < start * 2e-3, "a rank-1 difference of \(start) became \(end)")
        let drift = Self.distance(zip(workers[0].parameters, workers[1].parameters).map { ($0 + $1) / 2 }, mean)
        #expect(drift < start * 1e-4, "the pair's mean moved by \(drift)")

        let random = Self.workers(2)
        var previous = Self.distance(random[0].parameters, random[1].parameters)
        for round in 0..<6 {
            _ = exchange.exchange(round: round, workers: random, bandwidth: bandwidth)
            let now = Self.distance(random[0].parameters, random[1].parameters)
            #expect(now < previous, "round \(round): the difference grew from \(previous) to \(now)")
            previous = now
        }
    }

    @Test func powerGossipRankSendsNoMoreThanRandomK() {
        for architecture in [Architecture.mlp, .cnn] {
            let layout = Network(architecture, maxBatch: 1).layout
            let rank = PowerGossip<SAPSSelector>.rank(matchingBytesOf: 0.01, layout: layout)
            let sparseBytes = layout.reduce(0) { $0 + max(1, $1.count / 100) } * 4
            let blocks = PowerGossip<SAPSSelector>.blocks(layout)
            func mean(_ r: Int) -> Double {
                blocks.reduce(0.0) { $0 + Double(HalfPrecision.bytes(count: $1.rows * r) + HalfPrecision.bytes(count: $1.columns * r)) / 2 }
            }
            #expect(mean(rank) <= Double(sparseBytes) && mean(rank + 1) > Double(sparseBytes), "\(architecture): rank \(rank)")
        }
    }

    @Test func halfPrecisionKeepsElevenBitsOfTheLargestValue() {
        var rng = SplitMix64(seed: 4)
        let values = (0..<1000).map { _ in Float(rng.unitDouble() * 2 - 1) * 7e5 }
        let back = HalfPrecision.roundTrip(values)
        let largest = values.map(abs).max()!
        for (a, b) in zip(values, back) { #expect(abs(a - b) <= largest * 0x1p-11 * 1.01) }
        #expect(HalfPrecision.roundTrip([0, 0]) == [0, 0])
        #expect(HalfPrecision.bytes(count: 10) == 24)
    }

    @Test func ringAverageKeepsTheMeanAndMixesNeighbours() {
        let workers = Self.workers(5)
        let before = (0..<5).map { workers[$0].parameters }
        var ring = RingAverage(topology: RingTopology(workers: 5))
        let traffic = ring.exchange(round: 0, workers: workers, bandwidth: .uniformRandom(workers: 5, seed: 2))
        for k in stride(from: 0, to: before[0].count, by: 997) {
            let oldMean = before.reduce(0) { $0 + Double($1[k]) } / 5
            let newMean = (0..<5).reduce(0) { $0 + Double(workers[$1].parameters[k]) } / 5
            #expect(abs(oldMean - newMean) < 1e-6)
            #expect(abs(Double(workers[2].parameters[k]) - Double(before[1][k] + before[2][k] + before[3][k]) / 3) < 1e-6)
        }
        #expect(traffic.bytesSent == [Double](repeating: Double(before[0].count * 4 * 2), count: 5))
    }

    @Test func federatedAverageWeighsByData() {
        var config = SimulationConfig()
        config.batchSize = 1
        let workers = Lanes([
            Worker(parameters: [Float](repeating: 1, count: 4), samples: [0], config: config, features: 1, seed: 0),
            Worker(parameters: [Float](repeating: 4, count: 4), samples: [1, 2, 3], config: config, features: 1, seed: 0),
        ])
        var fedavg = FederatedAverage(period: 2)
        let bandwidth = BandwidthMatrix.uniformRandom(workers: 2, seed: 1)
        #expect(fedavg.exchange(round: 1, workers: workers, bandwidth: bandwidth).bytesSent == [0, 0])
        #expect(workers[0].parameters == [1, 1, 1, 1])
        _ = fedavg.exchange(round: 2, workers: workers, bandwidth: bandwidth)
        #expect(workers[0].parameters == [3.25, 3.25, 3.25, 3.25] && workers[1].parameters == workers[0].parameters)
    }
}
