import Durable
import Foundation

/// What a training peer needs to resume: its model, its optimiser's momentum and where it was.
public struct TrainingState: Equatable, Sendable {
    public var round: Int
    public var parameters: [Float]
    public var velocity: [Float]
    public var learningRate: Float
    /// The training run the state belongs to (a peer must not resume another run's model).
    public var run: String

    public init(round: Int, parameters: [Float], velocity: [Float], learningRate: Float, run: String) {
        self.round = round
        self.parameters = parameters
        self.velocity = velocity
        self.learningRate = learningRate
        self.run = run
    }
}

public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Checkpoints in a directory, one subdirectory per round (`round-000000042/`): `model.safetensors`
/// (the model's `state_dict`, loadable by PyTorch as it is), `optimizer.safetensors` (the momentum
/// buffers under the same names) and `manifest.json` (run, round, learning rate and the CRC32C of
/// both files). Each file is written atomically and the manifest last, so a checkpoint counts only
/// once it is whole: a crash mid-write leaves the previous one as the newest that verifies.
public struct CheckpointStore: Sendable {
    public let directory: String
    public let architecture: Architecture
    public let layout: [ParameterTensor]
    /// Checkpoints kept after a save (the newest ones).
    public let keep: Int

    public init(directory: String, architecture: Architecture, layout: [ParameterTensor], keep: Int = 2) {
        precondition(keep >= 1)
        self.directory = directory
        self.architecture = architecture
        self.layout = layout
        self.keep = keep
    }

    public func save(_ state: TrainingState) throws(CheckpointError) {
        let count = layout.reduce(0) { $0 + $1.count }
        guard state.round >= 0, state.parameters.count == count, state.velocity.count == count else {
            throw CheckpointError("a \(architecture) checkpoint needs \(count) parameters and momentum values at a round ≥ 0")
        }
        guard state.parameters.allSatisfy(\.isFinite), state.velocity.allSatisfy(\.isFinite) else {
            throw CheckpointError("refusing to checkpoint a model with NaN or infinite values (round \(state.round))")
        }
        let folder = path(round: state.round)
        var checksums: [String: UInt32] = [:]
        do {
            for (file, values) in [("model.safetensors", state.parameters), ("optimizer.safetensors", state.velocity)] {
                let bytes = try SafeTensors.encode(StateDict.tensors(values, layout: layout), metadata: ["architecture": architecture.rawValue])
                try AtomicFile.write(bytes, to: "\(folder)/\(file)")
                checksums[file] = CRC32C.checksum(bytes)
            }
            let manifest: [String: Any] = [
                "format": 1, "run": state.run, "architecture": architecture.rawValue, "round": state.round,
                "learning_rate": Double(state.learningRate), "crc32c": checksums.mapValues { Int($0) },
            ]
            let json = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
            try AtomicFile.write([UInt8](json), to: "\(folder)/manifest.json")
        } catch let error as SafeTensorsError {
            throw CheckpointError("\(folder): \(error.reason)")
        } catch {
            throw CheckpointError("\(folder): \(error)")
        }
        for old in rounds().dropLast(keep) { try? FileManager.default.removeItem(atPath: path(round: old)) }
    }

    /// The newest checkpoint of `run` that verifies, and why any newer one was passed over; nil
    /// when there is none at all. A directory with checkpoints but none usable is an error.
    public func loadLatest(run: String) throws(CheckpointError) -> (state: TrainingState, skipped: [String])? {
        var skipped: [String] = []
        for round in rounds().reversed() {
            do {
                return (try load(round: round, run: run), skipped)
            } catch {
                skipped.append(error.description)
            }
        }
        if skipped.isEmpty { return nil }
        throw CheckpointError("no usable checkpoint in \(directory): " + skipped.joined(separator: "; "))
    }

    public func load(round: Int, run: String) throws(CheckpointError) -> TrainingState {
        let folder = path(round: round)
        guard let manifestBytes = try? AtomicFile.read("\(folder)/manifest.json") else {
            throw CheckpointError("\(folder): no manifest (a write that did not finish)")
        }
        guard let manifest = (try? JSONSerialization.jsonObject(with: Data(manifestBytes))) as? [String: Any],
              manifest["format"] as? Int == 1, let crcs = manifest["crc32c"] as? [String: Int],
              let storedRound = manifest["round"] as? Int, let storedRun = manifest["run"] as? String,
              let learningRate = manifest["learning_rate"] as? Double else {
            throw CheckpointError("\(folder)/manifest.json is not a format-1 checkpoint manifest")
        }
        guard storedRun == run else { throw CheckpointError("\(folder) belongs to run \(storedRun.debugDescription), not \(run.debugDescription)") }
        guard storedRound == round, manifest["architecture"] as? String == architecture.rawValue else {
            throw CheckpointError("\(folder) is round \(storedRound) of a \(manifest["architecture"] ?? "?") model, not round \(round) of a \(architecture)")
        }
        var values: [String: [Float]] = [:]
        for file in ["model.safetensors", "optimizer.safetensors"] {
            guard let bytes = try? AtomicFile.read("\(folder)/\(file)") else { throw CheckpointError("\(folder)/\(file) is missing") }
            guard let crc = crcs[file], UInt32(exactly: crc) == CRC32C.checksum(bytes) else {
                throw CheckpointError("\(folder)/\(file) does not match its checksum (corrupt)")
            }
            do {
                values[file] = try StateDict.values(from: SafeTensors.decode(bytes, path: "\(folder)/\(file)").tensors, layout: layout,
                                                    architecture: architecture, path: "\(folder)/\(file)")
            } catch { throw CheckpointError("\(error)") }
        }
        return TrainingState(round: round, parameters: values["model.safetensors"]!, velocity: values["optimizer.safetensors"]!,
                             learningRate: Float(learningRate), run: run)
    }

    /// Rounds with a checkpoint directory, oldest first.
    public func rounds() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("round-"), name.count == 15 else { return nil }
            return Int(name.dropFirst(6))
        }.sorted()
    }

    func path(round: Int) -> String { "\(directory)/" + String(format: "round-%09d", round) }
}
