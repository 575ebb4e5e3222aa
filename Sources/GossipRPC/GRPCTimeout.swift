/// The `grpc-timeout` header: at most 8 ASCII digits and a unit
/// (H hours, M minutes, S seconds, m millis, u micros, n nanos).
public enum GRPCTimeout {
    private static let units: [(Character, Int64)] = [
        ("n", 1), ("u", 1_000), ("m", 1_000_000), ("S", 1_000_000_000),
        ("M", 60_000_000_000), ("H", 3_600_000_000_000),
    ]

    /// Parses a header value; nil when malformed.
    public static func parse(_ value: String) -> Duration? {
        guard let unit = value.last, value.count >= 2, value.count <= 9 else { return nil }
        let digits = value.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let amount = Int64(digits),
              let nanosPerUnit = units.first(where: { $0.0 == unit })?.1 else { return nil }
        let (nanos, overflow) = amount.multipliedReportingOverflow(by: nanosPerUnit)
        return .nanoseconds(overflow ? Int64.max : nanos)
    }

    /// Formats a duration with the finest unit that fits in 8 digits, rounding
    /// up so the server never sees a shorter deadline than the client's.
    public static func format(_ duration: Duration) -> String {
        let (seconds, atto) = duration.components
        guard seconds >= 0 else { return "1n" }
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let total = nanos.overflow ? Int64.max : nanos.partialValue.addingReportingOverflow(atto / 1_000_000_000).partialValue
        let positive = max(total, 1)
        for (unit, perUnit) in units {
            let amount = (positive + perUnit - 1) / perUnit
            if amount < 100_000_000 { return "\(amount)\(unit)" }
        }
        return "99999999H"
    }
}
