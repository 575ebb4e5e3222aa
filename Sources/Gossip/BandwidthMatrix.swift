/// Link bandwidths between n workers, in any one unit (the original's U(0,5) has none; we use
/// MB/s). Symmetric, finite and non-negative. The diagonal means nothing (nobody sends to
/// itself): it is not validated and reads as 0.
public struct BandwidthMatrix: Hashable, Sendable {
    public let workers: Int
    /// Row-major, diagonal 0.
    private var values: [Double]

    /// Validates `rows`: square, finite, non-negative and symmetric off the diagonal.
    public init(rows: [[Double]]) throws(BandwidthMatrixError) {
        try self.init(validating: rows) { i, j in "entry [\(i)][\(j)]" }
    }

    /// Shared by `init(rows:)` and the parser, which names lines and columns instead of indices.
    init(validating rows: [[Double]], locate: (Int, Int) -> String,
         rowName: (Int) -> String = { "row \($0)" }) throws(BandwidthMatrixError) {
        let n = rows.count
        guard n > 0 else { throw BandwidthMatrixError("a bandwidth matrix needs at least one worker") }
        for (i, row) in rows.enumerated() where row.count != n {
            throw BandwidthMatrixError("\(rowName(i)) has \(row.count) values, expected \(n): the matrix must be square (one row and one column per worker)")
        }
        var values = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n where j != i {
                let b = rows[i][j]
                guard b.isFinite else { throw BandwidthMatrixError("\(locate(i, j)): bandwidth must be finite, got \(b)") }
                guard b >= 0 else { throw BandwidthMatrixError("\(locate(i, j)): bandwidth must not be negative, got \(b)") }
                if j < i, rows[j][i] != b {
                    throw BandwidthMatrixError("\(locate(j, i)) is \(rows[j][i]) but \(locate(i, j)) is \(b): the matrix must be symmetric")
                }
                values[i * n + j] = b
            }
        }
        self.init(workers: n, unchecked: values)
    }

    /// For generators that build a valid matrix themselves.
    init(workers: Int, unchecked values: [Double]) {
        precondition(values.count == workers * workers)
        self.workers = workers
        self.values = values
    }

    /// Bandwidth of the link between i and j; 0 when i == j.
    public subscript(i: Int, j: Int) -> Double { values[i * workers + j] }

    public var rows: [[Double]] {
        (0..<workers).map { i in Array(values[i * workers ..< (i + 1) * workers]) }
    }
}

extension BandwidthMatrix: CustomStringConvertible {
    /// One row a line, space separated: `init(parsing:)` reads it back exactly.
    public var description: String {
        rows.map { $0.map { "\($0)" }.joined(separator: " ") }.joined(separator: "\n")
    }
}

public struct BandwidthMatrixError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
