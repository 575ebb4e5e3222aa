extension BandwidthMatrix {
    /// One row of the matrix a line; values separated by whitespace and/or commas; `#` starts
    /// a comment; blank lines are skipped. Errors name the line and the column (counting values,
    /// from 1). Diagonal entries must be numbers but their values are ignored.
    public init(parsing text: String) throws(BandwidthMatrixError) {
        var rows: [[Double]] = []
        var lineNumbers: [Int] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let content = rawLine.prefix { $0 != "#" }
            let tokens = content.split { $0 == "," || $0.isWhitespace }
            if tokens.isEmpty { continue }
            var row: [Double] = []
            row.reserveCapacity(tokens.count)
            for (column, token) in tokens.enumerated() {
                guard let value = Double(token) else {
                    throw BandwidthMatrixError("line \(line), column \(column + 1): \(String(token).debugDescription) is not a number")
                }
                row.append(value)
            }
            rows.append(row)
            lineNumbers.append(line)
        }
        guard !rows.isEmpty else { throw BandwidthMatrixError("no rows: a bandwidth matrix needs at least one worker") }
        try self.init(validating: rows,
                      locate: { i, j in "line \(lineNumbers[i]), column \(j + 1)" },
                      rowName: { i in "line \(lineNumbers[i])" })
    }
}
