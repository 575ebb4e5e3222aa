import Foundation
@testable import Gossip
import Testing

/// Tests/vectors/ is the algorithm's contract with the Python node: the committed files must be
/// what this code computes (regenerate with `gossipfl test-vectors` after a deliberate change,
/// and change the Python port with it).
@Suite struct ReferenceVectorsTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../vectors").standardized

    static func committed<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    @Test func seedsAreCurrent() throws {
        #expect(try Self.committed("seeds.json", as: ReferenceVectors.Seeds.self) == ReferenceVectors.standardSeeds())
    }

    @Test func masksAreCurrent() throws {
        let masks = try Self.committed("masks.json", as: ReferenceVectors.Masks.self)
        #expect(masks == (try ReferenceVectors.standardMasks()))
        // The MLP's masks at ρ = 0.01: k = max(1, ⌊0.01 n⌋) a tensor, 1568 + 2 + 400 + 2 + 20 + 1 values.
        #expect(masks.cases[1].indices.count == 1993)
    }

    @Test func matchingsAreCurrent() throws {
        let matchings = try Self.committed("matchings.json", as: ReferenceVectors.Matchings.self)
        #expect(matchings == (try ReferenceVectors.standardMatchings()))
        // The odd case rests one worker a round.
        #expect(matchings.cases[2].rounds.allSatisfy { $0.resting.count == 1 })
    }

    @Test func mergesAreCurrent() throws {
        #expect(try Self.committed("merges.json", as: ReferenceVectors.Merges.self) == (try ReferenceVectors.standardMerges()))
    }
}
