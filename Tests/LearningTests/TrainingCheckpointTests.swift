import Foundation
@testable import Learning
import Testing

@Suite struct TrainingCheckpointTests {
    static let network = (layout: Network(.mlp, maxBatch: 1).layout, parameters: Network(.mlp, maxBatch: 1).initialParameters(seed: 3))

    static func store(keep: Int = 2) -> CheckpointStore {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gossipfl-ckpt-\(UUID().uuidString)").path
        return CheckpointStore(directory: directory, architecture: .mlp, layout: network.layout, keep: keep)
    }

    static func state(round: Int, run: String = "run-1") -> TrainingState {
        let p = network.parameters
        return TrainingState(round: round, parameters: p.map { $0 + Float(round) }, velocity: p.map { $0 * 0.5 }, learningRate: 0.049,
                             run: run)
    }

    @Test func savesAndResumesTheNewestAndKeepsTwo() throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        #expect(try store.loadLatest(run: "run-1") == nil)
        for round in [10, 20, 30] { try store.save(Self.state(round: round)) }
        #expect(store.rounds() == [20, 30])
        let (state, skipped) = try #require(try store.loadLatest(run: "run-1"))
        #expect(state == Self.state(round: 30) && skipped.isEmpty)
        // The model file is a plain state_dict (what PyTorch's load_state_dict takes).
        let model = try SafeTensors.read(path: store.path(round: 30) + "/model.safetensors")
        #expect(model.tensors.map(\.name) == Self.network.layout.map(\.name))
    }

    /// A flipped byte, a write cut short before its manifest, a manifest of another run: each is
    /// passed over, with the reason, for the previous good checkpoint.
    @Test func corruptOrUnfinishedCheckpointsFallBackToThePreviousOne() throws {
        let store = Self.store(keep: 5)
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        for round in [1, 2, 3, 4] { try store.save(Self.state(round: round)) }
        let model = store.path(round: 4) + "/model.safetensors"
        var bytes = [UInt8](FileManager.default.contents(atPath: model)!)
        bytes[bytes.count - 3] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: model))
        try FileManager.default.removeItem(atPath: store.path(round: 3) + "/manifest.json")
        try store.save(Self.state(round: 2, run: "run-2"))  // overwrites round 2 with another run's
        let (state, skipped) = try #require(try store.loadLatest(run: "run-1"))
        #expect(state.round == 1)
        #expect(skipped.count == 3)
        #expect(skipped[0].contains("round-000000004/model.safetensors does not match its checksum"))
        #expect(skipped[1].contains("no manifest"))
        #expect(skipped[2].contains("belongs to run \"run-2\""))
    }

    @Test func nothingUsableIsAClearError() throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        try store.save(Self.state(round: 5))
        try Data("{".utf8).write(to: URL(fileURLWithPath: store.path(round: 5) + "/manifest.json"))
        #expect { _ = try store.loadLatest(run: "run-1") } throws: { error in
            "\(error)".contains("no usable checkpoint") && "\(error)".contains("not a format-1 checkpoint manifest")
        }
        var bad = Self.state(round: 6)
        bad.velocity[7] = .nan
        #expect(throws: CheckpointError.self) { try store.save(bad) }
        #expect(throws: CheckpointError.self) { try CheckpointStore(directory: store.directory, architecture: .cnn,
                                                                     layout: Network(.cnn, maxBatch: 1).layout).load(round: 5, run: "run-1") }
    }
}
