/// Chooses each round's matching. SAPS depends on bandwidth and its own history; the baselines
/// use only the worker count.
public protocol PeerSelector: Sendable {
    mutating func matching(round: Int, bandwidth: BandwidthMatrix) -> Matching
}
