/// A peer's measured throughput to each other peer, from bandwidth probes: the median of the
/// last few samples per link, so one slow or lucky probe does not move the estimate.
public struct LinkMeasurements: Hashable, Sendable {
    /// Samples kept per link.
    public let window: Int
    private var samples: [String: [Double]] = [:]

    public init(window: Int = 5) {
        precondition(window >= 1)
        self.window = window
    }

    /// Records one probe: `bytes` moved in `seconds`. Probes that say nothing (no bytes, no time,
    /// NaN) are ignored.
    public mutating func record(peer: String, bytes: Int, seconds: Double) {
        guard bytes > 0, seconds > 0, seconds.isFinite else { return }
        var list = samples[peer, default: []]
        list.append(Double(bytes) / 1e6 / seconds)
        if list.count > window { list.removeFirst(list.count - window) }
        samples[peer] = list
    }

    /// MB/s to `peer`, or nil before any probe.
    public func megabytesPerSecond(to peer: String) -> Double? {
        guard let list = samples[peer], !list.isEmpty else { return nil }
        let sorted = list.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Every measured link, as a `gossip.v1.BandwidthReport` carries it.
    public var report: [String: Double] {
        var out: [String: Double] = [:]
        for peer in samples.keys { out[peer] = megabytesPerSecond(to: peer) }
        return out
    }
}

/// The leader's side: the committed matrix from the peers' reports, and when it is worth a new entry.
public enum BandwidthAggregation {
    /// The symmetric matrix over `workers` (in this order): a link takes the slower of its two
    /// directions' reports, the one report there is, or `unmeasured` (non-negative, finite).
    public static func matrix(workers: [String], reports: [String: [String: Double]], unmeasured: Double) -> BandwidthMatrix {
        precondition(unmeasured >= 0 && unmeasured.isFinite)
        func usable(_ value: Double?) -> Double? { value.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } }
        let n = workers.count
        var values = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let forward = usable(reports[workers[i]]?[workers[j]]), backward = usable(reports[workers[j]]?[workers[i]])
                let link = switch (forward, backward) {
                case let (a?, b?): min(a, b)
                case let (a?, nil): a
                case let (nil, b?): b
                case (nil, nil): unmeasured
                }
                values[i * n + j] = link
                values[j * n + i] = link
            }
        }
        return BandwidthMatrix(workers: n, unchecked: values)
    }

    /// Whether `new` differs enough from the committed `old` to commit it: another worker count,
    /// or a link whose bandwidth moved by more than `relative` of the larger of the two values
    /// (and by more than `absolute` MB/s, so near-zero links do not flap).
    public static func changedMaterially(from old: BandwidthMatrix, to new: BandwidthMatrix, relative: Double = 0.25,
                                         absolute: Double = 0.1) -> Bool {
        guard old.workers == new.workers else { return true }
        for i in 0..<new.workers {
            for j in (i + 1)..<max(i + 1, new.workers) {
                let (a, b) = (old[i, j], new[i, j])
                let change = abs(a - b)
                if change > absolute && change > relative * max(a, b) { return true }
            }
        }
        return false
    }
}

/// Which peer a node probes in a round: each node walks the others in turn, one probe every
/// `period` rounds, nodes offset by their position so probes spread over the rounds.
public struct ProbeSchedule: Hashable, Sendable {
    public let period: Int

    public init(period: Int = 10) {
        precondition(period >= 1)
        self.period = period
    }

    /// The peer `node` probes in `round`, or nil (not its turn, or it has no peers).
    public func target(round: Int, node: String, members: [String]) -> String? {
        guard let position = members.firstIndex(of: node), members.count > 1, round >= 0 else { return nil }
        let shifted = round + position
        guard shifted % period == 0 else { return nil }
        let others = members.filter { $0 != node }
        return others[(shifted / period) % others.count]
    }
}
