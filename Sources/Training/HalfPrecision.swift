/// Values on the wire as IEEE binary16 scaled by their largest magnitude (one Float32 scale per
/// message): the range never overflows, and the relative error is at most 2^-11 of the largest value.
enum HalfPrecision {
    static func bytes(count: Int) -> Int { count * MemoryLayout<Float16>.size + MemoryLayout<Float>.size }

    static func encode(_ values: [Float]) -> (scale: Float, halves: [Float16]) {
        let largest = values.reduce(Float(0)) { max($0, abs($1)) }
        guard largest > 0, largest.isFinite else { return (largest.isFinite ? 0 : .nan, values.map { _ in 0 }) }
        // Scaled into [-1, 1]: binary16 keeps 11 significant bits there (subnormals below 2^-14).
        let inverse = 1 / largest
        return (largest, values.map { Float16($0 * inverse) })
    }

    static func decode(scale: Float, halves: [Float16]) -> [Float] { halves.map { Float($0) * scale } }

    /// What the receiver reconstructs from `values`.
    static func roundTrip(_ values: [Float]) -> [Float] {
        let (scale, halves) = encode(values)
        return decode(scale: scale, halves: halves)
    }
}
