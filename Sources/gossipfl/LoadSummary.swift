import Foundation

/// What a load generator measured, printed as one JSON line (shared by the bench commands).
struct LoadSummary {
    /// Latencies of the calls that succeeded, in milliseconds.
    var latencies: [Double]
    var errors: Int
    var seconds: Double

    init(latencies: [Double], errors: Int, since start: ContinuousClock.Instant) {
        self.latencies = latencies.sorted()
        self.errors = errors
        seconds = Self.seconds(ContinuousClock.now - start)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    static func milliseconds(since t0: ContinuousClock.Instant) -> Double { seconds(ContinuousClock.now - t0) * 1e3 }

    func percentile(_ p: Double) -> Double {
        latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
    }

    /// Prints the summary with `fields` added.
    func print(_ fields: [String: Any]) throws {
        var object: [String: Any] = [
            "seconds": seconds, "per_second": Double(latencies.count) / seconds, "p50_ms": percentile(0.5),
            "p99_ms": percentile(0.99), "errors": errors,
        ]
        object.merge(fields) { _, new in new }
        var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(data)
    }
}
