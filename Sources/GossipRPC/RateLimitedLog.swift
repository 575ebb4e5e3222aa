/// At most one log line per `interval` for a repeating event, with a count of
/// what was suppressed in between. Time is passed in.
struct RateLimitedLog {
    let interval: Duration
    private var lastLogged: ContinuousClock.Instant?
    private var suppressed = 0

    init(interval: Duration) { self.interval = interval }

    /// Nil: stay quiet. Otherwise log now; the value is how many events were suppressed since the last line.
    mutating func shouldLog(now: ContinuousClock.Instant) -> Int? {
        if let lastLogged, now - lastLogged < interval {
            suppressed += 1
            return nil
        }
        defer { suppressed = 0 }
        lastLogged = now
        return suppressed
    }
}
