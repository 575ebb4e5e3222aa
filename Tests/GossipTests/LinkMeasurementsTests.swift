@testable import Gossip
import Testing

@Suite struct LinkMeasurementsTests {
    @Test func theMedianOfTheLastSamplesIgnoringNonsense() {
        var links = LinkMeasurements(window: 3)
        #expect(links.megabytesPerSecond(to: "b") == nil)
        links.record(peer: "b", bytes: 10_000_000, seconds: 1)  // 10 MB/s
        links.record(peer: "b", bytes: 1_000_000, seconds: 1)   // 1: a slow probe
        links.record(peer: "b", bytes: 24_000_000, seconds: 2)  // 12
        #expect(links.megabytesPerSecond(to: "b") == 10)
        links.record(peer: "b", bytes: 0, seconds: 1)
        links.record(peer: "b", bytes: 5, seconds: 0)
        links.record(peer: "b", bytes: 5, seconds: .nan)
        #expect(links.megabytesPerSecond(to: "b") == 10)
        links.record(peer: "b", bytes: 30_000_000, seconds: 2)  // 15: the 10 falls out of the window
        #expect(links.megabytesPerSecond(to: "b") == 12)
        links.record(peer: "c", bytes: 3_000_000, seconds: 1)
        links.record(peer: "c", bytes: 5_000_000, seconds: 1)
        #expect(links.report == ["b": 12, "c": 4])
    }

    @Test func theMatrixTakesTheSlowerDirectionAndFillsTheUnmeasured() {
        let reports: [String: [String: Double]] = [
            "a": ["b": 10, "c": 4, "x": 99],
            "b": ["a": 6, "c": .nan],
            "c": [:],
        ]
        let matrix = BandwidthAggregation.matrix(workers: ["a", "b", "c", "d"], reports: reports, unmeasured: 1)
        #expect(matrix[0, 1] == 6 && matrix[1, 0] == 6)
        #expect(matrix[0, 2] == 4 && matrix[2, 0] == 4)
        #expect(matrix[1, 2] == 1 && matrix[0, 3] == 1 && matrix[2, 3] == 1)
        #expect(BandwidthAggregation.matrix(workers: [], reports: [:], unmeasured: 0).workers == 0)
    }

    @Test func onlyMaterialChangesAreWorthAnEntry() throws {
        let old = try BandwidthMatrix(rows: [[0, 10, 0.05], [10, 0, 4], [0.05, 4, 0]])
        #expect(!BandwidthAggregation.changedMaterially(from: old, to: old))
        #expect(!BandwidthAggregation.changedMaterially(from: old, to: try BandwidthMatrix(rows: [[0, 11, 0.05], [11, 0, 4], [0.05, 4, 0]])))
        #expect(BandwidthAggregation.changedMaterially(from: old, to: try BandwidthMatrix(rows: [[0, 14, 0.05], [14, 0, 4], [0.05, 4, 0]])))
        // 0.05 -> 0.12 MB/s is more than doubled but under the absolute floor: no flapping.
        #expect(!BandwidthAggregation.changedMaterially(from: old, to: try BandwidthMatrix(rows: [[0, 10, 0.12], [10, 0, 4], [0.12, 4, 0]])))
        #expect(BandwidthAggregation.changedMaterially(from: old, to: try BandwidthMatrix(rows: [[0, 1], [1, 0]])))
    }

    /// Every node probes every other once per (n - 1) · period rounds, one probe per period, and
    /// the nodes' probes fall in different rounds when period ≥ n.
    @Test func probesWalkThePeersSpreadOverRounds() {
        let members = ["a", "b", "c", "d"], schedule = ProbeSchedule(period: 4)
        var probed: [String: [String]] = [:]
        var busyRounds: [Int: Int] = [:]
        for round in 0..<(3 * 4) {
            for node in members {
                if let target = schedule.target(round: round, node: node, members: members) {
                    #expect(target != node)
                    probed[node, default: []].append(target)
                    busyRounds[round, default: 0] += 1
                }
            }
        }
        for node in members { #expect(Set(probed[node] ?? []) == Set(members.filter { $0 != node }) && probed[node]!.count == 3) }
        #expect(busyRounds.values.allSatisfy { $0 == 1 })
        #expect(schedule.target(round: 0, node: "z", members: members) == nil)
        #expect(schedule.target(round: 0, node: "a", members: ["a"]) == nil)
    }
}
