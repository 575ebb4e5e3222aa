import Foundation
import Gossip
import GossipRPC
import GossipWire
import Logging
import RaftNode
import Training

/// Measures this peer's throughput to the others with gossip.v1 Probe, one peer at a time, and
/// commits a report when its view changed materially; on the leader, also turns the committed
/// reports into the bandwidth matrix SAPS plans with. Runs beside the rounds, never in them.
struct BandwidthProber {
    let peer: TrainingPeer
    let node: RaftNode<TrainingMachine>
    let proposer: TrainingProposer
    let interval: Duration
    var measurements = LinkMeasurements(window: 5)
    /// Bytes each way per probe and link: sized to take about `probeTime`, so a probe costs a
    /// small, fixed share of any link's time.
    var probeBytes: [String: Int] = [:]
    var lastReport: [String: Double] = [:]
    var lastReportAt: ContinuousClock.Instant?
    var lastMatrixAt: ContinuousClock.Instant?
    var next = 0

    static let probeTime = 0.025
    static let minProbeBytes = 16 << 10
    static let maxProbeBytes = 1 << 20

    init(peer: TrainingPeer, node: RaftNode<TrainingMachine>, proposer: TrainingProposer, interval: Duration) {
        self.peer = peer
        self.node = node
        self.proposer = proposer
        self.interval = interval
    }

    mutating func run() async {
        while !peer.isStopping && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let ledger = await node.machine.ledger
            let others = ledger.participants(at: max(0, ledger.horizon - 1)).map(\.node).filter { $0 != peer.id }
            if !others.isEmpty {
                await probe(others[next % others.count])
                next += 1
            }
            let links = measurements.report
            peer.status.withLock { $0.links = links }
            await reportIfChanged(links)
            if await node.softState.role == .leader { await commitMatrixIfChanged(ledger) }
        }
    }

    private mutating func probe(_ other: String) async {
        guard let address = await node.gossipAddress(of: other) else { return }
        // The first probe of a link is the smallest: it must not flood a slow link before we know it is slow.
        let bytes = probeBytes[other] ?? Self.minProbeBytes
        let request = GossipV1.ProbeRequest(senderId: peer.id, payload: [UInt8](repeating: 0, count: bytes), replyBytes: UInt32(bytes))
        let started = ContinuousClock.now
        do {
            let reply = try await peer.channels.channel(to: address).unary(GossipMethods.probe, request,
                                                                           options: CallOptions(timeout: .seconds(5)))
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            measurements.record(peer: other, bytes: bytes + reply.payload.count, seconds: seconds)
            if let rate = measurements.megabytesPerSecond(to: other) {
                probeBytes[other] = min(Self.maxProbeBytes, max(Self.minProbeBytes, Int(rate * 1e6 * Self.probeTime)))
            }
        } catch {
            peer.logger.debug("probe of \(other) failed: \(error)")
        }
    }

    private mutating func reportIfChanged(_ links: [String: Double]) async {
        guard !links.isEmpty else { return }
        if let at = lastReportAt, ContinuousClock.now - at < .seconds(2) { return }
        let changed = links.contains { peer, rate in
            guard let old = lastReport[peer] else { return true }
            let change = abs(rate - old)
            return change > 0.1 && change > 0.25 * max(rate, old)
        }
        guard changed else { return }
        lastReportAt = .now
        if await proposer.propose(.report(node: peer.id, mbps: links), within: .seconds(2)) { lastReport = links }
    }

    /// The leader's part: the matrix over the current participants, committed when a link moved
    /// by more than a quarter (or the participants changed).
    private mutating func commitMatrixIfChanged(_ ledger: TrainingLedger) async {
        if let at = lastMatrixAt, ContinuousClock.now - at < .seconds(2) { return }
        let workers = ledger.participants(at: max(0, ledger.horizon - 1)).map(\.node)
        let measured = workers.flatMap { a in workers.compactMap { b in a == b ? nil : ledger.reports[a]?[b] } }
        guard workers.count >= 2, !measured.isEmpty else { return }
        // A link nobody measured yet counts as a typical one, so SAPS neither seeks nor shuns it.
        let typical = measured.sorted()[measured.count / 2]
        let matrix = BandwidthAggregation.matrix(workers: workers, reports: ledger.reports, unmeasured: typical)
        if let latest = ledger.latestMatrix, latest.workers == workers,
           !BandwidthAggregation.changedMaterially(from: latest.matrix, to: matrix) { return }
        lastMatrixAt = .now
        _ = await proposer.propose(.bandwidth(workers: workers, matrix: matrix, fromRound: ledger.horizon), within: .seconds(2))
    }
}
