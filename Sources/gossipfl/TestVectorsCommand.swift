import ArgumentParser
import Foundation
import Gossip
import TrainingNode

/// Writes the algorithm's reference vectors (Tests/vectors/), which other implementations check.
struct TestVectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-vectors",
        abstract: "Write the shared test vectors (seeds, masks, matchings, merges, round plans, data splits and batches) as JSON.",
        discussion: "The Swift tests check that the committed files are what this build computes; the Python node's tests check its port against them.")

    @Option(help: "Directory to write seeds.json, masks.json, matchings.json, merges.json, plans.json, data.json into.") var out = "Tests/vectors"

    func run() throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try write(ReferenceVectors.standardSeeds(), "seeds.json")
        try write(ReferenceVectors.standardMasks(), "masks.json")
        try write(ReferenceVectors.standardMatchings(), "matchings.json")
        try write(ReferenceVectors.standardMerges(), "merges.json")
        try write(PlanVectors.standard(), "plans.json")
        try write(DataVectors.standard(), "data.json")
    }

    private func write(_ value: some Encodable, _ name: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(value)
        data.append(0x0A)
        let path = out + "/" + name
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        print("wrote \(path) (\(data.count) bytes)")
    }
}
