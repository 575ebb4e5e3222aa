/// Where the exchanged tensors sit in a flat parameter vector. Gaps are allowed, for entries
/// that never travel (BatchNorm running statistics are not exchanged).
public struct MaskLayout: Hashable, Sendable {
    public let parameterCount: Int
    /// One range per tensor, in order, not overlapping.
    public let segments: [Range<Int>]

    /// Tensors stored back to back.
    public init(tensorSizes: [Int]) throws(MaskLayoutError) {
        var segments: [Range<Int>] = []
        var start = 0
        for (t, size) in tensorSizes.enumerated() {
            guard size >= 0 else { throw MaskLayoutError("tensor \(t) has negative size \(size)") }
            let (end, overflow) = start.addingReportingOverflow(size)
            guard !overflow else { throw MaskLayoutError("tensor sizes overflow") }
            segments.append(start..<end)
            start = end
        }
        try self.init(parameterCount: start, segments: segments)
    }

    public init(parameterCount: Int, segments: [Range<Int>]) throws(MaskLayoutError) {
        // Indices travel as Int32 and the wire's total_length is a uint32.
        guard parameterCount >= 0, parameterCount <= Int(Int32.max) else {
            throw MaskLayoutError("parameter count \(parameterCount) is outside 0...\(Int32.max)")
        }
        var previousEnd = 0
        for (t, segment) in segments.enumerated() {
            guard segment.lowerBound >= previousEnd else {
                throw MaskLayoutError("tensor \(t) at \(segment) overlaps or precedes the tensor before it")
            }
            guard segment.upperBound <= parameterCount else {
                throw MaskLayoutError("tensor \(t) at \(segment) runs past the \(parameterCount) parameters")
            }
            previousEnd = segment.upperBound
        }
        self.parameterCount = parameterCount
        self.segments = segments
    }
}

public struct MaskLayoutError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
