@testable import Gossip
import Testing

@Suite struct BandwidthMatrixTests {
    static func parseError(_ text: String) -> String {
        do {
            _ = try BandwidthMatrix(parsing: text)
            return "parsed"
        } catch {
            return error.description
        }
    }

    static func rowsError(_ rows: [[Double]]) -> String {
        do {
            _ = try BandwidthMatrix(rows: rows)
            return "accepted"
        } catch {
            return error.description
        }
    }

    @Test func validRowsAndDiagonalIgnored() throws {
        let m = try BandwidthMatrix(rows: [[9, 1.5, 2], [1.5, .nan, 3], [2, 3, -1]])
        #expect(m.workers == 3)
        #expect(m[0, 1] == 1.5 && m[1, 0] == 1.5 && m[2, 1] == 3)
        #expect(m[1, 1] == 0 && m[0, 0] == 0)
        #expect(m.rows == [[0, 1.5, 2], [1.5, 0, 3], [2, 3, 0]])
    }

    @Test func invalidRowsAreRejectedWithReasons() {
        #expect(Self.rowsError([]).contains("at least one worker"))
        #expect(Self.rowsError([[0, 1], [1]]).contains("row 1 has 1 values, expected 2"))
        #expect(Self.rowsError([[0, 1, 2], [1, 0, 3]]).contains("square"))
        #expect(Self.rowsError([[0, 1], [2, 0]]).contains("symmetric"))
        #expect(Self.rowsError([[0, -1], [-1, 0]]).contains("negative"))
        #expect(Self.rowsError([[0, .infinity], [.infinity, 0]]).contains("finite"))
        #expect(Self.rowsError([[0, .nan], [.nan, 0]]).contains("entry [0][1]: bandwidth must be finite"))
    }

    @Test func parsesWhitespaceCommasAndComments() throws {
        let text = """
        # three workers, MB/s
        0, 1.5, 2    # worker 0

        1.5 0 3e0
          2,3,,0
        """
        let m = try BandwidthMatrix(parsing: text)
        #expect(m.rows == [[0, 1.5, 2], [1.5, 0, 3], [2, 3, 0]])
        #expect(try BandwidthMatrix(parsing: m.description) == m)
        #expect(try BandwidthMatrix(parsing: "0\n") .workers == 1)
    }

    @Test func parseErrorsNameLinesAndColumns() {
        #expect(Self.parseError("") .contains("no rows"))
        #expect(Self.parseError("# nothing\n\n") .contains("no rows"))
        #expect(Self.parseError("0 1\n1 x") == "line 2, column 2: \"x\" is not a number")
        #expect(Self.parseError("# header\n0 1 2\n1 0\n2 3 0").contains("line 3 has 2 values, expected 3"))
        #expect(Self.parseError("0 1 2\n1 0 3").contains("line 1 has 3 values, expected 2"))
        #expect(Self.parseError("0 1\n\n2 0") == "line 1, column 2 is 1.0 but line 3, column 1 is 2.0: the matrix must be symmetric")
        #expect(Self.parseError("0 -1\n-1 0") == "line 1, column 2: bandwidth must not be negative, got -1.0")
        #expect(Self.parseError("0 nan\nnan 0").hasPrefix("line 1, column 2: bandwidth must be finite"))
        #expect(Self.parseError("0 inf\ninf 0").contains("finite"))
    }

    @Test func uniformRandomIsSymmetricInRangeAndSeeded() {
        let m = BandwidthMatrix.uniformRandom(workers: 20, seed: 1)
        for i in 0..<20 {
            #expect(m[i, i] == 0)
            for j in 0..<20 where j != i {
                #expect(m[i, j] == m[j, i])
                #expect(m[i, j] >= 0 && m[i, j] < 5)
            }
        }
        #expect(BandwidthMatrix.uniformRandom(workers: 20, seed: 1) == m)
        #expect(BandwidthMatrix.uniformRandom(workers: 20, seed: 2) != m)
        #expect((try? BandwidthMatrix(rows: m.rows)) == m)
    }

    @Test func heterogeneousGenerators() {
        let log = BandwidthMatrix.logUniform(workers: 30, seed: 3, range: 0.1...100)
        let logValues = (0..<30).flatMap { i in ((i + 1)..<30).map { log[i, $0] } }
        #expect(logValues.allSatisfy { (0.1...100).contains($0) })
        // Log-uniform: about a third of links in each decade.
        #expect(logValues.filter { $0 < 1 }.count > logValues.count / 5)
        #expect(logValues.filter { $0 > 10 }.count > logValues.count / 5)

        let sites = BandwidthMatrix.clustered(workers: 12, clusters: 3, seed: 3)
        for i in 0..<12 {
            for j in 0..<12 where j != i {
                #expect(sites[i, j] == sites[j, i])
                #expect(i % 3 == j % 3 ? sites[i, j] >= 10 : sites[i, j] < 2)
            }
        }
    }
}
