/// Capped exponential backoff with jitter between reconnect attempts
/// (the shape of gRPC's connection-backoff spec).
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var multiplier: Double
    public var maximum: Duration
    /// Each delay is spread uniformly by ± this fraction.
    public var jitter: Double

    public init(initial: Duration = .seconds(1), multiplier: Double = 1.6, maximum: Duration = .seconds(120),
                jitter: Double = 0.2) {
        self.initial = initial
        self.multiplier = multiplier
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The un-jittered delay before attempt `attempt` (0-based) after failures.
    public func baseDelay(attempt: Int) -> Duration {
        let seconds = initial.seconds * pow(multiplier, Double(max(0, attempt)))
        return .seconds(min(seconds, maximum.seconds))
    }

    /// The delay for `attempt`, jittered with `unit` drawn from 0..<1.
    public func delay(attempt: Int, unit: Double) -> Duration {
        let base = baseDelay(attempt: attempt).seconds
        let spread = base * jitter * (unit * 2 - 1)
        return .seconds(max(0, base + spread))
    }
}

private func pow(_ x: Double, _ y: Double) -> Double {
    var result = 1.0
    var exponent = Int(y)
    var base = x
    while exponent > 0 {
        if exponent & 1 == 1 { result *= base }
        base *= base
        exponent >>= 1
    }
    return result
}
