@testable import Learning
import Seeded
import Testing

@Suite struct NetworkTests {
    /// Names, shapes and order of PyTorch's state_dict for the same torch.nn modules.
    @Test func layoutsAreTheStateDicts() {
        let cnn = Network(.cnn, maxBatch: 1)
        #expect(cnn.layout.map(\.name) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                            "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        #expect(cnn.layout.map(\.shape) == [[32, 1, 5, 5], [32], [64, 32, 5, 5], [64], [512, 3136], [512], [10, 512], [10]])
        #expect(cnn.parameterCount == 1_663_370)
        #expect(Network(.mlp, maxBatch: 1).parameterCount == 199_210)
        #expect(Network(.logreg, maxBatch: 1).layout.map(\.name) == ["fc.weight", "fc.bias"])
    }

    /// Slices on two threads give the one-thread loss and gradient up to the order of additions.
    @Test func threadedSlicesMatchOneThread() {
        for architecture in [Architecture.mlp, .cnn] {
            let one = Network(architecture, maxBatch: 7), two = Network(architecture, maxBatch: 7, threads: 2)
            var rng = SplitMix64(seed: 3)
            let parameters = one.initialParameters(seed: 4)
            let inputs = (0..<(7 * one.inputSize)).map { _ in Float(rng.unitDouble() * 2 - 1) }
            let labels = (0..<7).map { _ in UInt8(rng.next(below: 10)) }
            var g1 = [Float](repeating: 0, count: one.parameterCount), g2 = g1
            let l1 = one.lossAndGradient(parameters: parameters, inputs: inputs, labels: labels, batch: 7, gradient: &g1)
            let l2 = two.lossAndGradient(parameters: parameters, inputs: inputs, labels: labels, batch: 7, gradient: &g2)
            #expect(abs(l1 - l2) < 1e-6)
            let largest = g1.map(abs).max()!
            #expect(zip(g1, g2).allSatisfy { abs($0 - $1) <= 1e-5 * largest }, "\(architecture)")
            #expect(one.predict(parameters: parameters, inputs: inputs, batch: 7) == two.predict(parameters: parameters, inputs: inputs, batch: 7))
            // A batch smaller than the thread count uses fewer slices.
            _ = two.lossAndGradient(parameters: parameters, inputs: inputs, labels: labels, batch: 1, gradient: &g2)
            _ = one.lossAndGradient(parameters: parameters, inputs: inputs, labels: labels, batch: 1, gradient: &g1)
            #expect(g1 == g2)
        }
        #expect(Network.slices(7, 2) == [0..<3, 3..<7] && Network.slices(1, 2) == [0..<1] && Network.slices(50, 1) == [0..<50])
    }

    @Test func checkpointsRoundTripAndRejectOtherModels() throws {
        let network = Network(.mlp, maxBatch: 1)
        let parameters = network.initialParameters(seed: 1)
        let path = "/tmp/gossipfl-network-\(UInt32.random(in: 0...UInt32.max)).safetensors"
        defer { unlink(path) }
        try network.save(parameters, to: path)
        #expect(try network.load(path: path) == parameters)
        #expect(throws: SafeTensorsError.self) { _ = try Network(.cnn, maxBatch: 1).load(path: path) }
        var tensors = network.tensors(parameters)
        tensors[0].values[3] = .nan
        #expect(throws: SafeTensorsError.self) { _ = try network.parameters(from: tensors, path: "nan") }
    }
}

import Glibc
